"""Retrieval: hybrid chunk search (dense + BM25, fused by reciprocal rank), then the
sentences that answer, each widened by its neighbours into a short numbered passage.

A small model reads a few sharp sentences faster and more faithfully than whole chunks.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from qa.index.lexical import Lexical, Weight, terms
from qa.index.store import Store
from qa.sentences import Span, head_of, is_head, sentences

if TYPE_CHECKING:
    from qa.models.embeddings import LazyEmbeddings

RRF_K = 60  # the constant of Cormack et al.'s reciprocal rank fusion
# Sentences ranked beyond each hit's own, either side. The neighbour chunks hold a hit's
# context, but farther sentences seldom became passages (9 of the 1,080 of the SQuAD dev
# sample's questions), and each sentence ranked costs an embedding.
REACH = 2
# Bumped whenever the passages a question gets change: stored signals are then not reused.
VERSION = "4"


def rrf(*rankings: list[Hashable]) -> dict[Hashable, float]:
    """Reciprocal rank fusion of several best-first rankings of ids."""
    fused: dict[Hashable, float] = defaultdict(float)
    for ranking in rankings:
        for rank, key in enumerate(ranking):
            fused[key] += 1.0 / (RRF_K + rank + 1)
    return fused


@dataclass
class Passage:
    """A numbered, contiguous piece of one source given to the model."""

    source: str
    start: int
    end: int
    text: str
    sentences: list[Span]
    anchor: Span  # the sentence that ranked, before neighbours widened it
    score: float = 0.0
    n: int = 0
    section: str = ""  # the anchor's section path (title › heading › subheading)
    page: int = 0  # the anchor's page, in a PDF
    # The heading or definition term its first sentence falls under, where the window does
    # not reach it ("fill(text, width=70)" above the third paragraph that describes fill).
    term: str = ""

    @property
    def whole(self) -> Span:
        """The whole passage as a span of its source."""
        return Span(self.start, self.end, self.text)

    @classmethod
    def of_chunk(cls, chunk: Document, n: int) -> Passage:
        """A whole chunk as a passage (the plain chain's unit)."""
        m = chunk.metadata
        text, anchor = chunk.page_content, Span(0, 0, "")
        place = {"section": m.get("section", ""), "page": m.get("page", 0)}
        return cls(m["source"], m["start"], m["end"], text, [], anchor, n=n, **place)


@dataclass
class Evidence:
    """What retrieval found, with the signals that tell strong evidence from weak."""

    passages: list[Passage]
    best_cosine: float = 0.0  # question vs. the best sentence
    coverage: float = 0.0  # idf share of the question's terms found in the best passage
    signals: dict[str, float] = field(default_factory=dict)


class HybridRetriever(BaseRetriever):
    """Chunks ranked by dense similarity and by BM25, fused by reciprocal rank."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Store
    k: int = 6
    size: int = 0  # chunks in the index, for idf
    known: dict[str, float] = Field(default_factory=dict)  # idf of terms already looked up

    @property
    def lexical(self) -> Lexical:
        return self.store.lexical

    def model_post_init(self, _context: object) -> None:
        self.size = self.lexical.count()

    def idf(self, term: str) -> float:
        """Lucene's always-positive BM25 idf, right for a corpus of any size. A term no
        chunk holds weighs most: a question about it is likely one the documents do not
        answer."""
        if term not in self.known:
            n = self.lexical.df(term)
            self.known[term] = math.log(1 + (self.size - n + 0.5) / (n + 0.5))
        return self.known[term]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        if self.k <= 0 or not self.size:
            return []
        dense = [doc for doc, _ in self.store.search(query, self.k)]
        lexical = self.lexical.search(terms(query), self.k)
        fused = rrf([d.id for d in dense], lexical)
        best = sorted(fused, key=fused.get, reverse=True)[: self.k]
        by_id = {d.id: d for d in dense}
        by_id |= {d.id: d for d in self.lexical.get([i for i in best if i not in by_id])}
        return [by_id[i] for i in best if i in by_id]


def neighbourhood(hits: list[Document], lexical: Lexical) -> list[Document]:
    """The hits and their neighbour chunks, each once, in source order."""
    around = {
        c.id: c
        for h in hits
        for c in lexical.around(h.metadata["source"], h.metadata["start"], 1, 1)
    }
    return sorted(around.values(), key=lambda c: (c.metadata["source"], c.metadata["start"]))


def regions(chunks: list[Document]) -> list[tuple[str, int, str]]:
    """The contiguous source text of ``chunks`` (in source order), stitched from overlapping
    chunks: (source, start offset, text)."""
    out: list[tuple[str, int, str]] = []
    for c in chunks:
        src, start = c.metadata["source"], c.metadata["start"]
        if out and out[-1][0] == src and start <= out[-1][1] + len(out[-1][2]) + 2:
            _, r_start, r_text = out[-1]
            covered = r_start + len(r_text)
            if start > covered:  # whitespace the splitter stripped between chunks
                r_text += " " if start - covered == 1 else "\n" * (start - covered)
            r_text += c.page_content[max(0, covered - start) :]
            out[-1] = (src, r_start, r_text)
        else:
            out.append((src, start, c.page_content))
    return out


def select(
    question: str,
    hits: list[Document],
    lexical: Lexical,
    idf: Weight,
    embed: LazyEmbeddings,
    k: int,
    max_chars: int = 220,
) -> Evidence:
    """Rank the hits' sentences and those next to them, keep the best ``k``, widen each with
    its neighbours."""
    # (source, region start, region text, the region's sentences, index of this sentence)
    sents: list[tuple[str, int, str, list[Span], int]] = []
    chunks = neighbourhood(hits, lexical)
    for source, start, text in regions(chunks):
        spans = sentences(text, start)
        sents += [(source, start, text, spans, j) for j in range(len(spans))]
    span_of = [spans[j] for *_, spans, j in sents]
    ranked = near(sents, hits, REACH)
    if not ranked or k <= 0:
        return Evidence([])
    # Each ranked sentence's chunk (the last to start before it): its section path and page.
    keys = [(c.metadata["source"], c.metadata["start"]) for c in chunks]
    places = {i: chunks[bisect_right(keys, (sents[i][0], span_of[i].start)) - 1] for i in ranked}
    sections = {i: c.metadata.get("section", "") for i, c in places.items()}
    vectors = embed.encode([span_of[i].text for i in ranked])
    cosines = dict(zip(ranked, vectors @ embed.encode([question])[0], strict=True))
    q_terms = set(terms(question))
    q_weight = sum(idf(t) for t in q_terms) or 1.0

    def share(held: set[str]) -> float:
        return sum(idf(t) for t in q_terms & held) / q_weight

    def overlap(text: str) -> float:
        return share(set(terms(text)))

    # A sentence is about what its section is about, and about what its neighbours name
    # ("The default is a comma." follows the option it describes): the heading's words count
    # as its own, and half the score comes from the sentence with both neighbours. Each
    # sentence and heading is read for terms once.
    said = [set(terms(s.text)) for s in span_of]
    heading = {sec: set(terms(sec)) for sec in set(sections.values())}

    def about(i: int) -> float:
        *_, spans, j = sents[i]
        own = heading[sections[i]] | said[i]
        first, last = i - (j > 0), i + (j + 1 < len(spans))  # neighbours in the same region
        return (share(own) + share(own.union(*said[first : last + 1]))) / 2

    scores = {i: about(i) for i in ranked}
    fused = rrf(
        sorted(ranked, key=lambda i: -cosines[i]),
        sorted((i for i in ranked if scores[i] > 0), key=lambda i: -scores[i]),
    )
    passages: list[Passage] = []
    for i in sorted(fused, key=fused.get, reverse=True):
        source, r_start, r_text, spans, j = sents[i]
        if any(p.source == source and p.start <= spans[j].start < p.end for p in passages):
            continue
        window = widen(spans, j, max_chars)
        start, end = window[0].start, window[-1].end
        text = r_text[start - r_start : end - r_start]
        page = places[i].metadata.get("page", 0)
        term = head_of(spans, spans.index(window[0]))
        place = {"section": sections[i], "page": page, "term": term}
        passages.append(Passage(source, start, end, text, window, spans[j], fused[i], **place))
        if len(passages) == k:
            break
    for n, p in enumerate(passages, 1):
        p.n = n
    return Evidence(
        passages,
        best_cosine=float(max(cosines.values())),
        coverage=max((overlap(f"{p.section}\n{p.text}") for p in passages), default=0.0),
        signals={"lexical_max": max(scores.values()), "q_terms": float(len(q_terms))},
    )


def near(
    sents: list[tuple[str, int, str, list[Span], int]], hits: list[Document], reach: int
) -> list[int]:
    """The sentences (indices into ``sents``) that overlap a hit chunk or lie within ``reach``
    sentences of one in the same region."""
    held = [(h.metadata["source"], h.metadata["start"], h.metadata["end"]) for h in hits]
    hit = [
        any(s == src and b < spans[j].end and spans[j].start < e for s, b, e in held)
        for src, _, _, spans, j in sents
    ]
    # ``sents`` holds each region's sentences in order: sentence m of i's region is i - j + m.
    return [
        i
        for i, (*_, spans, j) in enumerate(sents)
        if any(hit[i - j + m] for m in range(max(0, j - reach), min(len(spans), j + reach + 1)))
    ]


def widen(spans: list[Span], i: int, max_chars: int) -> list[Span]:
    """The sentence, then its previous and next neighbours while the window fits, within its
    item: a heading or a definition list's term begins what follows it, so a window takes
    the one before its sentence and stops at the next ("--soft" is not the default that the
    sentence under "--mixed" names). A heading's subheading is still part of its item."""
    lo = hi = i
    for j in (i - 1, i + 1, i - 2, i + 2):
        fits = 0 <= j < len(spans) and spans[max(hi, j)].end - spans[min(lo, j)].start <= max_chars
        if j == lo - 1 and fits and not is_head(spans[lo].text):
            lo = j
        elif j == hi + 1 and fits:
            said = any(not is_head(s.text) for s in spans[lo:j])
            if not (said and is_head(spans[j].text)):
                hi = j
    return spans[lo : hi + 1]
