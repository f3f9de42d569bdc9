"""Answer spans for generated questions, and the checks a generated question must pass.

A span is a piece of one sentence that a question can ask for and ``expect`` can match: a
name, a number (with its unit), an identifier, a version or a short noun phrase. Nothing here
calls a model: the spans are read from the text, and the checks are string checks.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from qa.index.lexical import terms
from qa.text import STOPWORDS, code_terms, is_adjective, is_noun, is_verb, word_spans, words


class SpanKind(StrEnum):
    NAME = "name"
    NUMBER = "number"
    CODE = "identifier"
    VERSION = "version"
    PHRASE = "phrase"


# How often each kind is chosen where a sentence has several: a name, number, identifier or
# version is an answer one can only get right by reading; a noun phrase is easier to match
# loosely, so it is chosen least.
WEIGHTS = {
    SpanKind.NAME: 3,
    SpanKind.NUMBER: 3,
    SpanKind.CODE: 3,
    SpanKind.VERSION: 3,
    SpanKind.PHRASE: 1,
}
MIN_WORDS, MAX_WORDS = 4, 25  # a generated question's length, in words
MAX_SPAN_WORDS = 5

_VERSION = re.compile(
    r"(?<![\w.])v?\d+(?:\.\d+){2,3}(?!\w|\.\d)|(?<=version )\d+\.\d+(?!\w|\.\d)", re.I
)
# Not a part of a time or a ratio ("12:06:21"), which no question asks for alone.
_NUMBER = re.compile(r"(?<![\w.,:])\d[\d,]*(?:\.\d+)?(?:\s?%)?(?!\d)(?![\w.,:]\w)")
_DETERMINER = re.compile(r"\b(?:the|a|an|its|his|her|their|our)\s+", re.I)
# A question that points at the text it was written from cannot be asked of a whole index.
_ABOUT_TEXT = re.compile(
    r"\b(?:the|this|these) (?:text|passage|sentence|article|paragraph|message|subject|"
    r"statement|quote|speaker|author)\b|\bmentioned\b",
    re.I,
)
_POINTER = re.compile(
    r",?\s+(?:(?:as|that is|which is|that are)\s+)?(?:(?:mentioned|described|given|listed|shown|"
    r"stated|defined|discussed)\s+)?(?:in|by|from) (?:the|this) (?:text|passage|sentence|"
    r"paragraph|context)\s*\?$",
    re.I,
)
# A noun phrase or name the index holds in more than this share of its chunks is too common
# to ask for ("the command" in a shell's manual): its question has no one answer.
COMMON_SHARE = 0.03
COMMON_FLOOR = 5  # chunks: in a small index (an article's 18) a name in 3 of them is no filler
_JOINS = frozenset(["of", "de", "du", "la", "von", "van", "al", "bin"])


@dataclass(frozen=True)
class Target:
    """An answer span: ``start`` and ``end`` are offsets in its sentence."""

    kind: SpanKind
    start: int
    end: int
    text: str

    @property
    def core(self) -> str:
        """What ``expect`` asks for: a number without its unit (a unit may be said another
        way), anything else as written."""
        if self.kind == SpanKind.NUMBER:
            return self.text.split()[0]
        return self.text


def _names(sentence: str) -> list[Target]:
    """Runs of capitalised words, only spaces between them (a join such as "of" inside); the
    sentence's first word only inside a longer run (it is capitalised anyway), a verb never
    first; a possessive's "'s" left out."""
    found, run = [], []
    joined = 0  # where the run would go on after a join word
    for i, (start, end, word) in enumerate([*word_spans(sentence), (len(sentence), 0, "")]):
        token = sentence[start:end]
        capital = bool(token) and token[0].isupper() and word not in STOPWORDS
        spaced = bool(run) and not sentence[max(run[-1][1], joined) : start].strip()
        if capital and (spaced or not run) and not (i == 0 and is_verb(word)):
            run.append((start, end, i))
            continue
        if run and spaced and word in _JOINS and token.islower():
            joined = end
            continue  # "Bank of ...": wait for the next capitalised word
        if run and not (
            len(run) == 1 and (run[0][2] == 0 or is_verb(words(sentence[run[0][0] : run[0][1]])[0]))
        ):
            found.append((run[0][0], run[-1][1]))
        run, joined = ([(start, end, i)] if capital else []), 0
    out = []
    for start, end in found:
        if day := re.match(r" \d{1,2}\b(?!,\d)", sentence[end:]):  # a date: "October 21"
            end += day.end()
        text = re.sub(r"['’]s$", "", sentence[start:end])
        out.append(Target(SpanKind.NAME, start, start + len(text), text))
    return out


def _numbers(sentence: str) -> list[Target]:
    out = []
    for m in _NUMBER.finditer(sentence):
        end = m.end()
        after = re.match(r"\s+([a-z]+)\b", sentence[end:])
        if after and after.group(1) not in STOPWORDS and len(after.group(1)) > 1:
            end += after.end()  # its unit: "70 characters", "2,000 troops"
        out.append(Target(SpanKind.NUMBER, m.start(), end, sentence[m.start() : end]))
    return out


def _codes(sentence: str) -> list[Target]:
    out = []
    for term in code_terms(sentence):
        if re.fullmatch(r"[\d.,]+", term):
            continue  # a number, not a name
        for m in re.finditer(re.escape(term), sentence):
            out.append(Target(SpanKind.CODE, m.start(), m.end(), term))
            break
    return out


def _phrases(sentence: str) -> list[Target]:
    """A determiner's noun phrase: up to three words that are neither stopwords nor verbs
    ("the air defense units")."""
    out = []
    for m in _DETERMINER.finditer(sentence):
        spans = [s for s in word_spans(sentence) if s[0] >= m.end()][:3]
        kept: list[tuple[int, int, str]] = []
        for start, end, word in spans:
            gap = sentence[kept[-1][1] if kept else m.end() : start]
            if word in STOPWORDS or not word.isalpha() or sentence[start].isupper() or gap.strip():
                break
            kept.append((start, end, word))
        # It ends in a noun, and not in a verb where it is longer than a word ("presence
        # everywhere causes"); "the limit" is a noun, though "limit" is a verb too.
        while kept and (not is_noun(kept[-1][2]) or (len(kept) > 1 and is_verb(kept[-1][2]))):
            kept.pop()
        if kept and max(len(w) for *_, w in kept) >= 4:
            start, end = kept[0][0], kept[-1][1]
            out.append(Target(SpanKind.PHRASE, start, end, sentence[start:end]))
    return out


def targets(sentence: str) -> list[Target]:
    """Every span of ``sentence`` a question could ask for, each once; a version is not also
    a number, a number inside a name or identifier not apart."""
    found: list[Target] = []
    for part in (
        [
            Target(SpanKind.VERSION, m.start(), m.end(), m.group())
            for m in _VERSION.finditer(sentence)
        ],
        _codes(sentence),
        _names(sentence),
        _numbers(sentence),
        _phrases(sentence),
    ):
        for t in part:
            if not any(t.start < o.end and o.start < t.end for o in found):
                found.append(t)
    return [t for t in found if 0 < len(t.text.split()) <= MAX_SPAN_WORDS]


def specific(found: list[Target], df: Callable[[str], int], chunks: int) -> list[Target]:
    """The spans with one answer a question can ask for, read before the model is asked so
    that no model time goes to the others: a noun phrase or name whose rarest term is in at
    most ``COMMON_SHARE`` of the index's chunks (not "the command" in a shell's manual), a
    one-word phrase that is no adjective ("the first", "the general"), a number with a unit
    or of more than one digit (a lone "0" or "1" is in too many sentences)."""
    most = max(COMMON_FLOOR, COMMON_SHARE * chunks)

    def rare(t: Target) -> bool:
        held = [df(w) for w in terms(t.text)]
        return bool(held) and min(held) <= most

    def kept(t: Target) -> bool:
        if t.kind == SpanKind.NUMBER:
            return len(t.text.split()) > 1 or len(t.text) > 1
        if t.kind == SpanKind.PHRASE and " " not in t.text and is_adjective(t.text):
            return False
        return t.kind not in (SpanKind.PHRASE, SpanKind.NAME) or rare(t)

    return [t for t in found if kept(t)]


def choose(found: list[Target], rng: random.Random, taken: set[str]) -> Target | None:
    """One span, by ``WEIGHTS``, whose text was not asked for already (``taken``)."""
    fresh = [t for t in found if t.text.lower() not in taken]
    if not fresh:
        return None
    return rng.choices(fresh, weights=[WEIGHTS[t.kind] for t in fresh])[0]


def question_text(reply: str) -> str:
    """The question in a model's reply: its first line, without a label or quotes, and
    without a closing pointer at its text ("..., as described in the text?"), which the
    question reads the same without."""
    line = next((ln for ln in reply.strip().splitlines() if ln.strip()), "")
    line = re.sub(r"^\s*(?:\*\*)?(?:question|q)\s*[:.]\s*(?:\*\*)?", "", line, flags=re.I)
    line = " ".join(line.strip().strip("\"'“”*`").split())
    return _POINTER.sub("?", line)


def not_a_question(question: str) -> str:
    """Why ``question`` is not a usable question ("" when it is)."""
    n = len(words(question))
    if not question.endswith("?") or question.count("?") > 1:
        return "not a question"
    if not MIN_WORDS <= n <= MAX_WORDS:
        return "too short or too long"
    if _ABOUT_TEXT.search(question):
        return "does not stand alone"
    return ""


def expected(question: str, target: Target) -> str:
    """What the question asks for, that it does not already say: the number (or identifier,
    version) where the question lacks it; of a name or phrase, the longest run of its words
    the question does not use ("Abdolrahim Mousavi" of "Major General Abdolrahim Mousavi" for
    "Which major general ...?"). "" when the question gives the answer away."""
    if target.core.lower() in question.lower():
        return ""
    if target.kind != SpanKind.NAME and target.kind != SpanKind.PHRASE:
        digits = [w for w in words(target.core) if any(c.isdigit() for c in w)]
        return "" if set(digits) & set(words(question)) else target.core
    asked = set(terms(question))
    best: tuple[int, int] = (0, 0)
    run_start = None
    tokens = [*word_spans(target.text), (len(target.text), len(target.text), "")]
    for start, end, word in tokens:
        new = bool(word) and word not in STOPWORDS and not set(terms(word)) & asked
        if new and run_start is None:
            run_start = start
        if new:
            if end - run_start > best[1] - best[0]:
                best = (run_start, end)
        elif word not in STOPWORDS or not word:
            run_start = None  # a stopword inside a run ("Bank of X") does not end it
    return target.text[best[0] : best[1]]


def overlap(question: str, sentence: str) -> float:
    """Share of the question's content words (stemmed) that its sentence holds: 1.0 is the
    sentence's own words, lower is phrased away from them."""
    asked = set(terms(question))
    return round(len(asked & set(terms(sentence))) / len(asked), 3) if asked else 1.0
