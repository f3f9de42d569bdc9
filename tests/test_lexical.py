"""The persisted lexical index (SQLite FTS5) beside the vectors: ranking, upkeep by ingest,
consistency after a kill between the two writes, and indexes built before it existed."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from langchain_core.documents import Document

from qa.config import load_settings
from qa.index.ingest import ingest
from qa.index.lexical import Lexical, terms
from qa.index.store import Store
from qa.interfaces.cli import main


def chunk(i: int, text: str, source: str = "a.txt", start: int | None = None) -> Document:
    start = i * 100 if start is None else start
    meta = {"source": source, "start": start, "end": start + len(text), "file_hash": "h"}
    return Document(page_content=text, metadata={**meta, "n_chunks": 0}, id=f"c{i}")


def test_bm25_ranks_rare_terms_first_and_replacing_or_deleting_updates_the_index(tmp_path):
    lexical = Lexical(tmp_path / "lexical.sqlite3")
    texts = [
        "The river town is known for its bridges.",
        "The river flooded the town in spring.",
        "A lighthouse keeper logged the storms.",
        "The town council met on Tuesday.",
    ]
    with lexical.transaction():
        lexical.add([chunk(i, t) for i, t in enumerate(texts)])
    assert lexical.count() == 4
    assert lexical.search(terms("the lighthouse by the river"), 4)[0] == "c2"  # rarest term
    assert lexical.df("town") == 3 and lexical.df(terms("storms")[0]) == 1
    with lexical.transaction():
        lexical.add([chunk(2, "A harbour pilot logged the tides.")])  # replaced by id
        lexical.delete(["c3"])
    assert lexical.count() == 3 and lexical.df(terms("storms")[0]) == 0
    assert lexical.search(terms("lighthouse"), 4) == []
    assert lexical.search(terms("harbour pilot"), 4) == ["c2"]
    assert lexical.df("town") == 2


def test_a_failed_write_leaves_nothing_and_neighbours_come_in_order(tmp_path):
    lexical = Lexical(tmp_path / "lexical.sqlite3")
    with lexical.transaction():
        lexical.add([chunk(i, f"Reading {i} at the ridge station.") for i in range(5)])
    try:
        with lexical.transaction():
            lexical.add([chunk(9, "A reading never committed.")])
            raise RuntimeError("killed")
    except RuntimeError:
        pass
    assert lexical.count() == 5 and lexical.get(["c9"]) == []
    assert Lexical(tmp_path / "lexical.sqlite3").count() == 5  # the kept count, reopened
    around = lexical.around("a.txt", 250, 1, 1)  # offset 250 lies in the chunk at 200
    assert [c.id for c in around] == ["c1", "c2", "c3"]
    assert [c.id for c in lexical.around("a.txt", 0, 1, 1)] == ["c0", "c1"]
    assert [c.id for c in lexical.get(["c4", "c0"])] == ["c4", "c0"]


def test_per_file_states_are_kept_by_triggers_and_filled_once_for_an_older_file(tmp_path):
    path = tmp_path / "lexical.sqlite3"
    lexical = Lexical(path)
    last = Document("The end.", metadata={**chunk(2, "").metadata, "n_chunks": 3}, id="c2")
    with lexical.transaction():
        lexical.add([chunk(0, "One."), chunk(1, "Two."), last, chunk(7, "Other.", "b.txt")])
        lexical.add([chunk(1, "Two, again.")])  # a replaced chunk is counted once
    states = lexical.sources()
    assert (states["a.txt"].chunks, states["a.txt"].expected) == (3, 3)
    assert states["a.txt"].complete and not states["b.txt"].complete
    with lexical.transaction():
        lexical.delete(["c7"])
        new = {**chunk(0, "").metadata, "file_hash": "h2"}
        lexical.add([Document("New.", metadata=new, id="c0")])
    assert "b.txt" not in lexical.sources()
    assert lexical.sources()["a.txt"].hashes == {"h", "h2"}  # mid-update: two versions
    # A file written before the table existed gets it filled once from its chunks.
    lexical.db.executescript("DROP TABLE files; DROP TRIGGER filed; DROP TRIGGER unfiled;")
    assert Lexical(path).sources() == lexical.sources() != {}


def test_ingest_keeps_both_sides_equal_and_status_reports_a_mismatch(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The alpha station opened in 1901 on the northern ridge.\n")
    (docs / "b.txt").write_text("Bravo is a river town known for its stone bridges.\n")
    settings = load_settings({"index": tmp_path / "index"}, environ={})
    ingest([docs], settings)
    store = Store(settings)
    assert store.mismatch() is None and store.lexical.count() == 2
    # A run killed after the vectors were written but before the lexical rows committed:
    # vectors the lexical index lacks.
    extra = chunk(7, "Half-written text of a file that changed since.", source="docs/b.txt")
    store.collection.upsert(
        ids=[extra.id],
        embeddings=store.embeddings.embed_documents([extra.page_content]),
        documents=[extra.page_content],
        metadatas=[extra.metadata],
    )
    runner = CliRunner()
    status = runner.invoke(main, ["status", "--index", str(tmp_path / "index")])
    assert status.exit_code == 1 and "lexical index holds 2 chunks, the vectors 3" in status.output
    (docs / "b.txt").write_text("Bravo is a river town known for its iron bridges.\n")
    ingest([docs], settings)
    status = runner.invoke(main, ["status", "--index", str(tmp_path / "index")])
    assert status.exit_code == 0, status.output
    assert Store(settings).lexical.search(terms("iron bridges"), 2)


def test_an_index_without_a_lexical_file_gets_one_from_its_vectors(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(3):
        (docs / f"{i}.txt").write_text(f"Station {i} logged the tides of the northern bay.\n")
    settings = load_settings({"index": tmp_path / "index"}, environ={})
    ingest([docs], settings)
    before = [c.id for c in Store(settings).chunks()]
    for path in (tmp_path / "index").glob("lexical-*"):
        path.unlink()
    store = Store(settings)
    assert [c.id for c in store.chunks()] == before and store.mismatch() is None
    assert len(store.lexical.search(terms("tides"), 5)) == 3
