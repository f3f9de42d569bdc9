"""Grounding: check each claim of the draft against the passages, then answer or decline.

Each claim's support is found in the passages' words (``qa.grounding.support``) and, where a claim
leans on words of the question its sentence lacks, the LLM, asked afresh, judges it
(``qa.grounding.judge``). The checks yield a candidate answer and its signals; the calibrated
decision (``qa.grounding.decision``) or, with ``QA_DECISION=rules``, hand-set thresholds decide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from qa.answering.format import DECLINE, cite_claim, cite_quote, is_decline
from qa.grounding.claims import Candidate, Claim, Draft, Kind, claims, is_complete
from qa.grounding.decision import Decision, judge_signal, read_signals
from qa.grounding.kinds import answers_the_kind_asked, names_one
from qa.grounding.support import even, locate, shown, window_span
from qa.index.lexical import Weight, terms
from qa.retrieval.followups import Asked
from qa.retrieval.retrieve import Evidence, Passage
from qa.sentences import Span, as_line, is_head
from qa.text import stated, stem

if TYPE_CHECKING:
    from qa.models.embeddings import LazyEmbeddings

# Evidence strong enough to quote when the model's own words do not survive.
QUOTE_MIN_COVERAGE = 0.75
QUOTE_MIN_COSINE = 0.45
# A claim whose sentence lacks words of the question that the claim repeats is kept only if
# the LLM, asked afresh, finds that the sentence answers the question so (see qa.grounding.judge).
MIN_YES = 0.65

# (question, claim, sentence) -> how likely the sentence shows the claim answers the question
Judge = Callable[[str, str, str], float]


class Mode(StrEnum):
    """How the answer given came about."""

    GENERATED = "generated"  # the model's own claims, each checked
    QUOTED = "quoted"  # a sentence of the documents, verbatim
    DECLINED = "declined"  # the documents do not say


@dataclass(frozen=True)
class Checks:
    """What grounding checks with, and how it decides."""

    embed: LazyEmbeddings | None = None  # claim vs. sentence closeness (none: words only)
    judge: Judge | None = None  # the LLM's second reading (none: not asked)
    decision: Decision | None = None  # the calibrated decision (none: the hand-set rules)
    threshold: float = 0.5  # answer when the decision's P(right) reaches it
    judge_all: bool = False  # judge every claim (calibration reads every signal)
    weight: Weight = even  # how telling a term is (its idf in the index)


@dataclass(frozen=True)
class Grounded:
    """The checked answer: what is said, how, its support, and what was weighed."""

    answer: str
    mode: Mode
    draft: str  # the model's own words, before the checks
    support: list[tuple[Passage, Span]] = field(default_factory=list)  # citation n = index + 1
    claims: int = 0
    kept: int = 0
    confidence: float = -1.0  # the calibrated decision's P(right) (-1: hand-set rules)
    # What was weighed, for calibration: the candidate answer, even when declined.
    candidate: Candidate | None = None
    signals: dict[str, float] = field(default_factory=dict)


def ground(draft: Draft, evidence: Evidence, asked: Asked, checks: Checks = Checks()) -> Grounded:
    """Verify each claim of ``draft``; quote or decline when none survives.

    The hand-set rules decide, unless a calibrated decision is given: then the candidate
    the rules would give, or else the claims they doubt, is answered when the probability
    that it is right reaches the threshold. The judge is asked about a claim only where its
    answer can change the decision, unless ``judge_all`` (calibration needs every signal).
    """
    found = weigh(draft, evidence, asked, checks)
    candidate = choose(found, evidence, asked, judged=checks.judge is not None)
    return decide(candidate, len(found), draft, evidence, asked, checks)


def weigh(draft: Draft, evidence: Evidence, asked: Asked, checks: Checks) -> list[Claim]:
    """The draft's claims, each with its support and, where the judge is needed for the rules
    (or ``judge_all``), the judge's P(yes)."""
    # A sentence that says the documents do not tell is no claim; a draft of only those
    # is the model's refusal.
    found = []
    for claim in claims(draft.text):
        if is_decline(claim.text):
            continue
        claim = locate(claim, evidence, asked, checks.embed, checks.weight)
        if checks.judge and checks.judge_all and claim.best:
            claim = replace(claim, judged=checks.judge(asked.full, claim.text, shown(*claim.best)))
        found.append(claim)
    if not checks.judge:
        return found
    return [
        replace(c, judged=checks.judge(asked.full, c.text, shown(*c.support)))
        if _kept(c) and c.judged < 0 and _leans(c, asked)
        else c
        for c in found
    ]


def _kept(claim: Claim) -> bool:
    """The word rules keep the claim: its sentence holds it, and it is no fragment."""
    return claim.support is not None and is_complete(claim.text)


def _leans(claim: Claim, asked: Asked) -> bool:
    """A claim that repeats words of the question its sentence lacks ("Who won the
    election?" "Smith won the election", from "as the election nears, Smith...") relates
    the answer to the question on its own word: the judge decides whether it stands."""
    held = {stem(w) for w in stated(shown(*claim.support))}
    return bool((set(terms(claim.text)) & set(terms(asked.text))) - held)


def choose(found: list[Claim], evidence: Evidence, asked: Asked, judged: bool) -> Candidate | None:
    """The candidate answer, of five in turn: the claims the rules keep; the sentence
    retrieval ranked first, where the evidence is strong; the claims the rules doubt; that
    sentence all the same; none. A quoted sentence must be of the kind asked (``_fits``).
    ``judged``: claims that lean on the question stand only with the judge's yes."""
    question = asked.full
    kept = [
        c for c in found if _kept(c) and not (judged and _leans(c, asked) and c.judged < MIN_YES)
    ]
    top = evidence.passages[0] if evidence.passages else None
    evidence_of = " ".join(c.support[1].text for c in kept)
    if kept and answers_the_kind_asked(question, evidence_of, " ".join(c.text for c in kept)):
        return _stated(Kind.GENERATED, kept, True, True)
    if top and strong(evidence) and _fits(question, quote(top).text):
        # The sentence retrieval ranked first, verbatim: its words are the document's own.
        return _quoted(top, True, True)
    if doubted := [
        replace(c, support=(c.best[0], c.best[1].span))
        for c in found
        if c.best and is_complete(c.text)
    ]:
        quoted = " ".join(c.support[1].text for c in doubted)
        return _stated(Kind.RESCUED, doubted, False, answers_the_kind_asked(question, quoted))
    if top:
        return _quoted(top, False, _fits(question, quote(top).text))
    return None


def _fits(question: str, quoted: str) -> bool:
    """A quoted sentence is of the kind asked and, where a name is asked for, names one."""
    return answers_the_kind_asked(question, quoted) and names_one(question, quoted)


def decide(
    candidate: Candidate | None,
    claimed: int,
    draft: Draft,
    evidence: Evidence,
    asked: Asked,
    checks: Checks,
) -> Grounded:
    """Answer ``candidate`` or decline: by the calibrated decision where there is one (the
    judge asked first where its answer can change it), else by the hand-set rules.
    ``claimed``: how many claims the draft made."""
    if candidate is None:
        return Grounded(DECLINE, Mode.DECLINED, draft.text, [], claimed, 0)
    question, decision, judge = asked.full, checks.decision, checks.judge
    found = read_signals(candidate, evidence, question, draft, checks.weight)
    if decision and judge and decision.heeds("judge", found, checks.threshold):
        said = [
            c if c.judged >= 0 else replace(c, judged=judge(question, c.text, shown(*c.best)))
            for c in candidate.claims
        ]
        candidate = replace(candidate, claims=said)
        found["judge"] = judge_signal(said)
    confidence = decision.probability(found) if decision else -1.0
    answered = confidence >= checks.threshold if decision else candidate.rules
    if not answered:
        return Grounded(
            DECLINE, Mode.DECLINED, draft.text, [], claimed, 0, confidence, candidate, found
        )
    mode = Mode.QUOTED if candidate.kind == Kind.QUOTED else Mode.GENERATED
    return Grounded(
        candidate.answer,
        mode,
        draft.text,
        candidate.support,
        claimed,
        len(candidate.claims),
        confidence,
        candidate,
        found,
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
    return Candidate(Kind.QUOTED, cite_quote(said, 1), [(top, quote(top))], [], rules, fits)


def _stated(kind: Kind, said: list[Claim], rules: bool, fits: bool) -> Candidate:
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
