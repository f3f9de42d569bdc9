"""Sentences to ask about, drawn from an index: spread over its documents and sections, with
their offsets in the source text, and the check that a span is verbatim where it is said to be.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from qa.index.lexical import Lexical
from qa.retrieval.retrieve import regions
from qa.sentences import is_head, sentences
from qa.text import words

SENTENCE_WORDS = (6, 60)  # a sentence shorter says too little to ask about; longer, too much


@dataclass(frozen=True)
class Sentence:
    source: str
    section: str
    start: int  # offset in the source's text
    text: str


def sentences_of(lexical: Lexical) -> list[Sentence]:
    """The index's sentences with their offsets and section, headings left out."""
    chunks = list(lexical.chunks())
    keys = [(c.metadata["source"], c.metadata["start"]) for c in chunks]
    low, high = SENTENCE_WORDS
    out = []
    for source, start, text in regions(chunks):
        for s in sentences(text, start):
            if is_head(s.text) or not low <= len(words(s.text)) <= high:
                continue
            chunk = chunks[bisect_right(keys, (source, s.start)) - 1]
            out.append(Sentence(source, chunk.metadata.get("section", ""), s.start, s.text))
    return out


def _interleave(queues: list[Iterator]) -> Iterator:
    while queues:
        for q in list(queues):
            item = next(q, None)
            if item is None:
                queues.remove(q)
            else:
                yield item


def spread(found: list[Sentence], rng: random.Random) -> Iterator[Sentence]:
    """The sentences in turn by document, and within one by section, each order shuffled:
    the first hundred drawn come from as many documents and sections as there are."""
    by_doc: dict[str, dict[str, list[Sentence]]] = defaultdict(lambda: defaultdict(list))
    for s in found:
        by_doc[s.source][s.section].append(s)
    docs = []
    for sections in by_doc.values():
        parts = [iter(rng.sample(v, len(v))) for v in sections.values()]
        rng.shuffle(parts)
        docs.append(_interleave(parts))
    rng.shuffle(docs)
    return _interleave(docs)


def verbatim(lexical: Lexical, source: str, start: int, end: int, text: str) -> bool:
    """Whether an indexed chunk of ``source`` holds ``text`` exactly at these offsets."""
    for c in lexical.around(source, start, 1, 0):
        at = c.metadata["start"]
        if c.page_content[start - at : end - at] == text and start >= at:
            return True
    return False
