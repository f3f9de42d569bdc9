"""A draft's claims: its sentences, each with the passage numbers it cites, and how each
was checked (``qa.grounding.ground``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from qa.answering.format import blanked, cited, markers_before_stops, unmarked
from qa.retrieval.retrieve import Passage
from qa.sentences import Span, sentences
from qa.text import word_spans, words


class Check(NamedTuple):
    """How well one window of a passage holds a claim."""

    span: Span
    supported: bool  # the word checks' verdict (or the embedding's, where words fall short)
    can: bool  # its names and numbers are there, and its sentences are about the question
    share: float  # idf-weighted share of the claim's new words it holds
    cosine: float = 0.0  # claim vs. the window in embedding space (0 without a model)


@dataclass(frozen=True)
class Claim:
    text: str  # without citation markers
    cited: list[int]  # passage numbers the model gave
    support: tuple[Passage, Span] | None = None  # the passage and sentence(s) that hold it
    best: tuple[Passage, Check] | None = None  # the closest window, supported or not
    judged: float = -1.0  # the judge's P(yes) for it (-1: not asked)


# A claim that ends on an article, a conjunction or a copula was cut off ("The default is."),
# unless a question word opened the clause the copula closes ("...where the file is.").
_DANGLING = frozenset({"a", "an", "the", "and", "or", "but", "is", "are", "was", "were"})
_COPULAS = frozenset({"is", "are", "was", "were"})
_OPENS_CLAUSE = frozenset({"where", "what", "which", "who", "whom", "how", "when", "why"})


def is_complete(claim: str) -> bool:
    tokens = words(claim)
    # The last token as written: an option ("-a") or a symbol ("<", "-") is no article.
    last = claim.split()[-1].strip(".,;:!?\"'`”’)]").lower() if tokens else ""
    if last not in _DANGLING:
        return bool(tokens)
    return last in _COPULAS and bool(_OPENS_CLAUSE & set(tokens[:-1]))


_SPACED_INITIALS = re.compile(r"\b([A-Z])\. (?=[A-Z]\.)")


def claims(draft: str) -> list[Claim]:
    """The draft's sentences, each with the passage numbers it cites."""
    # "It was so. [1]" cites the sentence before the marker; "U. S." is one name.
    draft = markers_before_stops(_SPACED_INITIALS.sub(r"\1.", draft.strip()))
    out = []
    for sent in sentences(draft):
        text = unmarked(sent.text).strip()
        if text and words(text):
            out.append(Claim(text, cited(sent.text)))
    return out


@dataclass(frozen=True)
class Draft:
    """The model's answer as generated, with each of its tokens and the token's
    log-probability where the backend gives them (the in-process models do)."""

    text: str
    tokens: tuple[tuple[str, float], ...] = ()

    def logprobs(self, within: Callable[[str], bool] = lambda word: True) -> list[float]:
        """The log-probabilities of the tokens that fall in a word ``within`` accepts
        (citation markers are no words)."""
        out, at = [], 0
        spans = word_spans(blanked(self.text))  # the words the question's are compared with
        for token, logprob in self.tokens:
            start, at = at, at + len(token)
            if any(a < at and start < b and within(w) for a, b, w in spans):
                out.append(logprob)
        return out

    @classmethod
    def of(cls, draft: str | Draft) -> Draft:
        return draft if isinstance(draft, Draft) else cls(draft)


class Kind(StrEnum):
    """What a candidate answer is."""

    GENERATED = "generated"  # claims of the draft that the rules keep
    RESCUED = "rescued"  # claims of the draft that the rules doubt
    QUOTED = "quoted"  # the sentence retrieval ranked first, verbatim


@dataclass(frozen=True)
class Candidate:
    """The answer the checks weighed, whether or not it is given, and what they found."""

    kind: Kind
    answer: str
    support: list[tuple[Passage, Span]]
    claims: list[Claim]  # the claims it says (none for a quote)
    rules: bool  # the hand-set rules give this answer
    kind_asked: bool  # its evidence is of the kind asked (a number for "how many")
