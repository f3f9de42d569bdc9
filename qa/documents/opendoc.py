"""OpenDocument text (.odt) and slides (.odp), by odfpy: an .odt read as a Word document is
(heading path as section, list items and table rows one a line), an .odp as a PowerPoint deck
(``Slide N › title``, speaker notes included and marked).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

from qa.documents.blocks import Block, Reading, assemble, table_lines
from qa.documents.markup import Outline, Part
from qa.documents.slides import Slide, deck_parts
from qa.errors import BadDocumentError

TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
PRESENTATION = "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"


def _load(path: Path):
    from odf.opendocument import load

    try:
        return load(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        # A password-protected file keeps its content encrypted: odfpy cannot parse it.
        raise BadDocumentError(f"unreadable OpenDocument file ({e or type(e).__name__})") from None
    except Exception as e:  # odfpy's XML parser raises its own errors on damaged content
        raise BadDocumentError(f"unreadable OpenDocument file ({type(e).__name__})") from None


def _text(element) -> str:
    from odf import teletype

    return teletype.extractText(element)


def _children(element, ns: str | None = None, name: str | None = None) -> Iterator:
    for child in element.childNodes:
        if getattr(child, "qname", None) is None:
            continue
        if (ns is None or child.qname[0] == ns) and (name is None or child.qname[1] == name):
            yield child


def _list_lines(element, depth: int = 0) -> Iterator[str]:
    """A list's items, one a line, nested lists indented."""
    for item in _children(element, TEXT):
        for child in _children(item):
            if child.qname == (TEXT, "list"):
                yield from _list_lines(child, depth + 1)
            elif text := " ".join(_text(child).split()):
                yield "  " * depth + "- " + text


def _inline(element, asides: list[str]) -> str:
    """A paragraph's own text, as teletype reads it; what is anchored in it but not part of
    its sentence goes to ``asides``, each a block of its own after it: a note's body (its
    mark stays in the sentence: "dawn.1 Logs"), a text box's or a shape's paragraphs."""
    said = []
    for child in element.childNodes:
        kind = getattr(child, "qname", None)
        if kind is None:
            said.append(getattr(child, "data", ""))
        elif kind == (TEXT, "line-break"):
            said.append("\n")
        elif kind == (TEXT, "tab"):
            said.append("\t")
        elif kind == (TEXT, "s"):
            said.append(" " * int(child.getAttrNS(TEXT, "c") or 1))
        elif kind == (TEXT, "note"):
            mark = "".join(_text(c) for c in _children(child, TEXT, "note-citation"))
            body = [
                _inline(p, asides)
                for b in _children(child, TEXT, "note-body")
                for p in _children(b)
            ]
            said.append(mark)
            asides.append(" ".join([mark, *body]).strip())
        elif kind[0] == DRAW:
            boxes = [child] if kind[1] != "frame" else list(_children(child, DRAW, "text-box"))
            asides.extend("\n".join(_paragraph_lines(box)) for box in boxes)
        else:
            said.append(_inline(child, asides))
    return "".join(said)


def _cell(element) -> str:
    """A table cell on one line: its paragraphs, what they hold, and a nested table's rows
    (each with its header cells, separated by "; ")."""
    said: list[str] = []
    for child in _children(element):
        if child.qname == (TABLE, "table"):
            said.append(table_lines(list(_table_rows(child))).replace("\n", "; "))
        else:
            asides: list[str] = []
            said += [_inline(child, asides), *asides]
    return " ".join(" ".join(said).split())


def _table_rows(element) -> Iterator[list[str]]:
    for child in _children(element, TABLE):
        if child.qname[1] in {"table-header-rows", "table-rows", "table-row-group"}:
            yield from _table_rows(child)
        elif child.qname[1] == "table-row":
            yield [_cell(c) for c in _children(child, TABLE, "table-cell")]


def _body_blocks(body, outline: Outline) -> Iterator[Block]:
    for child in _children(body):
        kind = child.qname
        asides: list[str] = []
        if kind == (TEXT, "h"):
            level = int(child.getAttrNS(TEXT, "outline-level") or 1)
            heading = _inline(child, asides)
            if heading.strip():
                outline.enter(level, heading)
                yield Block(heading, outline.path)
        elif kind == (TEXT, "p"):
            yield Block(_inline(child, asides), outline.path)
        elif kind == (TEXT, "list"):
            yield Block("\n".join(_list_lines(child)), outline.path)
        elif kind == (TABLE, "table"):
            yield Block(table_lines(list(_table_rows(child))), outline.path)
        elif kind[1] == "section" or kind == (TEXT, "index-body"):
            yield from _body_blocks(child, outline)
        for aside in asides:
            yield Block(aside, outline.path)


def odt_parts(path: Path, reading: Reading) -> list[Part]:
    """An OpenDocument text's paragraphs, lists and tables by heading path."""
    document = _load(path)
    title = next((_text(t) for t in document.meta.getElementsByType(_title_type())), "")
    return assemble(_body_blocks(document.text, Outline(" ".join(title.split()))))


def _title_type():
    from odf.dc import Title

    return Title


def _paragraph_lines(element) -> list[str]:
    """The text of a text box or a shape: its paragraphs, its lists' items one a line."""
    lines: list[str] = []
    for child in _children(element, TEXT):
        if child.qname[1] == "list":
            lines += _list_lines(child)
        else:
            lines.append(_text(child))
    return lines


def _frame_texts(page) -> Iterator[tuple[str, str]]:
    """(presentation class, text) of each frame or shape on a slide, in document order: a
    frame holds a text box or a table, a shape (custom-shape, rect, ellipse…) its paragraphs."""
    for frame in _children(page, DRAW):
        role = frame.getAttrNS(PRESENTATION, "class") or ""
        if frame.qname[1] == "g":
            yield from _frame_texts(frame)
            continue
        if frame.qname[1] != "frame":
            yield role, "\n".join(_paragraph_lines(frame))
            continue
        for box in _children(frame):
            if box.qname == (TABLE, "table"):
                yield role, table_lines(list(_table_rows(box)))
            elif box.qname == (DRAW, "text-box"):
                yield role, "\n".join(_paragraph_lines(box))


def odp_parts(path: Path, reading: Reading) -> list[Part]:
    """An OpenDocument presentation's slides, a part each, speaker notes marked."""
    document = _load(path)
    slides = []
    for page in _children(document.presentation, DRAW, "page"):
        texts = list(_frame_texts(page))
        title = next((t for role, t in texts if role == "title"), "")
        said = [
            line
            for notes in _children(page, PRESENTATION, "notes")
            for role, text in _frame_texts(notes)
            if role == "notes"
            for line in text.splitlines()
        ]
        slides.append(Slide(title, [t for _, t in texts], said))
    return deck_parts(slides)
