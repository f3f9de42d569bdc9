"""Sentence ranking on a real index (real Chroma, the bundled embedding model)."""

from __future__ import annotations

from pathlib import Path

from langchain_core.documents import Document

from qa.config import load_settings
from qa.index.ingest import ingest
from qa.index.store import Store
from qa.retrieval.retrieve import HybridRetriever, near, select, widen
from qa.sentences import is_head, sentences

MANUAL = """Options

The color option colours the output. It suits a terminal that shows colours. The default is auto.

Every search walks the tree from its root. The depth option limits how far down the tree the \
search goes. The default is 3.
"""


def test_a_sentence_is_ranked_with_what_its_neighbours_name(tmp_path: Path):
    """Of two sentences alike in their own words ("The default is ..."), the one whose
    neighbour names what the question asks about ranks first."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "manual.txt").write_text(MANUAL)
    settings = load_settings({"index": tmp_path / "index"}, environ={})
    ingest([tmp_path / "docs"], settings)
    store = Store(settings)
    retriever = HybridRetriever(store=store, k=6)
    question = "What depth does the search use by default?"
    hits = retriever.invoke(question)
    # Every sentence a passage of its own (no room to widen), best first.
    evidence = select(
        question, hits, retriever.lexical, retriever.idf, store.embeddings, k=9, max_chars=20
    )
    anchors = [p.anchor.text for p in evidence.passages]
    assert anchors.index("The default is 3.") < anchors.index("The default is auto.")


def test_only_sentences_near_a_hit_are_ranked():
    """A neighbour chunk gives a hit its context; only the hit's own sentences and ``reach``
    either side of them are ranked (each one ranked costs an embedding)."""
    text = " ".join(f"Sentence number {i} is here." for i in range(10))
    spans = sentences(text)
    region = [("a.txt", 0, text, spans, j) for j in range(len(spans))]
    other = sentences("One more. And another.")
    region += [("b.txt", 0, "One more. And another.", other, j) for j in range(len(other))]
    hit = Document("", metadata={"source": "a.txt", "start": spans[4].start, "end": spans[5].end})
    assert near(region, [hit], 2) == [2, 3, 4, 5, 6, 7]
    assert near(region, [hit], 0) == [4, 5]
    elsewhere = Document("", metadata={"source": "b.txt", "start": 0, "end": 3})
    assert near(region, [elsewhere], 1) == [10, 11]


def test_a_passage_keeps_within_its_item_of_a_definition_list():
    """A term begins what follows it: the window around a definition takes the term before
    it and stops before the next term, which another item's description follows."""
    text = (
        "--soft\nKeeps the index.\n--mixed\nResets the index. This is the default.\n"
        "--hard\nResets all."
    )
    spans = sentences(text)
    anchor = next(i for i, s in enumerate(spans) if s.text == "This is the default.")
    window = [s.text for s in widen(spans, anchor, 200)]
    assert window == ["--mixed", "Resets the index.", "This is the default."]
    term = next(i for i, s in enumerate(spans) if s.text == "--hard")
    assert [s.text for s in widen(spans, term, 200)] == ["--hard", "Resets all."]


def test_a_head_is_a_heading_or_a_term_not_a_table_row_or_a_list_of_words():
    assert is_head("--depth <depth>") and is_head("ort") and is_head("11.6. Unique Indexes")
    assert not is_head("boolean  1 byte  state of true or false")  # cells set apart
    assert not is_head("rivers, lakes, sea, coast")  # a page's keywords
    assert not is_head('"The fleet has outrun itself."')  # a quoted sentence ends too
    assert not is_head("Resets the index.")
