"""What docqa answers: the text, its citations with their exact offsets in the sources, and
how it was checked. ``Answer.to_json`` makes the one JSON form of it that ``qa ask --json``
prints, the API returns and the eval report keeps."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from qa.answering.format import unmarked
from qa.grounding.ground import Grounded, Mode
from qa.retrieval.retrieve import Passage
from qa.sentences import Span


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
    grounding: Grounded | None = field(default=None, repr=False)  # how it was checked
    passages: list[Citation] = field(default_factory=list)  # closest passages, as evidence
    standalone: str = ""  # the follow-up as retrieval saw it, when history changed it

    @property
    def mode(self) -> Mode | None:
        """How the answer came about (None for an answer that was not checked here)."""
        return self.grounding.mode if self.grounding else None

    @property
    def confidence(self) -> float:
        """The calibrated P(right) of what grounding weighed, to four places (-1: the
        hand-set rules decided)."""
        return round(self.grounding.confidence, 4) if self.grounding else -1.0

    def to_json(self) -> dict[str, Any]:
        """The answer as JSON: the ``qa ask --json`` object."""
        g, checked = self.grounding, {}
        if g:
            checked = {"claims": g.claims, "kept": g.kept, "mode": str(g.mode), "draft": g.draft}
            checked["confidence"] = self.confidence
        return {
            "question": self.question,
            "answer": self.answer,
            "declined": self.declined,
            "citations": [asdict(c) for c in self.citations],
            "timings": dict(self.timings),
            "grounding": checked,
            "passages": [asdict(c) for c in self.passages],
            "standalone": self.standalone,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Answer:
        """An answer from its ``to_json`` form (a kept conversation's), without how it was
        checked (``grounding`` is None)."""
        return cls(
            data["question"],
            data["answer"],
            data["declined"],
            [Citation(**c) for c in data.get("citations", [])],
            dict(data.get("timings", {})),
            passages=[Citation(**c) for c in data.get("passages", [])],
            standalone=data.get("standalone", ""),
        )


# What the user is told when checking changed the model's draft, by grounding mode.
MODE_NOTES = {
    Mode.QUOTED: "The model's own wording could not be checked, so this quotes the documents.",
    Mode.DECLINED: "Not found in the documents.",
    Mode.GENERATED: "Parts that the passages do not support were removed.",
}
RENUMBERED = "The citations were renumbered to match the sources."


def change_note(mode: Mode, answer: str, draft: str) -> str:
    """What the user is told of how checking changed ``draft`` (shown as it came) into
    ``answer``: nothing where it did not, and no removal where only the markers moved."""
    if answer == draft.strip():
        return ""
    if mode == Mode.GENERATED and unmarked(answer).split() == unmarked(draft).split():
        return RENUMBERED
    return MODE_NOTES[mode]


def cite(n: int, passage: Passage, span: Span | None = None) -> Citation:
    """Citation ``n``: the span of ``passage`` (the whole passage without one)."""
    span = span or passage.whole
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
