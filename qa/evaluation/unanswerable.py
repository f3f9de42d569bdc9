"""Unanswerable questions that look answerable, made from answerable ones (SQuAD 2.0's kinds):
a name, number or identifier swapped for one the documents hold elsewhere, an attribute (a
noun) swapped likewise, or the question negated. Each is checked against the whole index:
no chunk may hold the new word together with the question's most telling other terms (for a
negation: no sentence holding those terms may hold a negation). No model is called.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from qa.index.lexical import Lexical, terms
from qa.sentences import sentences
from qa.text import STOPWORDS, code_terms, is_adjective, is_noun, is_verb, word_spans, words

CONTEXT_TERMS = 2  # the question's rarest other terms a swapped word must never meet
TRIES = 6  # replacements tried per question before giving up on a kind
NEAR_CHUNKS = 20  # chunks read, per term of the question, for words on its subject
NEGATIONS = frozenset(["not", "never", "no", "nor", "neither", "without", "cannot"])
_NUMBER = re.compile(r"(?<![\w.,])\d[\d,]*\d(?![\w.]\d)|(?<![\w.,])\d(?![\w.,]\d)")
# What comes before a noun that names an attribute ("the commander", "what sectors").
_DETERMINERS = frozenset("the a an its his her their our which what whose".split())  # noqa: SIM905
_BE = frozenset("is are was were".split())  # noqa: SIM905
_HAVE = frozenset("has have had".split())  # noqa: SIM905
_AUX = frozenset(
    "is are was were did does do can could will would has have had should must may".split()  # noqa: SIM905
)


class Change(StrEnum):
    ENTITY = "swapped entity"  # a name or identifier the documents hold elsewhere
    NUMBER = "changed number"
    ATTRIBUTE = "attribute not given"  # a noun swapped for another of the documents'
    NEGATION = "negation"


# Why a kind does not apply to a question (not a check's rejection).
NOT_APPLICABLE = {f"{c}: nothing to change" for c in Change} | {
    "negation: a form not handled",
    "nothing to check against",
}


@dataclass(frozen=True)
class Unanswerable:
    q: str
    change: Change
    was: str  # the word replaced ("" for a negation)
    now: str  # what replaced it ("not", for a negation)


@dataclass
class Pools:
    """Words of the index to swap in, by kind: names, numbers, identifiers, nouns."""

    names: set[str] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)
    nouns: set[str] = field(default_factory=set)

    def add(self, sentence: str) -> None:
        self.numbers |= set(_NUMBER.findall(sentence))
        for i, (start, end, word) in enumerate(word_spans(sentence)):
            token = sentence[start:end]
            if word in STOPWORDS or len(word) < 3 or any(c.isdigit() for c in token):
                continue
            if token[0].isupper():
                if i > 0:  # a capital mid-sentence is a name
                    self.names.add(re.sub(r"['’]s$", "", token))
            elif token.isalpha() and len(token) >= 4 and _noun(word):
                self.nouns.add(token)
        self.codes |= {t for t in code_terms(sentence) if not re.fullmatch(r"[\d.,]+", t)}


def _noun(word: str) -> bool:
    """A noun that is neither a verb nor an adjective: a word to swap for an attribute of
    the same kind ("special variable" made "variant variable" still asks for the same one)."""
    return is_noun(word) and not is_verb(word) and not is_adjective(word)


def context(question: str, dropped: str, df: Callable[[str], int]) -> list[str]:
    """The question's most telling terms besides ``dropped``: its rarest terms the index holds
    (key terms count as any other), at most ``CONTEXT_TERMS``."""
    gone = set(terms(dropped))
    held = [(df(t), t) for t in dict.fromkeys(terms(question)) if t not in gone]
    return [t for n, t in sorted(held) if n > 0][:CONTEXT_TERMS]


def has_words(text: str, phrase: str) -> bool:
    """Whether ``text`` holds ``phrase`` as whole words."""
    want = words(phrase)
    have = words(text)
    return any(have[i : i + len(want)] == want for i in range(len(have) - len(want) + 1))


def co_occurs(lexical: Lexical, around: list[str], new: str) -> bool:
    """Whether any chunk holds ``new`` with every term of ``around``."""
    searchable = terms(new)
    if searchable:
        return bool(lexical.holding([*around, *searchable], 1))
    # Not a term of the index (a one-digit number): read the chunks that hold the rest.
    return any(has_words(c.page_content, new) for c in lexical.holding(around))


def negation_held(lexical: Lexical, around: list[str]) -> bool:
    """Whether any sentence that holds every term of ``around`` says something negated."""
    for chunk in lexical.holding(around):
        for s in sentences(chunk.page_content):
            said = words(s.text)
            if set(around) <= set(terms(s.text)) and (
                NEGATIONS & set(said) or any(w.endswith("n't") for w in said)
            ):
                return True
    return False


def negated(question: str) -> str:
    """The question negated, "not" where English puts it: before the main verb after an
    auxiliary and its subject ("Which city does X not visit?", "What can the tool not read?",
    "What was the bridge not built from?"), after a copula with no verb ("What is not the
    capital ...?"), or with "did"/"does" before a verb that follows the question word ("Who
    did not design ...?"). "" when the question's form is not one of those (when, where, why
    and how are negated only with "do": "How can I not see ...?" asks nothing)."""
    from lemminflect import getLemma

    tokens = question.split()
    low = [t.lower().strip("?,") for t in tokens]
    if len(tokens) < 3:
        return ""
    aux = next((i for i in (1, 2) if low[i] in _AUX), 0)
    if aux:
        do = low[aux] in ("do", "does", "did")
        if not do and low[0] not in ("who", "what", "which"):
            return ""
        # After do or a modal the verb is a base form; after be or have, a participle.
        if at := _verb_after(tokens, low, aux, base=low[aux] not in _BE | _HAVE):
            return " ".join([*tokens[:at], "not", *tokens[at:]])
        if low[aux] not in _BE:
            return ""
        return " ".join([*tokens[: aux + 1], "not", *tokens[aux + 1 :]])  # a copula
    if low[0] in ("who", "what", "which") and is_verb(low[1]) and low[1] not in _AUX:
        lemma = (getLemma(low[1], "VERB") or [low[1]])[0]
        if lemma == low[1]:
            return ""  # "Who sent": a base form cannot be told from a plural present
        aux = "does" if low[1].endswith("s") and not low[1].endswith("ed") else "did"
        return " ".join([tokens[0], aux, "not", lemma, *tokens[2:]])
    return ""


def _verb_after(tokens: list[str], low: list[str], aux: int, base: bool) -> int:
    """Where the main verb after the auxiliary at ``aux`` is: a base form (``base``) or a
    participle, not a word of the subject (one after a determiner or a possessive, or before
    a noun: "the test command sort", "the bridge's opening"); 0 where there is none. A
    participle is looked for only before the subject's first small word ("the name of the
    republic led by": "led" is the republic's, not the question's verb)."""
    from lemminflect import getLemma

    content = False
    for i in range(aux + (2 if base else 1), len(tokens)):
        if not base and content and low[i] in STOPWORDS:
            return 0
        content = content or low[i] not in STOPWORDS
        lemma = getLemma(low[i], "VERB")
        # "Which capitals were conducting efforts": the subject came before the auxiliary.
        subject = not (aux == 2 and i == 3 and not base) and (
            low[i - 1] in _DETERMINERS
            or low[i - 1].endswith(("'s", "\u2019s"))
            or (i + 1 < len(low) and low[i + 1] not in STOPWORDS and is_noun(low[i + 1]))
        )
        if not (tokens[i].islower() and is_verb(low[i]) and lemma) or subject:
            continue
        inflected = lemma[0] != low[i] and not low[i].endswith("s")  # built, called, going
        if (lemma[0] == low[i]) if base else inflected:
            return i
    return 0


def _swap(question: str, was: str, now: str) -> str:
    return re.sub(rf"(?<![\w-]){re.escape(was)}(?![\w-])", now, question, count=1)


def _changed_number(token: str, rng: random.Random) -> str:
    n = int(token.replace(",", ""))
    if 1800 <= n <= 2100:  # a year: a near one
        new = n + rng.choice([-3, -2, -1, 1, 2, 3])
    else:
        new = n * rng.choice([2, 3]) if n > 1 else n + rng.randint(2, 9)
    return f"{new:,}" if "," in token else str(new)


def candidates(
    question: str, pools: Pools, rng: random.Random
) -> Iterable[tuple[Change, str, Iterable[str]]]:
    """(change, word of the question, replacements to try), for each word that can change: a
    number's near values, or the whole pool of a name's, identifier's or noun's kind."""
    for token in _NUMBER.findall(question):
        # A list, not a generator: ``token`` is the loop's below by the time it is read.
        yield Change.NUMBER, token, [_changed_number(token, rng) for _ in range(TRIES)]
    spans = word_spans(question)
    for i, (start, end, word) in enumerate(spans):
        token = re.sub(r"['’]s$", "", question[start:end])  # "ISIS's": swap "ISIS", keep "'s"
        if word in STOPWORDS or len(token) < 2 or any(c.isdigit() for c in token):
            continue
        before = spans[i - 1][2] if i else ""
        if token in code_terms(question):
            yield (
                Change.ENTITY,
                token,
                pools.codes,
            )
        elif token[0].isupper() and i > 0:
            yield (
                Change.ENTITY,
                token,
                pools.names,
            )
        elif token.isalpha() and len(token) >= 4 and _noun(word) and before in _DETERMINERS:
            yield (
                Change.ATTRIBUTE,
                token,
                pools.nouns,
            )


def nearby(
    lexical: Lexical, around: list[str], pool: Iterable[str], rng: random.Random
) -> list[str]:
    """Up to ``TRIES`` words of ``pool`` found in chunks that hold one of the question's terms
    ``around``: a swap on the question's subject ("the user presses" made "the child
    presses", not "the information presses"), so that the question still looks answerable."""
    said: set[str] = set()
    for term in around:
        for chunk in lexical.holding([term], NEAR_CHUNKS):
            said |= {w.rstrip(".") for w in re.findall(r"[^\s,;:()\"'`]+", chunk.page_content)}
    near = sorted(set(pool) & said)
    return rng.sample(near, min(TRIES, len(near)))


def unanswerable(
    question: str,
    sentence: str,
    want: Change,
    pools: Pools,
    lexical: Lexical,
    rng: random.Random,
) -> tuple[Unanswerable | None, str]:
    """An unanswerable question of the kind ``want`` made from ``question`` (whose answer is
    in ``sentence``), or None and why not."""
    if want == Change.NEGATION:
        asked = negated(question)
        if not asked:
            return None, "negation: a form not handled"
        around = context(question, "", lexical.df)
        if not around:
            return None, "nothing to check against"
        if negation_held(lexical, around):
            return None, "negation: the documents hold one"
        return Unanswerable(asked, want, "", "not"), ""
    found = [c for c in candidates(question, pools, rng) if c[0] == want]
    if not found:
        return None, f"{want}: nothing to change"
    reason = "nothing to check against"
    for change, was, options in rng.sample(found, len(found)):
        around = context(question, was, lexical.df)
        if not around:
            continue
        if change != Change.NUMBER:
            options = nearby(lexical, around, options, rng)
        for now in options:
            if has_words(question, now) or has_words(sentence, now) or now == was:
                continue
            if co_occurs(lexical, around, now):
                reason = f"{want}: the documents hold it"
                continue
            return Unanswerable(_swap(question, was, now), change, was, now), ""
    return None, reason
