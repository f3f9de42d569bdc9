"""PowerPoint (.pptx, by python-pptx) read a slide at a time: each slide under the section
``Slide N › title``, its text boxes top to bottom, bullets one a line, tables a row a line
with their header cells, and its speaker notes after them, marked "Speaker notes:".

A slide's section also says where in the deck it stands, as a Word file's heading path
does: ``Part › Slide N › title``, the part read off the deck as a person reads it (its named
sections, its divider slides that hold only a title, its numbered titles: "3.1. …" over
"3.1.10. …"; ``deck_parts``). A question then finds a slide by what its part is about.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qa.documents.blocks import Block, Reading, assemble, table_lines
from qa.documents.markup import SEPARATOR, Part
from qa.errors import BadDocumentError

NOTES = "Speaker notes:"
# A title's outline number: "3.1.10.", "3.1 " or "3." first, or a word and a number
# followed by a period or a colon ("Chapter 3.", "Part 2:").
NUMBERED = re.compile(
    r"(?:(?P<levels>\d+(?:\.\d+)+)\.?|(?P<single>\d+)\.|[A-Z]\w*\s+(?P<named>\d+)[.:])(?:\s|$)"
)
# PowerPoint 2010's named sections, kept in the presentation's extension list.
P14 = "{http://schemas.microsoft.com/office/powerpoint/2010/main}"


@dataclass
class Slide:
    """What one slide shows, in reading order, and what its speaker says."""

    title: str
    texts: list[str] = field(default_factory=list)  # the title's own box included
    notes: list[str] = field(default_factory=list)  # its paragraphs
    named: str = ""  # the deck's named section it is in, where the deck names them

    @property
    def divider(self) -> bool:
        """Only a title on it: it opens a part of the deck rather than saying something."""
        title = " ".join(self.title.split())
        return bool(title) and all(" ".join(t.split()) in ("", title) for t in self.texts)


def slide_section(n: int, title: str) -> str:
    title = " ".join(title.split())
    return f"Slide {n}{SEPARATOR}{title}" if title else f"Slide {n}"


def number(title: str) -> tuple[int, ...] | None:
    """The outline number a title opens with ("3.1.10. …", "3. …", "Chapter 3. …",
    "Part 2: …" give (3, 1, 10), (3,), (3,), (2,)), else None ("3 reasons to …" has none:
    a single number is a part's only with a period or a colon after it)."""
    if m := NUMBERED.match(" ".join(title.split())):
        return tuple(int(n) for n in (m["levels"] or m["single"] or m["named"]).split("."))
    return None


def deck_parts(slides: Iterable[Slide]) -> list[Part]:
    """The slides' text, a part each, under the deck's outline and ``Slide N › title``;
    speaker notes last, the marker on a line of its own so that the first sentence said
    is a sentence of its own.

    The outline is what a person reads off the deck: the named section a slide is in, the
    divider slides it falls under (a run of dividers nests; a divider after other slides
    starts a new part), and the numbered titles before it whose number its own extends
    ("3.1. …" over "3.1.10. …", "Chapter 3. …" over both)."""
    blocks: list[Block] = []
    dividers: list[str] = []  # the run of dividers the slides fall under
    numbered: list[tuple[tuple[int, ...], str]] = []  # the numbered titles still open
    opened = False  # whether the slide before was a divider (the next one nests under it)
    named = ""
    for n, slide in enumerate(slides, 1):
        title = " ".join(slide.title.split())
        if slide.named != named:
            named, dividers, numbered = slide.named, [], []
        if slide.divider and not opened:
            dividers, numbered = [], []
        if (key := number(title)) is not None:
            numbered = [(k, t) for k, t in numbered if key[: len(k)] == k and k != key]
        path = [*([named] if named else []), *dividers, *(t for _, t in numbered)]
        section = SEPARATOR.join([*path, slide_section(n, title)])
        if key is not None:
            numbered.append((key, title))
        elif slide.divider:
            dividers.append(title)
        opened = slide.divider
        blocks += [Block(text, section) for text in slide.texts]
        if any(line.strip() for line in slide.notes):
            blocks.append(Block("\n".join([NOTES, *slide.notes]), section))
    return assemble(blocks)


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


def _lines(frame) -> list[str]:
    """A text frame's paragraphs, one a line; an indented one as a nested bullet."""
    lines = []
    for paragraph in frame.paragraphs:
        text = " ".join(paragraph.text.split())
        if text:
            lines.append(text if paragraph.level == 0 else "  " * paragraph.level + "- " + text)
    return lines


def _text(shape) -> str:
    if shape.has_table:
        rows = [[" ".join(c.text.split()) for c in row.cells] for row in shape.table.rows]
        return table_lines(rows)
    return "\n".join(_lines(shape.text_frame)) if shape.has_text_frame else ""


def _named_sections(deck) -> dict[int, str]:
    """{slide id: the name of the deck's section it is in}, where the deck names sections."""
    named = {}
    for section in deck.element.iter(f"{P14}section"):
        for slide in section.iter(f"{P14}sldId"):
            named[int(slide.get("id"))] = " ".join((section.get("name") or "").split())
    return named


def pptx_parts(path: Path, reading: Reading) -> list[Part]:
    """A deck's slides, a part each, speaker notes included and marked."""
    from pptx import Presentation
    from pptx.exc import PackageNotFoundError

    try:
        deck = Presentation(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as e:
        raise BadDocumentError(f"unreadable presentation ({e or type(e).__name__})") from None
    named = _named_sections(deck)
    slides = []
    for slide in deck.slides:
        title_shape = slide.shapes.title
        title = title_shape.text if title_shape is not None else ""
        notes = slide.notes_slide.notes_text_frame if slide.has_notes_slide else None
        said = _lines(notes) if notes is not None else []
        texts = [_text(shape) for shape in _shapes(slide.shapes)]
        slides.append(Slide(title, texts, said, named.get(slide.slide_id, "")))
    return deck_parts(slides)
