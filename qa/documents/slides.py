"""PowerPoint (.pptx, by python-pptx) read a slide at a time: each slide under the section
``Slide N › title``, its text boxes top to bottom, bullets one a line, tables a row a line
with their header cells, and its speaker notes after them, marked "Speaker notes:".
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

from qa.documents.blocks import Block, Reading, assemble, table_lines
from qa.documents.markup import SEPARATOR, Part
from qa.errors import BadDocumentError

NOTES = "Speaker notes:"


def slide_section(n: int, title: str) -> str:
    title = " ".join(title.split())
    return f"Slide {n}{SEPARATOR}{title}" if title else f"Slide {n}"


def _shapes(shapes) -> Iterator:
    """Shapes in reading order (top to bottom, then left to right), groups opened."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    def place(shape) -> tuple[int, int]:
        return (shape.top or 0, shape.left or 0)

    for shape in sorted(shapes, key=place):
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _shapes(shape.shapes)
        else:
            yield shape


def _text(shape) -> str:
    if shape.has_table:
        rows = [[" ".join(c.text.split()) for c in row.cells] for row in shape.table.rows]
        return table_lines(rows)
    if not shape.has_text_frame:
        return ""
    lines = []
    for paragraph in shape.text_frame.paragraphs:
        text = " ".join(paragraph.text.split())
        if text:
            lines.append(text if paragraph.level == 0 else "  " * paragraph.level + "- " + text)
    return "\n".join(lines)


def pptx_parts(path: Path, reading: Reading) -> list[Part]:
    """A deck's slides, a part each, speaker notes included and marked."""
    from pptx import Presentation
    from pptx.exc import PackageNotFoundError

    try:
        deck = Presentation(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as e:
        raise BadDocumentError(f"unreadable presentation ({e or type(e).__name__})") from None
    blocks = []
    for n, slide in enumerate(deck.slides, 1):
        title_shape = slide.shapes.title
        section = slide_section(n, title_shape.text if title_shape is not None else "")
        for shape in _shapes(slide.shapes):
            blocks.append(Block(_text(shape), section))
        notes = slide.notes_slide.notes_text_frame if slide.has_notes_slide else None
        if notes is not None and notes.text.strip():
            blocks.append(Block(f"{NOTES} {notes.text}", section))
    return assemble(blocks)
