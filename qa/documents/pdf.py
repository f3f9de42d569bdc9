"""PDF read as a person reads it: page by page, without running headers, footers and page
numbers, words hyphenated at a line end joined, paragraphs reflowed, and each page's parts
under the section of the PDF's outline (its bookmarks) they belong to.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections import Counter
from pathlib import Path
from statistics import quantiles

from qa.documents.blocks import Reading
from qa.documents.markup import Outline, Part
from qa.documents.ocr import OcrUnavailableError, pdf_pages
from qa.errors import BadDocumentError

EDGE = 2  # lines at the top and at the bottom of a page that may be a running header/footer
RUNNING = 3  # an edge line seen on this many pages (digits aside) runs through the document
# A line of a table of contents or an index: a title, dot leaders, page numbers.
_LEADERS = re.compile(r"(?:\.\s?){4,}\s*[\dxvi]+(?:,\s*\d+)*\s*$")
_PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?(?:\d+|[ivxlcdm]+)(?:\s*(?:/|of)\s*\d+)?\s*$", re.I)


class _Named(logging.Filter):
    """pypdf warns without saying of which file ("EOF marker not found"): each of its
    warnings is prefixed with the name of the file that the warning thread is reading."""

    reading = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        if name := getattr(self.reading, "name", None):
            record.msg, record.args = f"{name}: {record.getMessage()}", None
        return True


_NAMED = _Named()


def _name_pypdf_warnings() -> None:
    # pypdf logs to the logger of the module that warns (pypdf._reader, …); a filter on
    # their parent would not see them.
    for module in [m for m in sys.modules if m == "pypdf" or m.startswith("pypdf.")]:
        logger = logging.getLogger(module)
        if _NAMED not in logger.filters:
            logger.addFilter(_NAMED)


def _pattern(line: str) -> str:
    """A line with its numbers masked: "Chapter 2: Basics 14" runs on as "Chapter #: Basics #"."""
    return re.sub(r"\d+", "#", " ".join(line.split()).lower())


def _edges(lines: list[str]) -> list[int]:
    """Indexes of the lines at the top and the bottom of a page."""
    return sorted({*range(min(EDGE, len(lines))), *range(max(0, len(lines) - EDGE), len(lines))})


def _folio(line: str) -> int | None:
    """The number a line starts or ends with, as a page number would."""
    m = re.match(r"^\s*(\d+)\b", line) or re.search(r"\b(\d+)\s*$", line)
    return int(m[1]) if m else None


def _numbering(pages: list[list[str]]) -> int | None:
    """How printed page numbers relate to page indexes (index - number), where the edge lines
    of several pages agree on it: such a line carries its page's number."""
    votes = Counter(
        index - n
        for index, lines in enumerate(pages)
        for i in _edges(lines)
        if (n := _folio(lines[i])) is not None
    )
    best = votes.most_common(1)
    return best[0][0] if best and best[0][1] >= RUNNING else None


def _body(lines: list[str], running: set[str], folio: int | None) -> list[str]:
    """A page's lines less running headers, footers and page numbers at its edges (a line
    that recurs on several pages, digits aside, or that carries the page's printed number),
    and less the lines of a table of contents or an index."""
    keep = list(lines)
    for i in _edges(lines):
        line = lines[i]
        numbered = folio is not None and _folio(line) == folio  # no folio: no line is one
        if _PAGE_NUMBER.match(line) or _pattern(line) in running or numbered:
            keep[i] = ""
    return [line for line in keep if line.strip() and not _LEADERS.search(line)]


def _heading(title: str) -> re.Pattern:
    """A line that is the title, perhaps after a number ("1.7 Getting help")."""
    words = re.escape(" ".join(title.split())).replace(r"\ ", r"\s+")
    return re.compile(rf"^[^\n]{{0,12}}?{words}\s*$", re.M | re.I)


def _reflow(lines: list[str], width: float, titles: list[str]) -> str:
    """Lines joined into paragraphs: a line nearly as wide as the text runs on into the next
    (a word hyphenated at its end is joined whole); a shorter line, or one before a heading
    of the outline, ends its paragraph."""
    headings = [_heading(t) for t in titles]
    out = ""
    for i, line in enumerate(lines):
        line = line.rstrip()
        last = i == len(lines) - 1
        if last or len(line) < 0.8 * width or any(h.match(lines[i + 1]) for h in headings):
            out += line + ("" if last else "\n")
        elif re.search(r"[a-z]-$", line) and lines[i + 1][:1].islower():
            out += line[:-1]
        else:
            out += line + " "
    return out


def _sections(reader) -> list[tuple[int, int, str]]:
    """(page index, depth, title) of every outline entry, in order."""
    found: list[tuple[int, int, str]] = []

    def walk(items, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            try:
                page = reader.get_destination_page_number(item)
            except Exception:  # a broken bookmark is no reason to refuse the document
                continue
            if page is not None and page >= 0:
                found.append((page, depth, str(item.title or "")))

    try:
        walk(reader.outline, 1)
    except Exception:  # pypdf raises many kinds of error on damaged outlines
        return []
    return sorted(found, key=lambda x: x[0])


def _starts(text: str, starting: list[tuple[int, str]]) -> list[tuple[int, int, str]]:
    """(offset, depth, title) where each outline entry of the page opens its section: where
    its title starts a line of the page's text, else where the entry before it on the page
    opens, the top of the page for the first (its destination is this page, not the next)."""
    found, at = [], 0
    for depth, title in starting:
        m = _heading(title).search(text)
        at = m.start() if m else at
        found.append((at, depth, title))
    return sorted(found, key=lambda s: s[0])


def _scanned(path: Path, pages: list[list[str]], reading: Reading) -> dict[int, float]:
    """The pages without text read by OCR, in place; {page index: OCR confidence}. Where OCR
    is off or missing, a PDF with some text keeps that text, a PDF with none is refused."""
    blank = [i for i, lines in enumerate(pages) if not any(line.strip() for line in lines)]
    if not blank:
        return {}
    try:
        found = pdf_pages(path, blank, reading)
    except OcrUnavailableError:
        if len(blank) == len(pages):
            raise
        return {}
    for index, page in found.items():
        pages[index] = page.lines
    return {index: page.confidence for index, page in found.items()}


def pdf_parts(path: Path, reading: Reading = Reading()) -> list[Part]:
    """The PDF's text, one part per page and section, each knowing its page number; pages
    without text are read by OCR."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    _name_pypdf_warnings()
    _NAMED.reading.name = path.name
    try:
        reader = PdfReader(path)
        # A PDF with only an owner password opens with the empty user password.
        if reader.is_encrypted and not reader.decrypt(""):
            raise FileNotDecryptedError
        pages = [(page.extract_text() or "").splitlines() for page in reader.pages]
        outline = _sections(reader)
        title = str((reader.metadata or {}).get("/Title") or "")
    except FileNotDecryptedError:
        raise BadDocumentError("password-protected PDF") from None
    except (PdfReadError, ValueError, KeyError, OSError) as e:
        raise BadDocumentError(f"unreadable PDF ({e})") from None
    finally:
        _NAMED.reading.name = None
    confidence = _scanned(path, pages, reading)
    edges = Counter(_pattern(line) for lines in pages for line in {lines[i] for i in _edges(lines)})
    running = {p for p, n in edges.items() if n >= RUNNING and p.strip("# ")}
    numbering = _numbering(pages)
    bodies = [
        _body(lines, running, None if numbering is None else index - numbering)
        for index, lines in enumerate(pages)
    ]
    lengths = [len(line) for lines in bodies for line in lines]
    width = quantiles(lengths, n=10)[8] if len(lengths) > 1 else 80.0  # a full line's width
    parts: list[Part] = []
    state = Outline(" ".join(title.split()))
    offset = 0
    for index, lines in enumerate(bodies):
        starting = [(d, t) for p, d, t in outline if p == index]
        text = _reflow(lines, width, [t for _, t in starting]).strip()
        starts = _starts(text, starting)
        bounds = sorted({0, *(at for at, _, _ in starts)})
        for start, end in zip(bounds, [*bounds[1:], len(text)], strict=True):
            for depth, title in ((d, t) for at, d, t in starts if at == start):
                state.enter(depth, title)
            piece = text[start:end].strip()
            if piece:
                offset += 2 if parts else 0
                parts.append(Part(offset, piece, state.path, index + 1, confidence.get(index)))
                offset += len(piece)
    return parts
