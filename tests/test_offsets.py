"""Property tests: every offset docqa reports slices its source back to the same text."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.documents import Document

from qa.config import load_settings
from qa.documents import loaders
from qa.index.ingest import split
from qa.sentences import sentences

# Pieces that stress the splitters: stops, abbreviations, quotes, blank lines, runs of spaces.
PIECES = [
    "Iran",
    "the",
    "U.S.",
    "Mr.",
    "said",
    ".",
    "!",
    "?",
    '"',
    "'",
    ",",
    " ",
    "  ",
    "\n",
    "\n\n",
    "A",
]
TEXT = st.lists(st.sampled_from(PIECES), min_size=1, max_size=400).map("".join)


@settings(max_examples=150, deadline=None)
@given(TEXT, st.integers(20, 400), st.integers(0, 19))
def test_chunk_offsets_slice_the_source(text: str, size: int, overlap: int):
    config = load_settings({"chunk_size": size, "chunk_overlap": overlap}, environ={})
    for chunk in split([Document(page_content=text, metadata={"source": "x"})], config, "h"):
        m = chunk.metadata
        assert text[m["start"] : m["end"]] == chunk.page_content


@pytest.fixture
def small_pieces(monkeypatch):
    """Stream in pieces of a few dozen characters, so short texts span many."""
    monkeypatch.setattr(loaders, "BLOCK", 7)
    monkeypatch.setattr(loaders, "PIECE", 40)


# The fixture's patch is the same for every example, so sharing it is safe.
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(TEXT.map(lambda t: t + "é€ – ok"), st.integers(20, 200))
def test_streamed_chunk_offsets_slice_the_whole_file(small_pieces, text: str, size: int):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.txt"
        path.write_text(text, encoding="utf-8")  # multi-byte characters cross block edges
        loader = loaders.FileLoader(path, "big.txt")
        loader.fingerprint()  # checks it is text, reading block by block
        pieces = list(loader.lazy_load())
        assert "".join(p.page_content for p in pieces) == text
        ends = [p.metadata["offset"] + len(p.page_content) for p in pieces]
        assert [p.metadata["offset"] for p in pieces] == [0, *ends[:-1]]
        config = load_settings({"chunk_size": size, "chunk_overlap": 10}, environ={})
        for chunk in split(pieces, config, "h"):
            m = chunk.metadata
            assert text[m["start"] : m["end"]] == chunk.page_content


@settings(max_examples=300, deadline=None)
@given(TEXT, st.integers(0, 10_000))
def test_sentence_offsets_slice_the_source(text: str, offset: int):
    for span in sentences(text, offset):
        assert text[span.start - offset : span.end - offset] == span.text
        assert span.text == span.text.strip() and span.text
