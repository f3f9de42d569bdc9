"""Read a file into LangChain ``Document``s of plain text, one per part of a section.

Thin adapters on the underlying libraries, one module a family of formats beside this one
(``markup``: HTML; ``pdf``; ``office``: Word, RTF; ``opendoc``: OpenDocument text and
slides; ``slides``: PowerPoint; ``sheets``: spreadsheets and CSV; ``epub``; ``mail``;
``ocr``: scanned pages and images), registered below by file suffix, rather than
``langchain-community``'s loaders: that package is being sunset and warns on import, and these
adapters let a bad file fail with one clear reason. Each Document carries its ``offset`` into
the text citations point into (the file itself for plain text and Markdown, the extracted
text for the others), its ``section`` path and, where a document has pages, its ``page``.

Plain text and Markdown are streamed: a file of any size comes as consecutive pieces cut at
paragraph breaks, so memory stays bounded. Other formats must be parsed whole, and are
refused above ``MAX_PARSED_BYTES``.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document

from qa.documents import epub, mail, office, opendoc, sheets, slides
from qa.documents.blocks import Reading
from qa.documents.markup import MarkdownReader, Part, html_parts
from qa.documents.ocr import IMAGE_SUFFIXES, image_parts
from qa.documents.pdf import pdf_parts
from qa.errors import BadDocumentError

log = logging.getLogger(__name__)

# How files are read; part of every file's fingerprint, so that a new way of reading
# re-indexes the files it reads differently.
READING = "7"
MAX_PARSED_BYTES = 50 * 1024 * 1024  # parsed formats are read in memory: larger is refused
BLOCK = 1 << 20  # bytes read at a time
PIECE = 1 << 20  # characters of plain text handed on at a time (cut at a paragraph break)


def _check_binary(head: bytes) -> None:
    if b"\x00" in head[:8192]:
        raise BadDocumentError("binary file")


def _blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while block := f.read(BLOCK):
            yield block


def _decoded(path: Path, digest=None) -> Iterator[str]:
    """The file's text, block by block (each block also fed to ``digest``); a decoding
    error names its byte offset."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    offset = 0
    for block in _blocks(path):
        if digest is not None:
            digest.update(block)
        if offset == 0:
            _check_binary(block)
        try:
            yield decoder.decode(block)
        except UnicodeDecodeError as e:
            raise BadDocumentError(f"not UTF-8 text (byte {offset + e.start})") from None
        offset += len(block)
    try:
        yield decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise BadDocumentError("not UTF-8 text (cut off at the end)") from None


def _cut(text: str) -> int:
    """Where to end a piece: after the last paragraph break in its second half, else the
    last line break, else the last space, else at PIECE characters."""
    window = text[PIECE // 2 : PIECE]
    for sep in ("\n\n", "\n", " "):
        if (at := window.rfind(sep)) >= 0:
            return PIECE // 2 + at + len(sep)
    return PIECE


def _pieces(path: Path) -> Iterator[tuple[int, str]]:
    """(offset, text) pieces of a plain-text file, so that chunks rarely straddle two."""
    buffer, offset = "", 0
    for text in _decoded(path):
        buffer += text
        while len(buffer) > PIECE:
            cut = _cut(buffer)
            yield offset, buffer[:cut]
            buffer, offset = buffer[cut:], offset + cut
    if buffer:
        yield offset, buffer


def _html(path: Path, reading: Reading) -> list[Part]:
    data = path.read_bytes()
    _check_binary(data)
    return html_parts(data)


Reader = Callable[[Path, Reading], list[Part]]
READERS: dict[str, Reader] = {
    ".html": _html,
    ".htm": _html,
    ".pdf": pdf_parts,
    ".docx": office.docx_parts,
    ".rtf": office.rtf_parts,
    ".odt": opendoc.odt_parts,
    ".odp": opendoc.odp_parts,
    ".pptx": slides.pptx_parts,
    ".csv": sheets.csv_parts,
    ".tsv": sheets.csv_parts,
    ".xlsx": sheets.xlsx_parts,
    ".xlsm": sheets.xlsx_parts,
    ".xls": sheets.xls_parts,
    ".ods": sheets.ods_parts,
    ".epub": epub.epub_parts,
    ".eml": mail.eml_parts,
    ".mbox": mail.mbox_parts,
    **dict.fromkeys(IMAGE_SUFFIXES, image_parts),
}
# Read by OCR, in whole or in part: their text depends on whether OCR is on.
OCR_READ = frozenset({".pdf", *IMAGE_SUFFIXES})
MARKDOWN = {".md", ".markdown"}
STREAMED = {".txt", *MARKDOWN}
SUFFIXES = frozenset(READERS) | STREAMED  # every kind of file docqa reads
# Office's own zip formats; one that is an OLE container instead is Office's encryption of it.
ZIPPED_OFFICE = {".docx", ".pptx", ".xlsx", ".xlsm"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _is_ole(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(len(OLE_MAGIC)) == OLE_MAGIC


def supported(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES


class FileLoader(BaseLoader):
    """Loads one supported file; every Document's ``source`` is ``name`` and its
    ``offset`` is where its text starts in the file's text."""

    def __init__(self, path: Path, name: str, reading: Reading = Reading()) -> None:
        self.path = path
        self.name = name
        self.reading = reading
        self.suffix = path.suffix.lower()
        self.streamed = self.suffix in STREAMED

    def fingerprint(self) -> str:
        """sha256 of the file's bytes, read in blocks. Plain text is also checked here
        (binary, not UTF-8, blank), so that it cannot fail half-way through loading."""
        size = self.path.stat().st_size
        if size == 0:
            raise BadDocumentError("empty file")
        if not self.streamed and size > MAX_PARSED_BYTES:
            raise BadDocumentError(f"larger than {MAX_PARSED_BYTES // 2**20} MB")
        digest = hashlib.sha256(f"docqa reading {READING}\0".encode())
        if self.suffix in OCR_READ and not self.reading.ocr:
            if self.suffix in IMAGE_SUFFIXES:
                raise BadDocumentError("an image, and OCR is off (QA_OCR)")
            digest.update(b"no OCR\0")  # turning OCR on or off re-reads the file
        if not self.streamed:
            for block in _blocks(self.path):
                digest.update(block)
            return digest.hexdigest()
        blank = True
        for text in _decoded(self.path, digest):  # to the end: the hash needs every byte
            blank = blank and not text.strip()
        if blank:
            raise BadDocumentError("no text in it")
        return digest.hexdigest()

    def parts(self) -> Iterator[Part]:
        suffix = self.suffix
        if suffix in MARKDOWN:
            reader = MarkdownReader()
            for offset, text in _pieces(self.path):
                yield from reader.parts(text, offset)
        elif self.streamed:
            yield from (Part(offset, text) for offset, text in _pieces(self.path))
        else:
            if self.path.stat().st_size > MAX_PARSED_BYTES:
                raise BadDocumentError(f"larger than {MAX_PARSED_BYTES // 2**20} MB")
            if suffix in ZIPPED_OFFICE and _is_ole(self.path):
                raise BadDocumentError("password-protected: save it without a password to index it")
            parts = READERS[suffix](self.path, self.reading)
            if not any(p.text.strip() for p in parts):
                raise BadDocumentError("no text in it")
            yield from parts

    def text(self) -> str:
        """The document's text as every offset counts it: a plain-text file's own text; a
        Markdown file's with its markup blanked as its parts blank it (same length, so the
        offsets hold); else the parts a reader extracted, a blank line between them."""
        if self.suffix in MARKDOWN:
            text, pieces, at = "".join(_decoded(self.path)), [], 0
            for part in self.parts():
                pieces += [text[at : part.offset], part.text]
                at = part.offset + len(part.text)
            return "".join(pieces) + text[at:]
        if self.streamed:
            return "".join(_decoded(self.path))
        return "\n\n".join(part.text for part in self.parts())

    def lazy_load(self) -> Iterator[Document]:
        for part in self.parts():
            meta = {"source": self.name, "offset": part.offset, "section": part.section}
            if part.confidence is not None:
                meta["ocr_confidence"] = part.confidence
            yield Document(page_content=part.text, metadata=meta | {"page": part.page})


@contextmanager
def reading(name: str) -> Iterator[None]:
    """A reader's unexpected error (a bug, or a file no reader foresaw) becomes the file's
    skip, in one line (BadDocumentError); the traceback goes to the debug log. Only wrap
    what reads the file: the index's writes must still stop ingest when they fail."""
    try:
        yield
    except BadDocumentError:
        raise
    except Exception as e:
        log.debug("reading %s failed", name, exc_info=e)
        said = " ".join(str(e).split())
        why = f"{type(e).__name__}: {said}" if said else type(e).__name__
        raise BadDocumentError(f"could not read it ({why})") from e
