"""Grounding: check each claim of the draft against the passages, then answer or decline.

No entailment model ships offline, so support is read from what is here: a claim's names
and numbers must occur in its sentence, its new words must largely occur there (or the
embedding model must find the two close), and the LLM, asked afresh, judges the claim
(``qa.judge``). The checks yield a candidate answer and its signals; the calibrated
decision (``qa.decision``) or, with ``QA_DECISION=rules``, hand-set thresholds decide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from qa.claims import Candidate, Check, Claim, Draft, claims, is_complete, is_decline
from qa.decision import Decision, signals
from qa.followups import Asked
from qa.kinds import answers_the_kind_asked
from qa.lexical import terms
from qa.retrieve import Evidence, Passage
from qa.text import (
    Span,
    acronyms,
    as_line,
    code_terms,
    content_words,
    is_code,
    is_head,
    is_verb,
    key_terms,
    operators,
    stem,
    variants,
    words,
)

# Share of a claim's new content words (those not in the question) the passage must hold.
MIN_OVERLAP = 0.6
MIN_COSINE = 0.7  # or: claim and supporting sentence this close in embedding space
# Evidence strong enough to quote when the model's own words do not survive.
QUOTE_MIN_COVERAGE = 0.75
QUOTE_MIN_COSINE = 0.45
# A claim whose sentence lacks words of the question that the claim repeats is kept only if
# the LLM, asked afresh, finds that the sentence answers the question so (see qa.judge).
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


def _has(term: str, vocab: set[str]) -> bool:
    """A name or number occurs, allowing inflection of names (Ostrian ~ Ostria)."""
    if term in vocab or any(c.isdigit() for c in term) or is_code(term):
        return term in vocab  # numbers, options and identifiers occur exactly or not at all
    return any(len(w) >= 4 and (w.startswith(term) or term.startswith(w)) for w in vocab)


def _named(asked: Asked) -> set[str]:
    """The names the question itself uses (not those a follow-up carried over), but not its
    first word (capitalised as any first word is)."""
    own = asked.text
    return key_terms(own.split(maxsplit=1)[1] if " " in own else "")


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


def _defines(sentence: str) -> bool:
    """A line that only names options or identifiers ("-u --set-upstream", "--depth <depth>",
    "\\l[+] or \\list[+] [ pattern ]"): the term of a definition list."""
    names = [n.lower() for n in code_terms(sentence)]
    rest = [w for w in words(sentence) if not any(w in n for n in names)]
    return bool(names) and len(rest) <= 2


def _even(term: str) -> float:
    """Every word weighs the same (where no index tells how telling words are)."""
    return 1.0


def _lexical(
    claim: str, window: list[str], asked_as: Asked, section: str = "", weight=_even
) -> tuple[bool, float]:
    """(the window of sentences can support the claim, share of the claim's new content
    words it holds, each weighed by how telling it is: "use" little, "abort" much).

    It can when the claim says something the question did not (a claim that only restates
    the question answers nothing), the window holds every name and number of the claim that
    the question did not give, and each sentence that lends the claim words is about what
    was asked (shares a content word with the question): a sentence elsewhere in the
    document cannot lend an answer its words; a sentence is also about what its ``section``
    is about. Words the claim repeats prove nothing.
    """
    question = asked_as.full
    asked = set(terms(question))
    # An imperative's verb is no name, capitalised as it stands first ("Use the -a option").
    names = key_terms(claim) - {w for w in words(claim)[:1] if is_verb(w)}
    # A name the question gave, inflected ("Ostria" for "Ostrian"), is not new either: "Ostria
    # built the drones that crashed near the Ostrian border" says nothing the question did not.
    given = {w for w in names if _has(w, key_terms(question))}
    new = {stem(w) for w in content_words(claim) if w not in given} - asked
    keys = {t for t in names - key_terms(question) - given if len(t) > 1}
    keys |= operators(claim) - operators(question)
    says = bool(new or keys)  # a claim of only a name ("--depth", "Smith") says something
    # The question's own names that the claim leaves out must be in its sentence: "Northern
    # officials accused the mayor of fraud" does not answer what Southern officials accused
    # him of.
    keys |= {t for t in _named(asked_as) if len(t) > 1 and not _has(t, names)}
    vocab = variants(set(words(section))) | code_terms(section)  # the heading names, too
    about = {stem(w) for w in vocab}
    # A name the question abbreviates may be spelt out ("OSCE" in "Organization of Security
    # and Cooperation in Europe").
    held = [variants(set(words(s))) | code_terms(s) | acronyms(s) | operators(s) for s in window]
    on_topic = [bool(asked & ({stem(w) for w in tokens} | about)) for tokens in held]
    for sentence, tokens, topical in zip(window, held, on_topic, strict=True):
        stems = {stem(w) for w in tokens}
        lends = bool(new & stems) or any(_has(t, tokens) for t in keys)
        # A term that a definition list defines ("--depth <depth>") is about what the
        # definition beside it is about.
        if lends and asked and not topical and not (_defines(sentence) and any(on_topic)):
            return False, 0.0
        vocab |= tokens
    stems = {stem(w) for w in vocab}
    keys_ok = all(_has(t, vocab) for t in keys)
    share = sum(map(weight, new & stems)) / sum(map(weight, new)) if new else 1.0
    return says and keys_ok, share


def best_span(
    claim: str,
    passage: Passage,
    question: str | Asked = "",
    embed=None,
    claim_vec=None,
    weight=_even,
) -> Check:
    """The sentence (or two neighbours) of ``passage`` that best supports ``claim``."""
    spans = passage.sentences
    pairs = [spans[i : i + 2] for i in range(len(spans) - 1)]
    # Single sentences are preferred on ties; a heading or a term alone supports nothing
    # but together with the sentence it introduces.
    windows = [spans[i : i + 1 + is_head(s.text)] for i, s in enumerate(spans)] + pairs
    scored = []
    for w in windows:
        can, share = _lexical(
            claim, [s.text for s in w], Asked.of(question), passage.section, weight
        )
        scored.append((can, share, -len(w), w))
    can, share, _, window = max(scored, key=lambda x: x[:3])
    span = Span(window[0].start, window[-1].end, _join(passage, window))
    cosine = 0.0
    if embed is not None:
        cosine = float(np.array(embed.embed_query(span.text)) @ claim_vec)
    supported = can and (share >= MIN_OVERLAP or (embed is not None and cosine >= MIN_COSINE))
    return Check(span, supported, can, share, cosine)


def _join(passage: Passage, window: list[Span]) -> str:
    """The exact passage text from the window's first sentence to its last."""
    return passage.text[window[0].start - passage.start : window[-1].end - passage.start]


def locate(claim: Claim, evidence: Evidence, asked: Asked, embed=None) -> None:
    """Find the window that holds ``claim`` best: of those that support it, the one most
    about the question, the cited passage on a tie (a wrong pointer is re-pointed; so is a
    right one to a headline that merely repeats the answer's name)."""
    wanted = set(terms(asked.full))
    claim_vec = np.array(embed.embed_query(claim.text)) if embed is not None else None
    best = None
    for passage in evidence.passages:
        check = best_span(claim.text, passage, asked, embed, claim_vec, evidence.weight)
        overlap = len(wanted & {stem(w) for w in words(check.span.text)})
        rank = (check.supported, check.can, overlap, passage.n in claim.cited)
        if best is None or rank > best[0]:
            best = (rank, passage, check)
    if best:
        claim.best = best[1], best[2]
        claim.support = (best[1], best[2].span) if best[2].supported else None


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
        declined = "The documents do not say."
        return Grounded(
            declined, "declined", [], len(found), 0, confidence, candidate, found_signals
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
    return Span(window[0].start, window[-1].end, _join(passage, window))


def _quoted(top: Passage, rules: bool, fits: bool) -> Candidate:
    # The quote's lines as one answer line; the citation keeps the source text exactly.
    said = as_line(_quoted_sentences(top))
    return Candidate("quoted", f"{said} [1]", [(top, quote(top))], [], rules, fits)


def _stated(kind: str, said: list[Claim], rules: bool, fits: bool) -> Candidate:
    """The claims as one answer, each marked with the number of its supporting window."""
    support: list[tuple[Passage, Span]] = []
    parts = []
    for c in said:
        if c.support not in support:
            support.append(c.support)
        parts.append(_cited(c.text, support.index(c.support) + 1))
    return Candidate(kind, " ".join(parts), support, said, rules, fits)


def _cited(text: str, n: int) -> str:
    """The claim with its marker before the final stop: "It rained [1]."."""
    if text[-1] in ".!?":
        return f"{text[:-1]} [{n}]{text[-1]}"
    return f"{text} [{n}]"


def strong(evidence: Evidence) -> bool:
    """Evidence worth quoting: the question's terms are covered and the meaning is close."""
    return bool(evidence.passages) and (
        evidence.coverage >= QUOTE_MIN_COVERAGE and evidence.best_cosine >= QUOTE_MIN_COSINE
    )
