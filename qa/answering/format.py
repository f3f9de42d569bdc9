"""The answer's format, in one place: the ``[n]`` marker that cites passage n, and the
sentence that declines.

The prompt writes both and asks the model for them; grounding writes them into the answer
it gives; claims, the chat page, kinds and saved tests read them. All of them call here.
"""

from __future__ import annotations

import re

# What the model is asked to reply, and what docqa answers, when the documents do not say.
DECLINE = "The documents do not say."

# One marker cites one or more passages: "[1]", "[2, 3]", "[1; 4]".
_NUMBERS = r"\d+(?:\s*[,;]\s*\d+)*"
_MARKER = re.compile(rf"\s*\[({_NUMBERS})\]")  # with the space before it
_MARKERS_AFTER_STOP = re.compile(rf"([.!?])((?:\s*\[{_NUMBERS}\])+)")
_SINGLE = re.compile(r"\[(\d+)\]")  # a marker of one passage, as grounding writes them
# A draft's way of saying that the documents do not tell (the model's own words for it vary).
_DECLINES = re.compile(
    r"\b(do(es)?n[o']t say|do(es)? not (say|mention|state|specify|contain|provide)|"
    r"(don'?t|do not) know|not (mentioned|provided|specified|stated|given|available)|"
    r"no (information|mention)|cannot (answer|determine|be determined)|not enough information|"
    r"unable to (answer|determine))\b",
    re.IGNORECASE,
)


def marker(n: int) -> str:
    """The marker that cites passage ``n``: "[n]"."""
    return f"[{n}]"


def cite_claim(text: str, n: int) -> str:
    """A claim with its marker before the final stop: "It rained [1]."."""
    if text[-1] in ".!?":
        return f"{text[:-1]} {marker(n)}{text[-1]}"
    return f"{text} {marker(n)}"


def cite_quote(text: str, n: int) -> str:
    """A quote with its marker after it, its own stop kept: "It rained. [1]"."""
    return f"{text} {marker(n)}"


def _numbers(marker: re.Match) -> list[int]:
    """The passage numbers one marker cites: [2, 3] -> 2, 3."""
    return [int(n) for n in re.split(r"[,;]", marker.group(1))]


def cited(text: str) -> list[int]:
    """The passage numbers that the markers in ``text`` cite, in order."""
    return [n for m in _MARKER.finditer(text) for n in _numbers(m)]


def renumbered(text: str, numbers: dict[int, int]) -> str:
    """``text`` with each marker's passage numbers mapped through ``numbers``; a number not
    in it goes, and so does a marker left with none."""

    def one(m: re.Match) -> str:
        kept = [numbers[n] for n in _numbers(m) if n in numbers]
        space = m.group()[: m.group().index("[")]
        return f"{space}[{', '.join(map(str, kept))}]" if kept else ""

    return _MARKER.sub(one, text)


def unmarked(text: str) -> str:
    """``text`` without its markers (and the space before each)."""
    return _MARKER.sub("", text)


def blanked(text: str) -> str:
    """``text`` with each marker (and the space before it) turned to spaces: the offsets of
    its words are kept."""
    return _MARKER.sub(lambda m: " " * len(m.group()), text)


def markers_before_stops(text: str) -> str:
    """ "It was so. [1]" as "It was so [1].": a marker after a stop cites the sentence before."""
    return _MARKERS_AFTER_STOP.sub(r"\2\1", text)


def before_markers(answer: str) -> str:
    """The answer's words before its first marker."""
    return answer.split("[")[0]


def linked(answer: str, target: str) -> str:
    """Markdown with each single marker "[n]" a link to ``target`` with ``{n}`` filled in."""
    return _SINGLE.sub(lambda m: f"[{m.group()}]({target.format(n=m.group(1))})", answer)


def is_decline(text: str) -> bool:
    """Whether ``text`` says that the documents do not tell (an empty draft does too)."""
    return not text.strip() or bool(_DECLINES.search(text))
