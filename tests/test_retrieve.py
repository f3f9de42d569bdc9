"""Sentence ranking on a real index (real Chroma, the bundled embedding model)."""

from __future__ import annotations

from pathlib import Path

from qa.config import load_settings
from qa.ingest import ingest
from qa.retrieve import HybridRetriever, select
from qa.store import Store

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
    evidence = select(question, hits, retriever, store.embeddings, k=9, max_chars=20)
    anchors = [p.anchor.text for p in evidence.passages]
    assert anchors.index("The default is 3.") < anchors.index("The default is auto.")
