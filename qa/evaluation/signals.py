"""Stored signals: every question `qa eval` or `qa calibrate` answers leaves the signals of
its candidate answer and whether that answer is right, so that fitting a decision costs
seconds instead of hours of answering (SQLite, in the cache folder)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from qa.answering.prompts import PROMPT
from qa.config import Settings
from qa.grounding.decision import VERSION
from qa.grounding.judge import JUDGE
from qa.retrieval import retrieve


@dataclass(frozen=True)
class Row:
    group: str  # the question's group (a SQuAD article): cross-validation holds groups out
    answerable: bool
    signals: dict[str, float]
    right: bool  # the candidate answer, if given, is right (never, when unanswerable)


def row_key(settings: Settings, corpus: str, question: str, history: list[str]) -> str:
    """Signals are reused only for the same question, documents, models, prompts and code
    version (another wording of the answer or judge prompt drafts or judges otherwise)."""
    what = [
        VERSION,
        retrieve.VERSION,
        [PROMPT.pretty_repr(), JUDGE.pretty_repr()],
        settings.llm,
        settings.llm_model,
        settings.llm_path,
        settings.llm_base_url,
        settings.embed_model,
        settings.k,
        settings.passage_chars,
        corpus,
        question,
        history,
    ]
    return hashlib.sha256(json.dumps(what, default=str).encode()).hexdigest()


class SignalStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with closing(sqlite3.connect(path)) as db, db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS rows (key TEXT PRIMARY KEY, grp TEXT,"
                " answerable INTEGER, signals TEXT, right INTEGER)"
            )

    @classmethod
    def of(cls, settings: Settings) -> SignalStore:
        return cls(settings.cache_dir / "signals.sqlite")

    def put(self, key: str, row: Row) -> None:
        with closing(sqlite3.connect(self.path)) as db, db:
            db.execute(
                "INSERT OR REPLACE INTO rows VALUES (?, ?, ?, ?, ?)",
                (key, row.group, row.answerable, json.dumps(row.signals), row.right),
            )

    def get(self, keys: list[str]) -> dict[str, Row]:
        """The stored rows among ``keys``."""
        found = {}
        with closing(sqlite3.connect(self.path)) as db:
            for i in range(0, len(keys), 500):
                part = keys[i : i + 500]
                marks = ",".join("?" * len(part))
                for key, grp, answerable, sig, right in db.execute(
                    f"SELECT key, grp, answerable, signals, right FROM rows WHERE key IN ({marks})",
                    part,
                ):
                    found[key] = Row(grp, bool(answerable), json.loads(sig), bool(right))
        return found
