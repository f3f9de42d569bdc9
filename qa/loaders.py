"""Read one file into one LangChain ``Document`` of plain text.

Thin adapters on the underlying libraries (pypdf, BeautifulSoup) rather than
``langchain-community``'s loaders: that package is being sunset and warns on import, and
these adapters let a bad file fail with one clear reason. The text they return is what
citation offsets point into.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document

from qa.errors import BadDocumentError

# Read in full only up to this size; a larger file is refused, not loaded into memory.
MAX_FILE_BYTES = 50 * 1024 * 1024


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise BadDocumentError("binary file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadDocumentError(f"not UTF-8 text (byte {e.start})") from None


def _text(path: Path) -> str:
    return _decode(path.read_bytes())


def _html(path: Path) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(path.read_bytes()), "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    text = soup.get_text("\n")
    # Collapse the blank runs markup leaves behind, keeping paragraph breaks.
    lines = (" ".join(line.split()) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _pdf(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as e:
        raise BadDocumentError(f"unreadable PDF ({e})") from None
    return "\n\n".join(p.strip() for p in pages)


READERS: dict[str, Callable[[Path], str]] = {
    ".txt": _text,
    ".md": _text,
    ".markdown": _text,
    ".html": _html,
    ".htm": _html,
    ".pdf": _pdf,
}


def supported(path: Path) -> bool:
    return path.suffix.lower() in READERS


class FileLoader(BaseLoader):
    """Loads one supported file as a single Document whose ``source`` is ``name``."""

    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name

    def lazy_load(self) -> Iterator[Document]:
        size = self.path.stat().st_size
        if size == 0:
            raise BadDocumentError("empty file")
        if size > MAX_FILE_BYTES:
            raise BadDocumentError(f"larger than {MAX_FILE_BYTES // 2**20} MB")
        text = READERS[self.path.suffix.lower()](self.path)
        if not text.strip():
            raise BadDocumentError("no text in it")
        yield Document(page_content=text, metadata={"source": self.name})
