"""The lexical side of the index: every chunk's text and place, and a full-text index over
its terms (SQLite FTS5, ranked by BM25), in one file beside the vectors.

Nothing here is read whole: opening costs the same at a thousand chunks and at a million,
and search, term statistics and a chunk's neighbours are each one indexed query.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.documents import Document

from qa.config import Settings
from qa.text import content_words, stem

# How telling a term is ("use" little, "abort" much): its idf in the index.
Weight = Callable[[str], float]
POSTINGS = 20_000  # the most postings a query reads beyond its rarest term's (see search)

SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    start INTEGER NOT NULL,
    file_hash TEXT NOT NULL,
    n_chunks INTEGER NOT NULL,
    text TEXT NOT NULL,
    meta TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_place ON chunks (source, start);
-- The indexed text is the chunk's terms (qa.text's words, stemmed) joined by spaces, and
-- the tokenizer splits on spaces only: each term, "medium-range" too, is one FTS token.
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5 (
    terms, tokenize = "unicode61 remove_diacritics 0 tokenchars '-_.’'''"
);
CREATE VIRTUAL TABLE IF NOT EXISTS vocab USING fts5vocab (search, 'row');
-- The chunk count, kept by triggers: count(*) would read the whole table.
CREATE TABLE IF NOT EXISTS stats (chunks INTEGER NOT NULL);
INSERT INTO stats SELECT (SELECT count(*) FROM chunks) WHERE NOT EXISTS (SELECT 1 FROM stats);
CREATE TRIGGER IF NOT EXISTS counted AFTER INSERT ON chunks
    BEGIN UPDATE stats SET chunks = chunks + 1; END;
CREATE TRIGGER IF NOT EXISTS uncounted AFTER DELETE ON chunks
    BEGIN UPDATE stats SET chunks = chunks - 1; END;
-- Chunks per (file, version, chunk count carried), kept by triggers: what `qa status` and
-- the page show is then read per file, not per chunk.
CREATE TABLE IF NOT EXISTS files (
    source TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    expected INTEGER NOT NULL,
    chunks INTEGER NOT NULL,
    PRIMARY KEY (source, file_hash, expected)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS filed AFTER INSERT ON chunks BEGIN
    INSERT INTO files VALUES (new.source, new.file_hash, new.n_chunks, 1)
        ON CONFLICT (source, file_hash, expected) DO UPDATE SET chunks = chunks + 1;
END;
CREATE TRIGGER IF NOT EXISTS unfiled AFTER DELETE ON chunks BEGIN
    UPDATE files SET chunks = chunks - 1
        WHERE (source, file_hash, expected) = (old.source, old.file_hash, old.n_chunks);
    DELETE FROM files WHERE chunks = 0
        AND (source, file_hash, expected) = (old.source, old.file_hash, old.n_chunks);
END;
"""
# An index written before the files table gets it filled once, from its chunks.
FILL_FILES = """
INSERT INTO files SELECT source, file_hash, n_chunks, count(*) FROM chunks
    WHERE NOT EXISTS (SELECT 1 FROM files) GROUP BY source, file_hash, n_chunks;
"""


@dataclass
class SourceState:
    """What the index holds for one source file."""

    hashes: set[str] = field(default_factory=set)
    chunks: int = 0
    expected: int = 0  # chunk count, carried by the file's last chunk once it is written

    @property
    def complete(self) -> bool:
        return len(self.hashes) == 1 and self.chunks == self.expected


def lexical_path(settings: Settings) -> Path:
    """Where an index's lexical side lives: beside its vectors, one file per collection."""
    return settings.index / f"lexical-{settings.collection}.sqlite3"


def terms(text: str) -> list[str]:
    """A text's searchable terms: its content words, stemmed."""
    return [stem(w) for w in content_words(text)]


def searchable(chunk: Document) -> str:
    """What a chunk is found by: its text under its section path, since a heading says what
    the text below it is about ("CREATE INDEX › Parameters")."""
    section = chunk.metadata.get("section")
    return f"{section}\n{chunk.page_content}" if section else chunk.page_content


def _phrase(term: str) -> str:
    """A term as an FTS5 string (its hyphens and dots are no query syntax)."""
    return '"' + term.replace('"', '""') + '"'


def _document(chunk_id: str, text: str, meta: str) -> Document:
    return Document(page_content=text, metadata=json.loads(meta), id=chunk_id)


class Lexical:
    """Chunks and their BM25 index in SQLite. Writes happen inside ``transaction()`` so
    that a batch lands whole or not at all."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection, shared by a server's worker threads; SQLite serialises its use.
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.lock = threading.RLock()
        self.db.execute("PRAGMA journal_mode=WAL")  # readers go on while ingest writes
        self.db.execute("PRAGMA busy_timeout=30000")
        # The schema is written only where it is missing (a new file, or one from before the
        # files table), so an ordinary open takes no write lock and never waits on an ingest.
        # One transaction: a process that opens the file meanwhile sees all of it or none.
        if not self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'files'").fetchone():
            self.db.executescript(f"BEGIN IMMEDIATE; {SCHEMA} {FILL_FILES} COMMIT;")

    def close(self) -> None:
        self.db.close()

    # Writing

    @contextmanager
    def transaction(self) -> Iterator[Lexical]:
        """Commit on success, roll back on error (and on a kill: SQLite's journal)."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def add(self, chunks: list[Document]) -> None:
        """Add or replace chunks (by id)."""
        self.delete([c.id for c in chunks])
        for c in chunks:
            m = c.metadata
            row = self.db.execute(
                "INSERT INTO chunks (id, source, start, file_hash, n_chunks, text, meta)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    c.id,
                    m["source"],
                    m["start"],
                    m.get("file_hash", ""),
                    m.get("n_chunks", 0),
                    c.page_content,
                    json.dumps(m),
                ),
            ).lastrowid
            self.db.execute(
                "INSERT INTO search (rowid, terms) VALUES (?, ?)",
                (row, " ".join(terms(searchable(c)))),
            )

    def delete(self, ids: Iterable[str]) -> None:
        for chunk_id in ids:
            found = self.db.execute("SELECT rowid FROM chunks WHERE id = ?", (chunk_id,)).fetchone()
            if found:
                self.db.execute("DELETE FROM search WHERE rowid = ?", found)
                self.db.execute("DELETE FROM chunks WHERE rowid = ?", found)

    # Reading

    def count(self) -> int:
        return self.db.execute("SELECT chunks FROM stats").fetchone()[0]

    def sources(self) -> dict[str, SourceState]:
        """What the index holds for each source file."""
        states: dict[str, SourceState] = {}
        rows = self.db.execute("SELECT source, file_hash, expected, chunks FROM files")
        for source, file_hash, expected, chunks in rows:
            state = states.setdefault(source, SourceState())
            state.hashes.add(file_hash)
            state.chunks += chunks
            state.expected = max(state.expected, expected)
        return states

    def ids(self, source: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE source = ?", (source,))]

    def chunks(self) -> Iterator[Document]:
        """Every chunk in source order (for rebuilding documents; reads the whole index)."""
        for row in self.db.execute("SELECT id, text, meta FROM chunks ORDER BY source, start"):
            yield _document(*row)

    def get(self, ids: list[str]) -> list[Document]:
        """The chunks with these ids, in the order given (unknown ids left out)."""
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(f"SELECT id, text, meta FROM chunks WHERE id IN ({marks})", ids)
        found = {row[0]: _document(*row) for row in rows}
        return [found[i] for i in ids if i in found]

    def search(self, query_terms: list[str], k: int) -> list[str]:
        """Ids of the ``k`` chunks that best match the terms, by BM25.

        BM25 in FTS5 reads every posting of every term, so a term in most chunks costs much
        and weighs little (its idf is near 0). Terms are taken rarest first, and a common
        one only while the postings read stay within ``POSTINGS``: a query then costs about
        the same at any corpus size, and on a small corpus every term counts."""
        if k <= 0 or not query_terms:
            return []
        kept: list[str] = []
        read = 0
        for df, term in sorted((self.df(t), t) for t in dict.fromkeys(query_terms)):
            if df and (not kept or read + df <= POSTINGS):
                kept.append(term)
                read += df
        if not kept:
            return []
        rows = self.db.execute(
            "SELECT c.id FROM search JOIN chunks c ON c.rowid = search.rowid"
            " WHERE search MATCH ? ORDER BY bm25(search) LIMIT ?",
            (" OR ".join(_phrase(t) for t in kept), k),
        )
        return [r[0] for r in rows]

    def holding(self, query_terms: list[str], k: int = 1000) -> list[Document]:
        """Up to ``k`` chunks that hold every one of the terms (as ``terms`` gives them):
        whether words occur together anywhere in the index is one query."""
        if not query_terms:
            return []
        rows = self.db.execute(
            "SELECT c.id, c.text, c.meta FROM search JOIN chunks c ON c.rowid = search.rowid"
            " WHERE search MATCH ? LIMIT ?",
            (" AND ".join(_phrase(t) for t in dict.fromkeys(query_terms)), k),
        )
        return [_document(*row) for row in rows]

    def df(self, term: str) -> int:
        """How many chunks hold the term."""
        row = self.db.execute("SELECT doc FROM vocab WHERE term = ?", (term,)).fetchone()
        return row[0] if row else 0

    def around(self, source: str, start: int, before: int, after: int) -> list[Document]:
        """The chunk of ``source`` holding offset ``start``, with up to ``before`` chunks
        before it and ``after`` after, in order."""
        head = self.db.execute(
            "SELECT id, text, meta FROM chunks WHERE source = ? AND start <= ?"
            " ORDER BY start DESC LIMIT ?",
            (source, start, before + 1),
        ).fetchall()
        tail = self.db.execute(
            "SELECT id, text, meta FROM chunks WHERE source = ? AND start > ?"
            " ORDER BY start LIMIT ?",
            (source, start, after),
        ).fetchall()
        return [_document(*row) for row in [*reversed(head), *tail]]
