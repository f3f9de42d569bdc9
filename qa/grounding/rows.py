"""A table row read with its header cells ("Region: North, Q3 revenue: 1.2M", as the readers
of spreadsheets, CSV files and documents' tables write it). What a row is about is in it, its
sheet's name or the heading above its table, so a row that holds none of the names and numbers
the question gives beyond those is another row's answer; and every value is beside its
column's name, so a claim that names one column and gives another's value is not held by the
row, though the row holds all its words ("the alpha-3 code is AB" from "alpha-2: AB, alpha-3:
ABC")."""

from __future__ import annotations

import re

from qa.text import content_words

# A cell's header: up to its ": ", at the line's start or after the ", " that ends a cell.
_HEADER = re.compile(r"(?:^|, )([^:,\n]{1,60}?): ")
_ROW_NUMBER = re.compile(r"\s*›\s*row \d+$")


def cells(line: str) -> dict[str, str]:
    """The row's values by header; {} for a line that is no such row (under two cells)."""
    heads = list(_HEADER.finditer(line))
    if len(heads) < 2 or heads[0].start() != 0:
        return {}
    ends = [m.start() for m in heads[1:]] + [len(line)]
    return {
        m.group(1).strip(): line[m.end() : end].strip() for m, end in zip(heads, ends, strict=True)
    }


def place(section: str) -> str:
    """A row's section without its own number ("Sheet › row 12" is about "Sheet"): the
    number counts rows, it names nothing the row is about."""
    return _ROW_NUMBER.sub("", section)


def _plain(text: str) -> str:
    """Lower-case words and numbers, one space apart: "alpha_3" and "Alpha-3" alike."""
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


def _says(text: str, phrase: str) -> bool:
    return bool(phrase) and f" {phrase} " in f" {text} "


def misread(claim: str, question: str, row: dict[str, str]) -> bool:
    """Whether ``claim`` names a column of ``row`` and gives, instead of that column's value,
    the value of another column that the question did not give."""
    said, asked = _plain(claim), _plain(question)
    named = [h for h in row if content_words(h) and _says(said, _plain(h))]  # not "and: no"
    # "official name" names that column, not also the "name" inside it; and a column whose
    # value the question gives names the row ("the North zone"), not what is asked of it.
    named = [h for h in named if not any(o != h and _says(_plain(o), _plain(h)) for o in named)]
    named = [h for h in named if not _says(asked, _plain(row[h]))]
    if not named or any(_says(said, _plain(row[h])) for h in named):
        return False
    others = (_plain(v) for h, v in row.items() if h not in named)
    return any(_says(said, v) and not _says(asked, v) for v in others)
