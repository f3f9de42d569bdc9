"""What docqa answers: the text, its citations with their exact offsets in the sources, and
how it was checked (``Answer.to_json`` is what ``qa ask --json`` prints)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from qa.grounding.ground import Grounded
from qa.retrieval.retrieve import Passage
from qa.text import Span


@dataclass
class Citation:
    n: int
    source: str
    start: int
    end: int
    quote: str  # exactly the source text from start to end
    passage_start: int = 0  # the passage the quote was found in, for context
    passage: str = ""
    section: str = ""  # the section path of the quote (title › heading › subheading)
    page: int = 0  # the quote's page in a PDF, 0 for documents without pages

    @property
    def where(self) -> str:
        """Section and page, for people: "R › Arrays, p. 31" ("" when neither is known)."""
        parts = [self.section] if self.section else []
        if self.page:
            parts.append(f"p. {self.page}")
        return ", ".join(parts)


@dataclass
class Answer:
    question: str
    answer: str
    declined: bool
    citations: list[Citation]
    timings: dict[str, float]
    grounding: dict[str, Any] = field(default_factory=dict)
    passages: list[Citation] = field(default_factory=list)  # closest passages, as evidence
    standalone: str = ""  # the follow-up as retrieval saw it, when history changed it
    checked: Grounded | None = field(default=None, repr=False)  # what grounding weighed

    def to_json(self) -> dict[str, Any]:
        data = asdict(replace(self, checked=None))
        del data["checked"]
        return data


# What the user is told when checking changed the model's draft, by grounding mode.
MODE_NOTES = {
    "quoted": "The model's own wording could not be checked, so this quotes the documents.",
    "declined": "Not found in the documents.",
    "generated": "Parts that the passages do not support were removed.",
}


def cite(n: int, passage: Passage, span: Span | None = None) -> Citation:
    """Citation ``n``: the span of ``passage`` (the whole passage without one)."""
    span = span or Span(passage.start, passage.end, passage.text)
    return Citation(
        n,
        passage.source,
        span.start,
        span.end,
        span.text,
        passage.start,
        passage.text,
        passage.section,
        passage.page,
    )
