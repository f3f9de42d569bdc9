"""What kind of answer a question asks for, and whether a text gives that kind."""

from __future__ import annotations

import re

from qa.answering.format import before_markers
from qa.text import is_adjective, is_noun, is_verb, key_terms, stem, words

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
# The words that open what a question asks; the first of them says what kind of answer.
_ASKING = re.compile(r"\b(what|which|who|whom|whose|where|when|why|how)\b", re.I)


def asks_a_number(question: str) -> bool:
    """The question asks for a quantity or a year: its first question word opens a phrase
    that asks one ("how many", "what year"), not a clause inside what it asks about ("Which
    class do I use to tally how often each item appears?" asks for a class)."""
    first = _ASKING.search(question)
    found = _ASKS_NUMBER.search(question)
    return bool(found and first and found.start() == first.start())


def answers_the_kind_asked(question: str, text: str, said: str = "") -> bool:
    """A question about a quantity needs a number in its answer's evidence; "how many
    soldiers" needs a number that counts soldiers ("two messages" does not). ``said``: the
    checked claims that text supports, which may count them where the text gives the number
    alone ("keeps 128 results" from "maxsize=128": the claim's numbers are the text's)."""
    if not asks_a_number(question):
        return True
    if not (noun := _HOW_MANY.search(question)):
        return bool(_NUMBER_WORDS.search(text))
    counted = stem(noun.group(1).lower())
    return _counts(text, counted) or _counts(said, counted)


def _counts(text: str, counted: str) -> bool:
    """A number in ``text`` with the stem ``counted`` among the three words after it."""
    tokens = words(text)
    return any(
        (tok[0].isdigit() or _NUMBER_WORDS.fullmatch(tok))
        and counted in {stem(t) for t in tokens[i + 1 : i + 4]}
        for i, tok in enumerate(tokens)
    )


_NAMES_ONE = {"who", "whom", "whose", "which"}


def names_one(question: str, text: str) -> bool:
    """A question that asks for someone or something by name ("which option", "who") is
    answered by a text only where it names what the question did not: a quoted sentence that
    repeats the question's names in other words answers nothing. A capitalised first word
    that is a dictionary word ("Options control ...") is no name."""
    first = _ASKING.search(question)
    if not first or first.group().lower() not in _NAMES_ONE:
        return True
    given = {t.lower() for t in key_terms(question)} | {stem(w) for w in words(question)}
    opening = words(text)[:1]

    def new(term: str) -> bool:
        low = term.lower()
        if len(low) < 2 or low in given or stem(low) in given:
            return False
        return not ([low] == opening and (is_noun(low) or is_verb(low) or is_adjective(low)))

    return any(new(t) for t in key_terms(text))


_WHEN = re.compile(r"^\s*(when|in what year|what year|what (date|century|decade))\b", re.I)
_WHO = re.compile(r"^\s*(who|whom|whose)\b", re.I)
_DATE_WORDS = re.compile(
    r"\b\d{3,4}s?\b|\b(january|february|march|april|may|june|july|august|september|october|"
    r"november|december|century|decade|bc|ad)\b",
    re.I,
)


def gives_the_kind(question: str, answer: str) -> float:
    """Whether ``answer`` itself is of the kind asked: 1 yes, 0 no, 0.5 when the question's
    kind is not one of these (a quantity, a time, a person or body)."""
    answer = before_markers(answer)
    if _WHEN.search(question):
        return float(bool(_DATE_WORDS.search(answer)))
    if _ASKS_NUMBER.search(question):  # as the shipped fits read it (decision.VERSION)
        return float(bool(_NUMBER_WORDS.search(answer)))
    if _WHO.search(question):
        return float(any(w[:1].isupper() for w in words(answer)[1:]) or answer[:1].isupper())
    return 0.5
