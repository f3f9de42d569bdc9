"""Grounding: keep only the claims their cited passage supports, or quote, or decline.

No entailment model ships offline, so support is judged from what is here: a claim's names
and numbers must occur in the passage, and its content words must largely occur there (or
the embedding model must find the claim and the sentence close); where those words leave
a claim in doubt, the LLM itself is asked afresh (``qa.judge``). Thresholds are module
constants, calibrated on ``qa eval``, never per question.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from qa.followups import own_question
from qa.retrieve import Evidence, Passage, terms
from qa.text import (
    Span,
    code_terms,
    content_words,
    is_code,
    is_verb,
    key_terms,
    sentences,
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


# A claim that ends on an article, a conjunction or a copula was cut off.
_DANGLING = frozenset({"a", "an", "the", "and", "or", "but", "is", "are", "was", "were"})
# Questions that ask for a quantity or a year, and the words that can give one.
_ASKS_NUMBER = re.compile(
    r"\b(how (many|much|long|far|old|often)|what (year|percentage|number))\b", re.I
)
_NUMBER_WORDS = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|hundred|thousand|million|billion|dozen|half|quarter|third|single|double|"
    r"twice|decade|century|year|month|week|day|hour|minute|percent)s?\b",
    re.I,
)


_HOW_MANY = re.compile(r"\bhow many ([a-z]+)", re.I)


def answers_the_kind_asked(question: str, text: str) -> bool:
    """A question about a quantity needs a number in its answer's evidence; "how many
    soldiers" needs a number that counts soldiers ("two messages" does not)."""
    if not _ASKS_NUMBER.search(question):
        return True
    if not (noun := _HOW_MANY.search(question)):
        return bool(_NUMBER_WORDS.search(text))
    tokens = words(text)
    counted = stem(noun.group(1).lower())
    return any(
        (tok[0].isdigit() or _NUMBER_WORDS.fullmatch(tok))
        and counted in {stem(t) for t in tokens[i + 1 : i + 4]}
        for i, tok in enumerate(tokens)
    )


def is_complete(claim: str) -> bool:
    tokens = words(claim)
    return bool(tokens) and tokens[-1] not in _DANGLING


def is_decline(text: str) -> bool:
    return not text.strip() or bool(_DECLINE.search(text))


_CITE_AFTER_STOP = re.compile(r"([.!?])((?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+)")
_SPACED_INITIALS = re.compile(r"\b([A-Z])\. (?=[A-Z]\.)")


def claims(draft: str) -> list[Claim]:
    """The draft's sentences, each with the passage numbers it cites."""
    # "It was so. [1]" cites the sentence before the marker; "U. S." is one name.
    draft = _CITE_AFTER_STOP.sub(r"\2\1", _SPACED_INITIALS.sub(r"\1.", draft.strip()))
    out = []
    for sent in sentences(draft):
        cited = [int(n) for m in _CITE.finditer(sent.text) for n in re.split(r"[,;]", m.group(1))]
        text = _CITE.sub("", sent.text).strip()
        if text and words(text):
            out.append(Claim(text, cited))
    return out


def _has(term: str, vocab: set[str]) -> bool:
    """A name or number occurs, allowing inflection of names (Ostrian ~ Ostria)."""
    if term in vocab or any(c.isdigit() for c in term) or is_code(term):
        return term in vocab  # numbers, options and identifiers occur exactly or not at all
    return any(len(w) >= 4 and (w.startswith(term) or term.startswith(w)) for w in vocab)


def _named(question: str) -> set[str]:
    """The names the question itself uses, but not its first word (capitalised as any
    first word is)."""
    own = own_question(question)
    return key_terms(own.split(maxsplit=1)[1] if " " in own else "")


def _firm(claim: Claim, question: str, judge: Judge) -> bool:
    """A claim that repeats words of the question its sentence lacks ("Who won the
    election?" "Smith won the election", from "as the election nears, Smith...") relates
    the answer to the question on its own word: the judge decides. Others stand."""
    passage, span = claim.support
    held = {stem(w) for w in variants(set(words(f"{passage.section}\n{span.text}")))}
    if not (set(terms(claim.text)) & set(terms(own_question(question)))) - held:
        return True
    return judge(question, claim.text, claim.support[1].text) >= MIN_YES


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
    claim: str, window: list[str], question: str, section: str = "", weight=_even
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
    asked = set(terms(question))
    # An imperative's verb is no name, capitalised as it stands first ("Use the -a option").
    names = key_terms(claim) - {w for w in words(claim)[:1] if is_verb(w)}
    # A name the question gave, inflected ("Ostria" for "Ostrian"), is not new either: "Ostria
    # built the drones that crashed near the Ostrian border" says nothing the question did not.
    given = {w for w in names if _has(w, key_terms(question))}
    new = {stem(w) for w in content_words(claim) if w not in given} - asked
    keys = {t for t in names - key_terms(question) - given if len(t) > 1}
    says = bool(new or keys)  # a claim of only a name ("--depth", "Smith") says something
    # The question's own names that the claim leaves out must be in its sentence: "Northern
    # officials accused the mayor of fraud" does not answer what Southern officials accused
    # him of.
    keys |= {t for t in _named(question) if len(t) > 1 and not _has(t, names)}
    vocab = variants(set(words(section))) | code_terms(section)  # the heading names, too
    about = {stem(w) for w in vocab}
    held = [variants(set(words(s))) | code_terms(s) for s in window]
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
    claim: str, passage: Passage, question: str = "", embed=None, claim_vec=None, weight=_even
) -> tuple[Span, bool]:
    """The sentence (or two neighbours) of ``passage`` that best supports ``claim``."""
    spans = passage.sentences
    pairs = [spans[i : i + 2] for i in range(len(spans) - 1)]
    windows = [[s] for s in spans] + pairs  # single sentences are preferred on ties
    scored = []
    for w in windows:
        can, share = _lexical(claim, [s.text for s in w], question, passage.section, weight)
        scored.append((can, share, -len(w), w))
    can, share, _, window = max(scored, key=lambda x: x[:3])
    span = Span(window[0].start, window[-1].end, _join(passage, window))
    supported = can and share >= MIN_OVERLAP
    if can and not supported and embed is not None:
        vec = np.array(embed.embed_query(span.text))
        supported = float(vec @ claim_vec) >= MIN_COSINE
    return span, supported


def _join(passage: Passage, window: list[Span]) -> str:
    """The exact passage text from the window's first sentence to its last."""
    return passage.text[window[0].start - passage.start : window[-1].end - passage.start]


def ground(
    draft: str, evidence: Evidence, question: str = "", embed=None, judge: Judge | None = None
) -> Grounded:
    """Verify each claim of ``draft``; quote or decline when none survives."""
    # A sentence that says the documents do not tell is no claim; a draft of only those
    # is the model's refusal.
    found = [c for c in claims(draft) if not is_decline(c.text)]
    asked = set(terms(question))
    for claim in found:
        claim_vec = np.array(embed.embed_query(claim.text)) if embed is not None else None
        # Of the sentences that hold the claim, the one most about the question; the cited
        # passage on a tie. A wrong pointer is re-pointed; so is a right one to a headline
        # that merely repeats the answer's name.
        best = (-1, False)
        for passage in evidence.passages:
            span, ok = best_span(claim.text, passage, question, embed, claim_vec, evidence.weight)
            rank = (len(asked & {stem(w) for w in words(span.text)}), passage.n in claim.cited)
            if ok and rank > best:
                claim.support, best = (passage, span), rank
    kept = [c for c in found if c.support and is_complete(c.text)]
    if judge:
        kept = [c for c in kept if _firm(c, question, judge)]
    if not answers_the_kind_asked(question, " ".join(c.support[1].text for c in kept)):
        kept = []
    if kept:
        support: list[tuple[Passage, Span]] = []
        parts = []
        for c in kept:
            if c.support not in support:
                support.append(c.support)
            parts.append(_cited(c.text, support.index(c.support) + 1))
        return Grounded(" ".join(parts), "generated", support, len(found), len(kept))
    top = evidence.passages[0] if evidence.passages else None
    if top and strong(evidence) and answers_the_kind_asked(question, top.anchor.text):
        # The sentence retrieval ranked first, verbatim: its words are the document's own.
        return Grounded(f"{top.anchor.text} [1]", "quoted", [(top, top.anchor)], len(found), 0)
    return Grounded("The documents do not say.", "declined", [], len(found), 0)


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
