"""Property tests: every offset docqa reports slices its source back to the same text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.documents import Document

from qa.config import load_settings
from qa.ingest import split
from qa.text import sentences

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
    for chunk in split(Document(page_content=text, metadata={"source": "x"}), config):
        m = chunk.metadata
        assert text[m["start"] : m["end"]] == chunk.page_content


@settings(max_examples=300, deadline=None)
@given(TEXT, st.integers(0, 10_000))
def test_sentence_offsets_slice_the_source(text: str, offset: int):
    for span in sentences(text, offset):
        assert text[span.start - offset : span.end - offset] == span.text
        assert span.text == span.text.strip() and span.text
