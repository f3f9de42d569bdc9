"""What the structured readers share: blocks of text under a section, laid end to end into
parts with exact offsets, and a table row read with its header cells.

A reader yields ``Block``s in reading order; ``assemble`` joins the consecutive blocks of one
section (and page) into a part, a blank line between blocks, and puts a blank line between
parts, as the other readers do, so that ``"\\n\\n".join(part.text for part in parts)`` is the
document's text and every part's ``offset`` points into it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from qa.documents.markup import Part


@dataclass(frozen=True)
class Reading:
    """The settings that reading needs (from ``qa.config``): OCR on or off, its time limit
    per page, its languages, and the CPU threads it may use (pages read side by side)."""

    ocr: bool = True
    ocr_page_seconds: float = 120.0
    ocr_languages: str = "eng"
    threads: int = 2

    @classmethod
    def of(cls, settings) -> Reading:
        return cls(
            settings.ocr, settings.ocr_page_seconds, settings.ocr_languages, settings.threads
        )


@dataclass(frozen=True)
class Block:
    """A paragraph, a list or a table (its lines joined by newlines) under a section."""

    text: str
    section: str = ""
    page: int = 0
    confidence: float | None = None


def assemble(blocks: Iterable[Block]) -> list[Part]:
    """Blocks joined into parts, one a run of blocks with the same section and page."""
    parts: list[Part] = []
    run: list[str] = []
    key: tuple | None = None
    offset = 0

    def close() -> None:
        nonlocal offset
        if run and key is not None:
            text = "\n\n".join(run)
            offset += 2 if parts else 0
            parts.append(Part(offset, text, *key))
            offset += len(text)
        run.clear()

    for block in blocks:
        text = tidy(block.text)
        if not text:
            continue
        here = (block.section, block.page, block.confidence)
        if here != key:
            close()
            key = here
        run.append(text)
    close()
    return parts


def decoded(data: bytes, encodings: Iterable[str]) -> str:
    """``data`` in the first of ``encodings`` that decodes it (a name Python does not know is
    passed over), else in Latin-1, which decodes any bytes."""
    for name in encodings:
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")


def tidy(text: str) -> str:
    """Lines with their runs of spaces made one (a nested item's indent kept) and blank lines
    dropped (no run of blank lines then cuts a part's text where the document had none)."""
    lines = (re.sub(r"(?<=\S)\s+", " ", line.rstrip()) for line in text.splitlines())
    return "\n".join(line for line in lines if line.strip())


def cell(value: object) -> str:
    """A cell as a person reads it: 3.0 as 3, 59799.99999999999 as 59800 (a binary float's
    noise past 15 digits, which a spreadsheet does not show either), TRUE and FALSE, a date
    without a midnight time, a time of day as 14:45, None as ""."""
    if value is None or value != value:  # None, NaN
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        text = f"{value:.15g}"
        return str(int(value)) if value.is_integer() and "e" not in text else text
    if isinstance(value, datetime.time):  # has an hour but no date, so no ``sep``
        return value.isoformat(timespec="seconds").removesuffix(":00")
    if isinstance(value, datetime.date):  # a datetime is a date too
        text = value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
        return text.removesuffix(" 00:00:00")
    if hasattr(value, "isoformat"):  # pandas' Timestamp is a datetime; anything else of its kind
        return value.isoformat()
    return " ".join(str(value).split())


def row_line(header: Sequence[str], cells: Sequence[str]) -> str:
    """One row on one line, each cell after its column's header: "Region: North, Q3: 1.2M".
    Empty cells are left out; a cell without a header stands alone."""
    said = []
    for i, value in enumerate(cells):
        if not value:
            continue
        name = header[i] if i < len(header) else ""
        said.append(f"{name}: {value}" if name and name != value else value)
    return ", ".join(said)


def table_lines(rows: Sequence[Sequence[str]]) -> str:
    """A table as text: its first row is the header, every other row one line with it."""
    rows = [r for r in rows if any(r)]
    if len(rows) < 2:
        return "\n".join(" | ".join(c for c in r if c) for r in rows)
    header = list(rows[0])
    return "\n".join(row_line(header, r) for r in rows[1:])
