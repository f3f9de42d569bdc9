"""Small text utilities shared by retrieval and grounding (words, stems, key terms; sentences
are ``qa.sentences``) and by what lists names and counts for a user (``printable``, ``counted``)."""

from __future__ import annotations

import re
from functools import cache, lru_cache

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few
    for from further had has have having he her here hers herself him himself his how i if
    in into is it its itself just me more most my myself no nor not now of off on once only
    or other our ours ourselves out over own same she should so some such than that the
    their theirs them themselves then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you
    your yours yourself yourselves did does say said says according
    """.split()  # noqa: SIM905 (a word list reads best as text)
)

_WORD = re.compile(r"\w+(?:['’.-]\w+)*")
_NUMBER = re.compile(r"\d")


def words(text: str) -> list[str]:
    """Lower-cased word tokens, dotted abbreviations kept whole (u.s)."""
    return [w.lower().strip(".") for w in _WORD.findall(text)]  # hot: every chunk's terms


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """The words of ``words``, each with where it stands in ``text``: (start, end, word)."""
    return [(m.start(), m.end(), m.group().lower().strip(".")) for m in _WORD.finditer(text)]


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS and len(w) > 1]


@cache
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball (Porter 2) stem of the word's dictionary form: 'warned' and 'warns' match,
    and so do irregular forms, which a stemmer alone cannot join ('spoke' and 'speak')."""
    from lemminflect import getAllLemmas  # a 1 MB English lexicon, no download

    lemmas = getAllLemmas(word, "VERB") or getAllLemmas(word, "NOUN")
    base = next(iter(lemmas.values()))[0] if lemmas else word
    return _stemmer().stemWord(base)


@lru_cache(maxsize=4096)
def is_verb(word: str) -> bool:
    """A dictionary verb ("use", "run"): capitalised first in a sentence it is no name."""
    from lemminflect import getAllLemmas

    return "VERB" in getAllLemmas(word.lower())


@lru_cache(maxsize=4096)
def is_noun(word: str) -> bool:
    """A dictionary noun ("index", "ferry"), as lemminflect knows it."""
    from lemminflect import getAllLemmas

    return "NOUN" in getAllLemmas(word)


def is_adjective(word: str) -> bool:
    """A dictionary adjective ("first", "special"), as lemminflect knows it."""
    from lemminflect import getAllLemmas

    return "ADJ" in getAllLemmas(word.lower())


# Number words and what they count, so that "10 years" is found in "a decade-long".
_SMALL = "one two three four five six seven eight nine ten eleven twelve"
_NUMBERS = {word: str(n) for n, word in enumerate(_SMALL.split(), 1)} | {
    "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100",
    "thousand": "1000", "dozen": "12", "twice": "2", "double": "2", "single": "1",
}  # fmt: skip
_SPANS = {"decade": ("10", "year"), "century": ("100", "year"), "fortnight": ("14", "day")}


_WORDS_OF = {digits: word for word, digits in _NUMBERS.items() if word in _SMALL.split()}
_QUALIFIED = re.compile(r"[a-z_]\w*(?:\.[a-z_]\w*)+")  # os.path.join, not 3.2 or u.s


def parts(name: str) -> set[str]:
    """The names a qualified name is made of ("os.path.join": os, path, join); none for any
    other token (a version "3.2", an abbreviation "u.s")."""
    qualified = _QUALIFIED.fullmatch(name) and len(name.split(".")[0]) > 1
    return set(name.split(".")) if qualified else set()


def variants(tokens: set[str]) -> set[str]:
    """The tokens, plus the parts of hyphenated ones, the digits of number words and the words
    of small numbers, and the names a qualified name is made of: what a passage can be said to
    state ("decade-long" states "decade", "10" and "years"; "os.path.join" states "join")."""
    out = set(tokens)
    for tok in tokens:
        out |= parts(tok)
        for part in tok.split("-"):
            out.add(part)
            if part in _NUMBERS:
                out.add(_NUMBERS[part])
            if part in _WORDS_OF:
                out.add(_WORDS_OF[part])
            if (singular := part.removesuffix("s")) in _SPANS:
                out.update((singular, *_SPANS[singular]))
    return out


# What manuals name: options (-a, --depth), backslash commands (\\l), identifiers joined by
# dots or underscores (read.fwf, R_PROFILE_USER), called names (sink in "sink()" and in
# "sink(file)"). Kept as written.
_CODE = re.compile(r"(?<![\w\\-])(?:--?[A-Za-z][\w-]*|\\[A-Za-z]+|\w{2,}(?:[._]\w+)+|\w+(?=\())")


def code_terms(text: str) -> set[str]:
    """The options, commands and identifiers of a text, exactly as written."""
    return {tok.rstrip(".") for tok in _CODE.findall(text)}


_OPERATOR = re.compile(r"[<>=!%&|+*/^~$@#-]{1,3}")


def operators(text: str) -> set[str]:
    """The operators a text shows as tokens of their own ("<-", "|>", "&&", quoted or not):
    an answer of symbols ("the characters < and -") says something, and only a text that
    shows them holds it."""
    bare = (tok.strip("\"'‘’“”()[]{},.;:") for tok in text.split())
    return {tok for tok in bare if _OPERATOR.fullmatch(tok)}


# A word quoted on its own ('line', "utf8", `close`): a literal a reference names (an event,
# an encoding, a value), a name even where the question uses the same word unquoted.
_LITERAL = re.compile(r"""(?<!\w)['"`‘“]([A-Za-z_][\w.-]*)['"`’”](?!\w)""")


def literals(text: str) -> set[str]:
    """The words ``text`` quotes on their own, lower case, without their quotes."""
    return {w.lower() for w in _LITERAL.findall(text)}


def is_code(term: str) -> bool:
    return bool(_CODE.fullmatch(term))


# Lower-case words that may sit inside a name an acronym stands for ("Bank for International
# Settlements").
_NAME_JOINS = frozenset(["of", "and", "for", "in", "on", "the", "de", "du", "la", "von"])


def acronyms(text: str) -> set[str]:
    """What the names of a text abbreviate to, lower case: the initials of every run of two
    or more capitalised words, function words inside skipped ("osce" for "Organization of
    Security and Cooperation in Europe")."""
    found: set[str] = set()
    run: list[str] = []
    for tok in [*_WORD.findall(text), "."]:
        if tok[0].isupper():
            run.append(tok[0].lower())
            continue
        if tok.lower() in _NAME_JOINS and run:
            continue
        found |= {"".join(run[i:j]) for i in range(len(run)) for j in range(i + 2, len(run) + 1)}
        run = []
    return found


def key_terms(text: str) -> set[str]:
    """Names and numbers: capitalised words that are not stopwords, anything with a digit,
    and the options and identifiers of ``code_terms``."""
    return code_terms(text) | {
        tok.lower().strip(".")
        for tok in _WORD.findall(text)
        if _NUMBER.search(tok) or (tok[0].isupper() and tok.lower() not in STOPWORDS)
    }


# A parameter given a value in a signature or a setting ("width=70", "fill(text, width=70)"):
# that value is its default, whether or not the word stands there.
_ASSIGNED = re.compile(r"[A-Za-z_]\w*\s?=\s?[^\s=,)]")
# A character quoted on its own (",", '\t', ' ') is named by its word in prose ("a comma").
_QUOTED_CHAR = re.compile(r"""['"`‘“](\\[tn]|[^\w'"`‘’“”])['"`’”]""")
_CHAR_NAMES = {
    ",": "comma", ";": "semicolon", ":": "colon", ".": "period", "|": "pipe", "/": "slash",
    "\\": "backslash", "-": "hyphen", "#": "hash", " ": "space", "\\t": "tab",
    "\\n": "newline", "_": "underscore", "*": "asterisk",
}  # fmt: skip


def stated(text: str) -> set[str]:
    """Every token ``text`` can be said to state: its words with their ``variants``, its
    options and identifiers as written, the acronyms of its names, its operators, the names
    of characters it quotes on their own (',' states "comma"), and "default" where it
    assigns a parameter its value."""
    said = variants(set(words(text))) | code_terms(text) | acronyms(text) | operators(text)
    said |= {_CHAR_NAMES[c] for c in _QUOTED_CHAR.findall(text) if c in _CHAR_NAMES}
    return said | {"default"} if _ASSIGNED.search(text) else said


def counted(n: int, noun: str) -> str:
    """``n`` with its noun, singular for one: "1 chunk", "2 chunks"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def printable(name: str) -> str:
    """``name`` with its control and formatting characters escaped: a file named with a
    newline, a tab or a right-to-left mark is listed on one line (a backslash stays as it is:
    a name that is not UTF-8 is shown with its bytes as ``\\xe9`` already)."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in name)
