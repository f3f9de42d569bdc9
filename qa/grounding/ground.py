"""Grounding: check each claim of the draft against the passages, then answer or decline.

Each claim's support is found in the passages' words (``qa.grounding.support``) and, where a claim
leans on words of the question its sentence lacks, the LLM, asked afresh, judges it
(``qa.grounding.judge``). The checks yield a candidate answer and its signals; the calibrated
decision (``qa.grounding.decision``) or, with ``QA_DECISION=rules``, hand-set thresholds decide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from qa.answering.format import DECLINE, cite_claim, cite_quote, is_decline
from qa.grounding.claims import Candidate, Claim, Draft, claims, is_complete
from qa.grounding.decision import Decision, signals
from qa.grounding.kinds import answers_the_kind_asked
from qa.grounding.support import locate, window_span
from qa.index.lexical import terms
from qa.retrieval.followups import Asked
from qa.retrieval.retrieve import Evidence, Passage
from qa.text import Span, as_line, is_head, stem, variants, words

# Evidence strong enough to quote when the model's own words do not survive.
QUOTE_MIN_COVERAGE = 0.75
QUOTE_MIN_COSINE = 0.45
# A claim whose sentence lacks words of the question that the claim repeats is kept only if
# the LLM, asked afresh, finds that the sentence answers the question so (see qa.grounding.judge).
MIN_YES = 0.65

# (question, claim, sentence) -> how likely the sentence shows the claim answers the question
Judge = Callable[[str, str, str], float]


@dataclass
class Grounded:
    answer: str
    mode: str  # generated | quoted | declined
    support: list[tuple[Passage, Span]] = field(default_factory=list)  # citation n = index + 1
    claims: int = 0
    kept: int = 0
    confidence: float = -1.0  # the calibrated decision's P(right) (-1: hand-set rules)
    # What was weighed, for calibration: the candidate answer, even when declined.
    candidate: Candidate | None = None
    signals: dict[str, float] = field(default_factory=dict)


def _firm(claim: Claim, asked: Asked, judge: Judge | None) -> bool:
    """A claim that repeats words of the question its sentence lacks ("Who won the
    election?" "Smith won the election", from "as the election nears, Smith...") relates
    the answer to the question on its own word: the judge decides. Others stand."""
    if not judge:
        return True
    passage, span = claim.support
    held = {stem(w) for w in variants(set(words(f"{passage.section}\n{span.text}")))}
    if not (set(terms(claim.text)) & set(terms(asked.text))) - held:
        return True
    if claim.judged < 0:
        claim.judged = judge(asked.full, claim.text, span.text)
    return claim.judged >= MIN_YES


def ground(
    draft: str | Draft,
    evidence: Evidence,
    question: str | Asked = "",
    embed=None,
    judge: Judge | None = None,
    decision: Decision | None = None,
    threshold: float = 0.5,
    judge_all: bool = False,
) -> Grounded:
    """Verify each claim of ``draft``; quote or decline when none survives.

    The hand-set rules decide, unless a calibrated ``decision`` is given: then the candidate
    the rules would give, or else the claims they doubt, is answered when the probability
    that it is right reaches ``threshold``. The judge is asked about a claim only where its
    answer can change the decision, unless ``judge_all`` (calibration needs every signal).
    """
    # A sentence that says the documents do not tell is no claim; a draft of only those
    # is the model's refusal.
    asked, draft = Asked.of(question), Draft.of(draft)
    question = asked.full
    found = [c for c in claims(draft.text) if not is_decline(c.text)]
    for claim in found:
        locate(claim, evidence, asked, embed)
        if judge and judge_all and claim.best:
            claim.judged = judge(question, claim.text, claim.best[1].span.text)
    kept = [c for c in found if c.support and is_complete(c.text)]
    kept = [c for c in kept if _firm(c, asked, judge)]
    fits = answers_the_kind_asked(question, " ".join(c.support[1].text for c in kept))
    top = evidence.passages[0] if evidence.passages else None
    if kept and fits:
        candidate = _stated("generated", kept, True, True)
    elif top and strong(evidence) and answers_the_kind_asked(question, quote(top).text):
        # The sentence retrieval ranked first, verbatim: its words are the document's own.
        candidate = _quoted(top, True, True)
    elif doubted := [c for c in found if c.best and is_complete(c.text)]:
        for c in doubted:
            c.support = (c.best[0], c.best[1].span)
        shown = " ".join(c.support[1].text for c in doubted)
        candidate = _stated("rescued", doubted, False, answers_the_kind_asked(question, shown))
    elif top:
        fits = answers_the_kind_asked(question, quote(top).text)
        candidate = _quoted(top, False, fits)
    else:
        candidate = None
    confidence, found_signals = -1.0, {}
    if candidate:
        found_signals = signals(candidate, evidence, question, draft)
    if candidate and decision and judge and decision.heeds("judge", found_signals, threshold):
        for c in candidate.claims:
            if c.judged < 0:
                c.judged = judge(question, c.text, c.best[1].span.text)
        found_signals = signals(candidate, evidence, question, draft)
    if candidate and decision:
        confidence = decision.probability(found_signals)
        answered = confidence >= threshold
    else:
        answered = bool(candidate and candidate.rules)
    if not answered:
        return Grounded(
            DECLINE, "declined", [], len(found), 0, confidence, candidate, found_signals
        )
    mode = "quoted" if candidate.kind == "quoted" else "generated"
    said = len(candidate.claims)
    return Grounded(
        candidate.answer,
        mode,
        candidate.support,
        len(found),
        said,
        confidence,
        candidate,
        found_signals,
    )


def _quoted_sentences(passage: Passage) -> list[Span]:
    """What to quote of a passage: the sentence that ranked, with the heading or definition
    term it falls under ("ort" before "This is the default strategy.") where the section path
    does not already name it, or, where it is that term, with the sentence that defines it."""
    spans, anchor = passage.sentences, passage.anchor
    at = next((i for i, s in enumerate(spans) if s.start == anchor.start), None)
    if at is None:
        return [anchor]
    if is_head(anchor.text):
        return spans[at : at + 2]
    if at and is_head(head := spans[at - 1].text) and head not in passage.section:
        return spans[at - 1 : at + 1]
    return [anchor]


def quote(passage: Passage) -> Span:
    """The exact source text a quoted answer cites (see ``_quoted_sentences``)."""
    window = _quoted_sentences(passage)
    return window_span(passage, window)


def _quoted(top: Passage, rules: bool, fits: bool) -> Candidate:
    # The quote's lines as one answer line; the citation keeps the source text exactly.
    said = as_line(_quoted_sentences(top))
    return Candidate("quoted", cite_quote(said, 1), [(top, quote(top))], [], rules, fits)


def _stated(kind: str, said: list[Claim], rules: bool, fits: bool) -> Candidate:
    """The claims as one answer, each marked with the number of its supporting window."""
    support: list[tuple[Passage, Span]] = []
    parts = []
    for c in said:
        if c.support not in support:
            support.append(c.support)
        parts.append(cite_claim(c.text, support.index(c.support) + 1))
    return Candidate(kind, " ".join(parts), support, said, rules, fits)


def strong(evidence: Evidence) -> bool:
    """Evidence worth quoting: the question's terms are covered and the meaning is close."""
    return bool(evidence.passages) and (
        evidence.coverage >= QUOTE_MIN_COVERAGE and evidence.best_cosine >= QUOTE_MIN_COSINE
    )
