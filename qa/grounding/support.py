"""Where a claim's support is: the window of a passage's sentences that holds it best.

No entailment model ships offline, so support is read from the words: a claim's names and
numbers must occur in its window, and its new words (those the question did not give) must
largely occur there, or the embedding model must find claim and window close.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from qa.grounding.claims import Check, Claim
from qa.grounding.rows import cells, misread, place
from qa.index.lexical import Weight, terms
from qa.retrieval.followups import Asked
from qa.retrieval.retrieve import Evidence, Passage
from qa.sentences import Span, head_of, is_head, sentences
from qa.text import (
    code_terms,
    content_words,
    is_code,
    is_verb,
    key_terms,
    literals,
    operators,
    parts,
    stated,
    stem,
    words,
)

if TYPE_CHECKING:
    from qa.models.embeddings import LazyEmbeddings

# Share of a claim's new content words (those not in the question) the passage must hold.
MIN_OVERLAP = 0.6
MIN_COSINE = 0.7  # or: claim and supporting sentence this close in embedding space


def _has(term: str, vocab: set[str]) -> bool:
    """A name or number occurs, allowing inflection of names (Ostrian ~ Ostria) and the forms
    an identifier is written in: with or without its call's parentheses, in either case, and
    qualified or not ("textwrap.fill" is held by "fill(text)" under "textwrap")."""
    if term in vocab:
        return True
    if is_code(term) and not term.startswith(("-", "\\")):  # options are exact ("-a", "-A")
        lower = term.lower()
        names = parts(lower)
        if lower in vocab or (names and names <= vocab):
            return True
    if any(c.isdigit() for c in term) or is_code(term):
        return False  # numbers, options and identifiers occur exactly or not at all
    return any(len(w) >= 4 and (w.startswith(term) or term.startswith(w)) for w in vocab)


def _named(asked: Asked) -> set[str]:
    """The names the question itself uses (not those a follow-up carried over), but not its
    first word (capitalised as any first word is)."""
    own = asked.text
    return key_terms(own.split(maxsplit=1)[1] if " " in own else "")


def _defines(sentence: str) -> bool:
    """A line that only names options or identifiers ("-u --set-upstream", "--depth <depth>",
    "\\l[+] or \\list[+] [ pattern ]"): the term of a definition list."""
    names = [n.lower() for n in code_terms(sentence)]
    rest = [w for w in words(sentence) if not any(w in n for n in names)]
    return bool(names) and len(rest) <= 2


def even(term: str) -> float:
    """Every word weighs the same (where no index tells how telling words are)."""
    return 1.0


def _lexical(
    claim: str,
    window: list[str],
    asked_as: Asked,
    section: str = "",
    weight: Weight = even,
    head: str = "",
) -> tuple[bool, float]:
    """(the window of sentences can support the claim, share of the claim's new content
    words it holds, each weighed by how telling it is: "use" little, "abort" much).

    It can when the claim says something the question did not (a claim that only restates
    the question answers nothing), the window holds every name and number of the claim that
    the question did not give, and each sentence that lends the claim words is about what
    was asked (shares a content word with the question): a sentence elsewhere in the
    document cannot lend an answer its words; a sentence is also about what its ``section``
    is about, and about the ``head`` (heading or definition term) it falls under, which can
    hold the names the question gave but not the claim's own: those the quote must show.
    Words the claim repeats prove nothing.
    """
    question = asked_as.full
    asked = set(terms(question))
    # A sentence is about a qualified name the question uses where it is about its parts:
    # "shop.order" stems whole to "shop.ord", which no heading above a sentence holds.
    topics = asked | {stem(p) for w in content_words(question) for p in parts(w)}
    # An imperative's verb is no name, capitalised as it stands first ("Use the -a option").
    names = key_terms(claim) - {w for w in words(claim)[:1] if is_verb(w)}
    # A name the question gave, inflected ("Ostria" for "Ostrian"), is not new either: "Ostria
    # built the drones that crashed near the Ostrian border" says nothing the question did not.
    given = {w for w in names if _has(w, key_terms(question))}
    new = {stem(w) for w in content_words(claim) if w not in given} - asked
    keys = {t for t in names - key_terms(question) - given if len(t) > 1}
    keys |= operators(claim) - operators(question)
    # "The 'line' event" names the event though the question asks for "each line".
    keys |= literals(claim) - literals(question)
    says = bool(new or keys)  # a claim of only a name ("--depth", "Smith") says something
    # The question's own names that the claim leaves out must be in its sentence: "Northern
    # officials accused the mayor of fraud" does not answer what Southern officials accused
    # him of.
    named = {t for t in _named(asked_as) if len(t) > 1 and not _has(t, names)}
    keys |= named
    vocab = stated(section)  # the heading names, too
    above = stated(head)
    about = {stem(w) for w in vocab | above}
    # A name the question abbreviates may be spelt out ("OSCE" in "Organization of Security
    # and Cooperation in Europe").
    held = [stated(s) for s in window]
    # Rows of a table (qa.grounding.rows): a row is about the question only if it holds a
    # name or number the question gives beyond those of its sheet or heading (some may name
    # the table: "the ISO code of"), and holds a claim only with the value of the column the
    # claim names.
    if all(rows := [cells(s) for s in window]):
        table = stated(place(section)) | above
        gives = {t for t in _named(asked_as) if not _has(t, table)}
        ours = [
            r
            for tokens, r in zip(held, rows, strict=True)
            if not gives or any(_has(t, tokens) for t in gives)
        ]
        if not ours or any(misread(claim, question, r) for r in ours):
            return False, 0.0
    on_topic = [bool(topics & ({stem(w) for w in tokens} | about)) for tokens in held]
    for sentence, tokens, topical in zip(window, held, on_topic, strict=True):
        stems = {stem(w) for w in tokens}
        lends = bool(new & stems) or any(_has(t, tokens) for t in keys)
        # A term that a definition list defines ("--depth <depth>") is about what the
        # definition beside it is about.
        if lends and asked and not topical and not (_defines(sentence) and any(on_topic)):
            return False, 0.0
        vocab |= tokens
    stems = {stem(w) for w in vocab}
    # A qualified name is held where its parts are ("textwrap.wrap" under "textwrap" by "wrap").
    stems |= {w for w in new if (names := parts(w)) and names <= vocab}
    keys_ok = all(_has(t, vocab) or (t in named and _has(t, above)) for t in keys)
    share = sum(map(weight, new & stems)) / sum(map(weight, new)) if new else 1.0
    return says and keys_ok, share


def best_span(
    claim: str,
    passage: Passage,
    question: str | Asked = "",
    embed: LazyEmbeddings | None = None,
    claim_vec: np.ndarray | None = None,
    weight: Weight = even,
) -> Check:
    """The sentence (or two neighbours) of ``passage`` that best supports ``claim``."""
    # A whole chunk (dense retrieval's passage) comes without its sentences.
    spans = passage.sentences or sentences(passage.text, passage.start)
    pairs = [spans[i : i + 2] for i in range(len(spans) - 1)]
    # Single sentences are preferred on ties; a heading or a term alone supports nothing
    # but together with the sentence it introduces.
    windows = [spans[i : i + 1 + is_head(s.text)] for i, s in enumerate(spans)] + pairs
    asked = Asked.of(question)
    scored = []
    for w in windows:
        head = head_of(spans, spans.index(w[0])) or passage.term
        can, share = _lexical(claim, [s.text for s in w], asked, passage.section, weight, head)
        scored.append((can, share, -len(w), w))
    can, share, _, window = max(scored, key=lambda x: x[:3])
    span = window_span(passage, window)
    cosine = 0.0
    if embed is not None:
        cosine = float(np.array(embed.embed_query(span.text)) @ claim_vec)
    supported = can and (share >= MIN_OVERLAP or (embed is not None and cosine >= MIN_COSINE))
    return Check(span, supported, can, share, cosine)


def shown(passage: Passage, where: Span | Check) -> str:
    """The text of a window of ``passage`` as a reader sees it: under its section path and the
    heading or definition term it falls under ("(textwrap) wrap(text, width=70) — Wraps...")."""
    span = where.span if isinstance(where, Check) else where
    at = next((i for i, s in enumerate(passage.sentences) if s.start == span.start), 0)
    head = head_of(passage.sentences, at) or passage.term
    above = f"{head} — " if head and head not in span.text else ""
    return f"({passage.section}) {above}{span.text}" if passage.section else above + span.text


def window_span(passage: Passage, window: list[Span]) -> Span:
    """The window of sentences as one span: the exact passage text from its first to last."""
    start, end = window[0].start, window[-1].end
    return Span(start, end, passage.text[start - passage.start : end - passage.start])


def locate(
    claim: Claim,
    evidence: Evidence,
    asked: Asked,
    embed: LazyEmbeddings | None = None,
    weight: Weight = even,
) -> Claim:
    """``claim`` with the window that holds it best: of those that support it, the one most
    about the question, the cited passage on a tie (a wrong pointer is re-pointed; so is a
    right one to a headline that merely repeats the answer's name)."""
    wanted = set(terms(asked.full))
    claim_vec = np.array(embed.embed_query(claim.text)) if embed is not None else None
    best = None
    for passage in evidence.passages:
        check = best_span(claim.text, passage, asked, embed, claim_vec, weight)
        overlap = len(wanted & {stem(w) for w in words(check.span.text)})
        rank = (check.supported, check.can, overlap, passage.n in claim.cited)
        if best is None or rank > best[0]:
            best = (rank, passage, check)
    if not best:
        return claim
    _, passage, check = best
    return replace(
        claim, best=(passage, check), support=(passage, check.span) if check.supported else None
    )
