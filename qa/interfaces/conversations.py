"""Conversations kept: each one's questions and checked answers, saved in SQLite beside the
index (``INDEX/conversations.sqlite``), so that the chat page can list and reopen them after
a restart and programs can continue one through the API.

A conversation belongs to the user who started it (the signed-in name; ``anyone`` on a
server without users) and to one collection; nobody else reads, renames or deletes it: to
anyone else it does not exist (``NoConversationError``, 404). Each turn keeps the question
and the answer's JSON (``Answer.to_json``, the ``qa ask --json`` object), so a reopened
answer shows its citations as it did when it was given.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qa.answering.answer import Answer
from qa.errors import BackendError, NoConversationError, UsageError

FILE = "conversations.sqlite"
MAX_TITLE = 200  # characters: a title is the first question, or what the user renamed it to
SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, collection TEXT NOT NULL, title TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS by_owner ON conversations (owner, updated);
CREATE TABLE IF NOT EXISTS turns (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    n INTEGER NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, asked REAL NOT NULL,
    PRIMARY KEY (conversation, n));
"""


@dataclass(frozen=True)
class Turn:
    """One question and the answer given, as JSON (``Answer.to_json``)."""

    question: str
    answer: dict[str, Any]
    asked: float  # seconds since the epoch

    @property
    def checked(self) -> Answer:
        """The answer as an ``Answer`` again (without how it was checked)."""
        return Answer.from_json(self.answer)

    def to_json(self) -> dict[str, Any]:
        return {"question": self.question, "answer": self.answer, "asked": iso(self.asked)}


@dataclass(frozen=True)
class Conversation:
    id: str
    owner: str
    collection: str
    title: str
    created: float
    updated: float
    turns: list[Turn] = field(default_factory=list)  # empty when listed

    @property
    def history(self) -> list[str]:
        """What a follow-up question is asked with: each earlier question and its answer,
        whose names resolve "he" or "it" (as the chat page keeps it)."""
        return [f"{t.question} {t.answer.get('answer', '')}" for t in self.turns]

    def to_json(self, turns: bool = False) -> dict[str, Any]:
        out = {
            "id": self.id,
            "collection": self.collection,
            "title": self.title,
            "created": iso(self.created),
            "updated": iso(self.updated),
        }
        return {**out, "turns": [t.to_json() for t in self.turns]} if turns else out


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def title_of(text: str) -> str:
    """A title from a question or a rename: one line, at most ``MAX_TITLE`` characters."""
    title = " ".join(text.split())
    if not title:
        raise UsageError("a conversation's title cannot be empty")
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…"


class Conversations:
    """The conversations file of one index. One connection, opened on first use, serves the
    process's threads in turn (each call is short); other processes on the same file are
    kept apart by SQLite's locks, and WAL lets readers go on while one writes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db_open: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @classmethod
    def beside(cls, index: Path) -> Conversations:
        return cls(index / FILE)

    def _open(self) -> sqlite3.Connection:
        """The file, created on first use (never on import or construction)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA journal_mode = WAL")
        # With WAL, NORMAL loses at most the last answers on a power cut, never the file.
        db.execute("PRAGMA synchronous = NORMAL")
        db.executescript(SCHEMA)
        return db

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """One transaction, committed whole or rolled back; SQLite's errors as ours."""
        with self._lock:
            try:
                self._db_open = self._db_open or self._open()
                with self._db_open:
                    yield self._db_open
            except (sqlite3.Error, OSError) as e:
                raise BackendError(f"the conversations file {self.path}: {e}") from e

    def start(self, owner: str, collection: str, question: str) -> Conversation:
        """A new, empty conversation titled by its first question."""
        now = time.time()
        made = Conversation(uuid.uuid4().hex, owner, collection, title_of(question), now, now)
        with self._db() as db:
            db.execute(
                "INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?)",
                (made.id, owner, collection, made.title, now, now),
            )
        return made

    def add(self, conversation_id: str, question: str, answer: dict[str, Any]) -> Turn:
        """Append a turn to a conversation (whose owner ``start`` or ``get`` checked)."""
        turn = Turn(question, answer, time.time())
        with self._db() as db:
            db.execute(
                "INSERT INTO turns VALUES (?, (SELECT COUNT(*) FROM turns WHERE conversation = ?),"
                " ?, ?, ?)",
                (conversation_id, conversation_id, question, json.dumps(answer), turn.asked),
            )
            db.execute(
                "UPDATE conversations SET updated = ? WHERE id = ?", (turn.asked, conversation_id)
            )
        return turn

    def list(self, owner: str) -> list[Conversation]:
        """``owner``'s conversations, the latest updated first (without their turns)."""
        with self._db() as db:
            rows = db.execute(
                "SELECT * FROM conversations WHERE owner = ? ORDER BY updated DESC, created DESC",
                (owner,),
            ).fetchall()
        return [Conversation(*row) for row in rows]

    def get(self, conversation_id: str, owner: str) -> Conversation:
        """``owner``'s conversation with its turns; anyone else's does not exist for them."""
        with self._db() as db:
            row = db.execute(
                "SELECT * FROM conversations WHERE id = ? AND owner = ?", (conversation_id, owner)
            ).fetchone()
            if row is None:
                raise NoConversationError(conversation_id)
            turns = db.execute(
                "SELECT question, answer, asked FROM turns WHERE conversation = ? ORDER BY n",
                (conversation_id,),
            ).fetchall()
        return Conversation(*row, [Turn(q, json.loads(a), t) for q, a, t in turns])

    def rename(self, conversation_id: str, owner: str, title: str) -> Conversation:
        with self._db() as db:
            changed = db.execute(
                "UPDATE conversations SET title = ? WHERE id = ? AND owner = ?",
                (title_of(title), conversation_id, owner),
            ).rowcount
        if not changed:
            raise NoConversationError(conversation_id)
        return self.get(conversation_id, owner)

    def delete(self, conversation_id: str, owner: str) -> None:
        with self._db() as db:
            gone = db.execute(
                "DELETE FROM conversations WHERE id = ? AND owner = ?", (conversation_id, owner)
            ).rowcount
        if not gone:
            raise NoConversationError(conversation_id)


def markdown(conversation: Conversation) -> str:
    """The conversation as Markdown: each question, its answer, and the answer's citations
    numbered as in the answer, with source, section and page, and the quote."""
    lines = [
        f"# {conversation.title}",
        "",
        f"Collection `{conversation.collection}` · started {iso(conversation.created)} · "
        f"last answer {iso(conversation.updated)}",
    ]
    for turn in conversation.turns:
        answer = turn.checked
        lines += ["", f"## {turn.question}", "", answer.answer]
        if answer.citations:
            lines += ["", "Sources:", ""]
        for c in answer.citations:
            where = f" ({c.where})" if c.where else ""
            quote = " ".join(c.quote.split())
            lines.append(f"{c.n}. `{c.source}:{c.start}-{c.end}`{where}: “{quote}”")
    return "\n".join(lines) + "\n"
