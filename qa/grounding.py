"""Grounding: keep only the claims their cited passage supports, or quote, or decline.

No entailment model ships offline, so support is judged from what is here: a claim's names
and numbers must occur in the passage, and its content words must largely occur there (or
the embedding model must find the claim and the sentence close). Thresholds are module
constants, calibrated on ``qa eval``, never per question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from qa.retrieve import Evidence, Passage
from qa.text import Span, content_words, key_terms, sentences, stem, words

MIN_OVERLAP = 0.5  # share of a claim's new content words (not in the question) the passage must hold
MIN_COSINE = 0.6  # or: claim and supporting sentence this close in embedding space
# Evidence strong enough to quote when the model's own words do not survive.
QUOTE_MIN_COVERAGE = 0.75
QUOTE_MIN_COSINE = 0.45

_CITE = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_DECLINE = re.compile(
    r"\b(do(es)?n[o']t say|do(es)? not (say|mention|state|specify|contain|provide)|"
    r"(don'?t|do not) know|not (mentioned|provided|specified|stated|given|available)|"
    r"no (information|mention)|cannot (answer|determine|be determined)|not enough information|"
    r"unable to (answer|determine))\b",
    re.IGNORECASE,
)


@dataclass
class Claim:
    text: str  # without citation markers
    cited: list[int]  # passage numbers the model gave
    support: tuple[Passage, Span] | None = None  # the passage and sentence(s) that hold it


@dataclass
class Grounded:
    answer: str
    mode: str  # generated | quoted | declined
    support: list[tuple[Passage, Span]] = field(default_factory=list)  # citation n = index + 1
    claims: int = 0
    kept: int = 0


def is_decline(text: str) -> bool:
    return not text.strip() or bool(_DECLINE.search(text))


def claims(draft: str) -> list[Claim]:
    """The draft's sentences, each with the passage numbers it cites."""
    out = []
    for sent in sentences(draft.strip()):
        cited = [int(n) for m in _CITE.finditer(sent.text) for n in re.split(r"[,;]", m.group(1))]
        text = _CITE.sub("", sent.text).strip()
        if text and words(text):
            out.append(Claim(text, cited))
    return out


def _has(term: str, vocab: set[str]) -> bool:
    """A name or number occurs, allowing inflection of names (Iranian ~ Iran)."""
    if term in vocab or any(c.isdigit() for c in term):
        return term in vocab
    return any(len(w) >= 4 and (w.startswith(term) or term.startswith(w)) for w in vocab)


def _lexical(claim: str, text: str, question: str) -> tuple[bool, float]:
    """(all key terms present, share of the claim's new content words present).

    Words the claim repeats from the question prove nothing: the answer is in the rest.
    """
    vocab = set(words(text))
    stems = {stem(w) for w in vocab}
    keys_ok = all(_has(t, vocab) for t in key_terms(claim))
    asked = {stem(w) for w in content_words(question)}
    new = [stem(w) for w in content_words(claim) if stem(w) not in asked]
    share = sum(w in stems for w in new) / len(new) if new else 0.0
    return keys_ok, share


def best_span(
    claim: str, passage: Passage, question: str = "", embed=None, claim_vec=None
) -> tuple[Span, bool]:
    """The sentence (or two neighbours) of ``passage`` that best supports ``claim``."""
    spans = passage.sentences
    pairs = [spans[i : i + 2] for i in range(len(spans) - 1)]
    windows = [[s] for s in spans] + pairs  # single sentences are preferred on ties
    scored = []
    for w in windows:
        text = " ".join(s.text for s in w)
        keys_ok, share = _lexical(claim, text, question)
        scored.append((keys_ok, share, -len(w), w))
    keys_ok, share, _, window = max(scored, key=lambda x: x[:3])
    span = Span(window[0].start, window[-1].end, _join(passage, window))
    supported = keys_ok and share >= MIN_OVERLAP
    if keys_ok and not supported and embed is not None:
        vec = np.array(embed.embed_query(span.text))
        supported = float(vec @ claim_vec) >= MIN_COSINE
    return span, supported


def _join(passage: Passage, window: list[Span]) -> str:
    """The exact passage text from the window's first sentence to its last."""
    return passage.text[window[0].start - passage.start : window[-1].end - passage.start]


def ground(draft: str, evidence: Evidence, question: str = "", embed=None) -> Grounded:
    """Verify each claim of ``draft``; quote or decline when none survives."""
    passages = {p.n: p for p in evidence.passages}
    found = claims(draft) if not is_decline(draft) else []
    for claim in found:
        claim_vec = np.array(embed.embed_query(claim.text)) if embed is not None else None
        # The cited passages first, then any other: a wrong pointer is re-pointed.
        order = [passages[n] for n in claim.cited if n in passages]
        order += [p for p in evidence.passages if p not in order]
        for passage in order:
            span, ok = best_span(claim.text, passage, question, embed, claim_vec)
            if ok:
                claim.support = (passage, span)
                break
    kept = [c for c in found if c.support]
    if kept:
        support: list[tuple[Passage, Span]] = []
        parts = []
        for c in kept:
            if c.support not in support:
                support.append(c.support)
            parts.append(f"{c.text} [{support.index(c.support) + 1}]")
        return Grounded(" ".join(parts), "generated", support, len(found), len(kept))
    if strong(evidence):
        # The sentence retrieval ranked first, verbatim: its words are the document's own.
        top = evidence.passages[0]
        return Grounded(f'"{top.anchor.text}" [1]', "quoted", [(top, top.anchor)], len(found), 0)
    return Grounded("The documents do not say.", "declined", [], len(found), 0)


def strong(evidence: Evidence) -> bool:
    """Evidence worth quoting: the question's terms are covered and the meaning is close."""
    return bool(evidence.passages) and (
        evidence.coverage >= QUOTE_MIN_COVERAGE and evidence.best_cosine >= QUOTE_MIN_COSINE
    )

