"""Sentences: where a text's sentences begin and end (exact offsets), which of them are
headings or a definition's term, and how a passage's sentences read on one line."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.text import code_terms, words

# A sentence ends at . ! ? (optionally followed by a closing quote or bracket) before
# whitespace and a capital, digit or opening quote; or at a line break.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"“‘(\[]?[A-Z0-9])|\n+")
# A period after an initial or a common abbreviation does not end a sentence.
_ABBREV = re.compile(
    r"(\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|St|Gen|Lt|Col|Sgt|Capt|Gov|Sen|Rep|Jr|Sr|Prof|No|vs|etc|e\.g|i\.e))\.$"
)

WRAP_WIDTH = 120  # hard-wrapped text is at most this wide (72 and 80 are usual)
# Where a line's next one starts a list item ("- ", "2. ", "(b) "), not a wrapped line's rest.
_ITEM = re.compile(r"\s*(?:[-*•]\s|\d+[.)]\s|\(\w\)\s)")
# What code and a synopsis hold and wrapped prose does not.
_SYMBOLS = re.compile(r"[\[\]{}|<>=_;#$\\]")


@dataclass(frozen=True)
class Span:
    """A piece of a source text and its character offsets in that text."""

    start: int
    end: int
    text: str


def sentences(text: str, offset: int = 0) -> list[Span]:
    """Split ``text`` into sentence spans; offsets are shifted by ``offset``. A line break
    ends a sentence, but for a hard wrap (``_wrapped``), where the sentence goes on."""
    spans, pos = [], 0
    width = max(map(len, text.split("\n")), default=0)
    ends = [
        m
        for m in _BOUNDARY.finditer(text)
        if ("\n" in m.group() and not _wrapped(text, m, width))
        or ("\n" not in m.group() and not _ABBREV.search(text[: m.start()]))
    ]
    for m in [*ends, None]:
        end = m.start() if m else len(text)
        # Keep a closing quote with the sentence it closes.
        while m and end < m.end() and text[end] in "\"'”’)]":
            end += 1
        piece = text[pos:end]
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            s = offset + pos + lead
            spans.append(Span(s, s + len(stripped), stripped))
        pos = m.end() if m else len(text)
    return spans


def _wrapped(text: str, newline: re.Match, width: int) -> bool:
    """Whether a lone line break is a hard wrap inside a sentence, as in plain-text files
    wrapped at 72 or 80 columns: the line before nearly as wide as the widest, ending no
    sentence, and the next line going on with words (no list item); neither line code."""
    if newline.group() != "\n" or width > WRAP_WIDTH:  # a reflowed paragraph: no wraps
        return False
    line = text[text.rfind("\n", 0, newline.start()) + 1 : newline.start()].rstrip()
    after = text.find("\n", newline.end())
    following = text[newline.end() : after if after >= 0 else len(text)].lstrip(" \t")
    # Code, a synopsis or a table's row (cells set apart by runs of spaces) stay lines.
    if any(_SYMBOLS.search(x) or "  " in x.strip() for x in (line, following)):
        return False
    goes_on = following[:1].isalnum() or (following[:1] != "" and following[:1] in "\"'“‘(`")
    return (
        len(line) >= max(40, 0.75 * width)
        and line.rstrip("\"'”’)]")[-1:] not in ".!?:;"
        and goes_on
        and not _ITEM.match(following)
    )


def is_head(sentence: str) -> bool:
    """A line that ends no sentence and names what follows it: a heading ("11.6. Unique
    Indexes") or the term of a definition list ("--depth <depth>", "ort"); not a table's row,
    whose cells are set apart by runs of spaces, nor a list of words ("rivers, lakes, sea")."""
    short = 0 < len(words(sentence)) <= 8
    listed = sentence.count(",") >= 2 and not code_terms(sentence)
    return (
        short
        and sentence.rstrip("\"'”’)]")[-1:] not in ".!?:;,"
        and not re.search(r"\s{2,}", sentence)
        and not listed
    )


# How many sentences back the heading or term a sentence falls under is looked for: a
# definition's body runs to a few paragraphs.
HEAD_REACH = 6


def head_of(spans: list[Span], at: int) -> str:
    """The heading or definition term that ``spans[at]`` falls under, if one of the few
    sentences before it is one ("fill(text, width=70)" above the paragraphs about fill)."""
    before = spans[max(0, at - HEAD_REACH) : at]
    return next((s.text for s in reversed(before) if is_head(s.text)), "")


def as_line(spans: list[Span]) -> str:
    """Sentences as one line, a heading or a term set off from what it names by a dash
    ("--depth <depth> — Create a shallow clone."), as its own line sets it off on the page."""
    return "".join(s.text + (" — " if is_head(s.text) else " ") for s in spans[:-1]) + (
        spans[-1].text if spans else ""
    )
