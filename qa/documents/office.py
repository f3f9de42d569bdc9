"""Word (.docx, by python-docx) and RTF (by striprtf) read as a person reads them: paragraphs
in order under their heading path, a list's items one a line, a table's rows one a line with
their header cells ("Name: boolean, Storage Size: 1 byte"). docs/formats.md says why these
libraries (measured against MarkItDown and unstructured).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from qa.documents.blocks import Block, Reading, assemble, table_lines, tidy
from qa.documents.markup import Outline, Part
from qa.errors import BadDocumentError

_HEADING = re.compile(r"^heading\s*(\d)$", re.I)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _outline_level(element) -> int | None:
    """A paragraph's or a style's outline level (1 is the top; Word's 9 is body text)."""
    if element is None:
        return None
    found = element.find(f"{_W}pPr/{_W}outlineLvl")
    if found is None:
        return None
    level = int(found.get(f"{_W}val", "9")) + 1
    return level if level <= 9 else None


class _Styles:
    """What a document's paragraph styles say, read once per style: python-docx searches the
    styles part on every ``Paragraph.style``, and a paragraph's level, list and kind each ask
    (155 pages of Word: 0.8 CPU s to read before, 0.3 after)."""

    def __init__(self) -> None:
        self._seen: dict[str | None, tuple[str, int | None, bool]] = {}

    def of(self, paragraph) -> tuple[str, int | None, bool]:
        """The paragraph's style: its name, its outline level, whether Word numbers it (its
        own numbering or that of a style it is based on)."""
        key = paragraph._p.style
        if key not in self._seen:
            style = paragraph.style
            name = (style.name if style is not None else "") or ""
            level = _outline_level(style.element if style is not None else None)
            numbered, base = False, style
            while base is not None and not numbered:
                numbered = base.element.find(f"{_W}pPr/{_W}numPr") is not None
                base = base.base_style
            self._seen[key] = (name, level, numbered)
        return self._seen[key]


def _level(paragraph, styles: _Styles) -> int | None:
    """The heading level of a paragraph (0: the document's title), None for body text."""
    name, style_level, _ = styles.of(paragraph)
    if name == "Title":
        return 0
    if m := _HEADING.match(name):
        return int(m[1])
    level = _outline_level(paragraph._p)
    return level if level is not None else style_level


def _numbered(paragraph, styles: _Styles) -> bool:
    """Whether Word shows the paragraph as a list item: numbering of its own, else its
    style's (or a style it is based on). A style's name says nothing: "List Paragraph",
    "List Continue" and LibreOffice's "List Contents" (an HTML <dd>) carry no bullet."""
    own = paragraph._p.find(f"{_W}pPr/{_W}numPr")
    if own is not None:  # numId 0 takes a style's numbering away
        return own.find(f"{_W}numId") is None or own.find(f"{_W}numId").get(f"{_W}val") != "0"
    return styles.of(paragraph)[2]


def _kind(paragraph, styles: _Styles) -> str:
    """What joins a paragraph to its neighbours: list items and preformatted lines go one a
    line; other paragraphs stand apart."""
    if _numbered(paragraph, styles):
        return "list"
    if styles.of(paragraph)[0].startswith(("Preformatted", "HTML Preformatted", "Code", "Source")):
        return "pre"
    return "text"


# What a paragraph shows is in its runs, wherever they sit: inside a tracked insertion, a
# content control, a simple field, a smart tag or a hyperlink. A deletion's runs and a move's
# source are not shown; a text box's runs belong to the box's own paragraphs, not this one.
_HIDDEN = {f"{_W}{name}" for name in ("del", "moveFrom", "pPr", "rPr", "txbxContent")}


def _text(element) -> str:
    """A paragraph's text from all its runs in document order (python-docx's
    ``Paragraph.text`` reads only runs and hyperlinks that are its children)."""
    if element.tag == f"{_W}r":
        return element.text  # python-docx's run text: w:t, tabs and breaks
    if element.tag in _HIDDEN:
        return ""
    return "".join(_text(child) for child in element.iterchildren(tag="{*}*"))


def _items(container, parent) -> Iterator:
    """The paragraphs and tables of a body or a cell in order, those inside a block-level
    content control (w:sdt) or custom XML included."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in container.iterchildren(f"{_W}p", f"{_W}tbl", f"{_W}sdt", f"{_W}customXml"):
        if child.tag == f"{_W}p":
            yield Paragraph(child, parent)
        elif child.tag == f"{_W}tbl":
            yield Table(child, parent)
        else:
            content = child.find(f"{_W}sdtContent")
            yield from _items(child if content is None else content, parent)


def _cell_text(cell) -> str:
    """A cell's paragraphs and nested tables on one line, a nested table's rows as the
    outer table's are read, separated by "; "."""
    from docx.table import Table

    said = []
    for item in _items(cell._tc, cell):
        if isinstance(item, Table):
            said.append(table_lines(_rows(item)).replace("\n", "; "))
        else:
            said.append(_text(item._p))
    return " ".join(" ".join(said).split())


def _rows(table) -> list[list[str]]:
    """A table's rows of cell texts, a merged cell once."""
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(_cell_text(cell))
        rows.append(cells)
    return rows


def _blocks(document) -> Iterator[Block]:
    from docx.table import Table

    styles = _Styles()
    items = []
    for item in _items(document.element.body, document._body):
        if isinstance(item, Table):
            items.append(("table", table_lines(_rows(item)), None))
        else:
            items.append((_kind(item, styles), _text(item._p), _level(item, styles)))
    titles = [text for _, text, level in items if level == 0]
    title = titles[0] if titles else document.core_properties.title or ""
    outline = Outline(" ".join(title.split()))
    group: list[str] = []
    grouped = ""
    for kind, text, level in items:
        if group and (kind != grouped or level is not None or kind in {"text", "table"}):
            yield Block("\n".join(group), outline.path)
            group = []
        if level is not None and text.strip():
            if level > 0:
                outline.enter(level, text)
            yield Block(text, outline.path)
        elif kind == "list":
            group.append(f"- {tidy(text)}")
        else:
            group.append(text)
        grouped = kind
    if group:
        yield Block("\n".join(group), outline.path)


def docx_parts(path: Path, reading: Reading) -> list[Part]:
    """A Word document's text by heading path, its tables' rows one a line with their header."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as e:
        # An encrypted (password-protected) .docx is an OLE file, not a zip: it lands here.
        raise BadDocumentError(f"unreadable Word document ({e or type(e).__name__})") from None
    return assemble(_blocks(document))


# RTF's headings are paragraphs in a style its stylesheet names "heading N" (or "Title");
# striprtf keeps text only, so each such paragraph is marked in the source before it reads it.
_RTF_STYLE = re.compile(r"\{\\s(\d+)\\[^{}]*?\s(?:heading\s*(\d)|(title));\}", re.I)
_RTF_PARAGRAPH = re.compile(r"\\pard(?:\\plain)?\s*\\s(\d+)(?!\d)")
_RTF_TITLE = re.compile(r"\{\\title\s+([^{}]*)\}")
_MARK = "QAHEADINGQA"
_MARKED = re.compile(rf"^{_MARK}(\d){_MARK} ?(.*)$")


def _mark_headings(rtf: str) -> str:
    levels = {m[1]: int(m[2]) if m[2] else 0 for m in _RTF_STYLE.finditer(rtf)}

    def mark(m: re.Match) -> str:
        level = levels.get(m[1])
        return m[0] if level is None else f"{m[0]} {_MARK}{level}{_MARK} "

    return _RTF_PARAGRAPH.sub(mark, rtf)


def _rtf_blocks(text: str, title: str) -> Iterator[Block]:
    """A paragraph a block, as Word's are (striprtf ends each with one line break), a table's
    rows one block, a heading its own, each under its heading path below ``title``."""
    outline = Outline(" ".join(title.split()))
    rows: list[str] = []
    for line in text.split("\n"):
        if line.rstrip().endswith("|"):  # a table's row: its run is read as one table
            rows.append(line)
            continue
        if rows:
            yield Block(_rtf_tables("\n".join(rows)), outline.path)
            rows = []
        if not (heading := _MARKED.match(line)):
            if line.strip():
                yield Block(line, outline.path)
            continue
        level, name = int(heading[1]), heading[2].strip()
        if name and level > 0:
            outline.enter(level, name)
        elif name and not outline.title:  # the document's title heads every path, as Word's
            outline.title = " ".join(name.split())
        if name:
            yield Block(name, outline.path)
    if rows:
        yield Block(_rtf_tables("\n".join(rows)), outline.path)


def rtf_parts(path: Path, reading: Reading) -> list[Part]:
    """An RTF document's text by heading path, its tables' rows one a line with their header."""
    from striprtf.striprtf import rtf_to_text

    data = path.read_bytes()
    if not data.lstrip().startswith(b"{\\rtf"):
        raise BadDocumentError("not an RTF document")
    try:
        rtf = data.decode("latin-1")
        text = rtf_to_text(_mark_headings(rtf), errors="replace")
    except (ValueError, IndexError) as e:
        raise BadDocumentError(f"unreadable RTF ({e})") from None
    title = _RTF_TITLE.search(rtf)
    return assemble(_rtf_blocks(_join_surrogates(text), title[1] if title else ""))


def _join_surrogates(text: str) -> str:
    """RTF writes a character beyond the BMP (an emoji) as two ``\\u`` escapes, its UTF-16
    surrogates, and striprtf turns each into a character of its own: a pair is made the one
    character again, and a lone surrogate U+FFFD, since no encoder downstream accepts one."""
    if not any("\ud800" <= c <= "\udfff" for c in text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _rtf_tables(paragraph: str) -> str:
    """striprtf writes a table row as its cells each followed by "|" ("Zone|Adult|"): a run
    of such lines is a table, read as the Word reader reads one, each row with its header
    cells ("Zone: A, Adult: 2.50 EUR")."""
    lines: list[str] = []
    rows: list[list[str]] = []
    for line in [*paragraph.split("\n"), ""]:
        if line.rstrip().endswith("|"):
            rows.append([c.strip() for c in line.rstrip()[:-1].split("|")])
            continue
        if rows:
            lines.append(table_lines(rows))
            rows = []
        lines.append(line)
    return "\n".join(lines[:-1])
