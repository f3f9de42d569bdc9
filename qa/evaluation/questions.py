"""Question sets: the project's YAML (``{id, q, expect, support?, answerable?, history?,
group?}``) or SQuAD v2.0 JSON, whose articles are indexed into a temporary index."""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from qa.config import Settings
from qa.errors import UsageError


def eval_file_of(settings: Settings) -> Path:
    """Where the questions of ``settings.collection`` are kept: ``QA_EVAL_FILE`` for the
    default collection (docqa), and for collection NAME the same file with ``-NAME`` before
    its suffix (``eval_questions-ferries.yaml``): ``qa ask --save`` writes there and
    ``qa eval --collection NAME`` reads it."""
    own = settings.eval_file
    if settings.collection == Settings.collection:
        return own
    return own.with_name(f"{own.stem}-{settings.collection}{own.suffix}")


@dataclass
class Question:
    id: str
    q: str
    expect: list[list[str]] = field(default_factory=list)
    support: str = ""
    answerable: bool = True
    history: list[str] = field(default_factory=list)
    squad: bool = False  # score with SQuAD's normalisation
    group: str = ""  # reported apart: a SQuAD article's title, or the YAML's `group`


def load_questions(path: Path) -> tuple[list[Question], dict[str, str]]:
    """Questions, plus the documents to index for them (SQuAD: title -> paragraphs)."""
    if not path.is_file():
        raise UsageError(f"no such question file: {path}")
    try:
        if path.suffix.lower() == ".json":
            return _squad(json.loads(path.read_text()))
        raw = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot parse {path}: {e}") from None
    if not isinstance(raw, list):
        raise UsageError(f"{path}: expected a list of questions")
    questions = []
    for i, item in enumerate(raw):
        try:
            expect = [[str(p) for p in group] for group in item.get("expect") or []]
            q = Question(
                str(item["id"]),
                str(item["q"]),
                expect,
                str(item.get("support") or ""),
                bool(item.get("answerable", True)),
                [str(h) for h in item.get("history") or []],
                group=str(item.get("group") or ""),
            )
        except (KeyError, TypeError, AttributeError):
            raise UsageError(f"{path}: entry {i + 1} needs at least id and q") from None
        if q.answerable and not q.expect:
            raise UsageError(f"{path}: {q.id} is answerable but has no expect")
        questions.append(q)
    if len({q.id for q in questions}) != len(questions):
        raise UsageError(f"{path}: question ids must be unique")
    return questions, {}


def _squad(data: dict) -> tuple[list[Question], dict[str, str]]:
    questions, docs = [], {}
    for article in data.get("data", []):
        title = article.get("title") or f"article{len(docs) + 1}"
        docs[title] = "\n\n".join(p["context"] for p in article["paragraphs"])
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                impossible = bool(qa.get("is_impossible"))
                golds = sorted({a["text"] for a in qa.get("answers", [])})
                questions.append(
                    Question(
                        str(qa["id"]),
                        qa["question"],
                        [golds] if golds else [],
                        answerable=not impossible,
                        squad=True,
                        group=title,
                    )
                )
    if not questions:
        raise UsageError("the SQuAD file holds no questions")
    return questions, docs


def corpus_id(docs: dict[str, str], settings: Settings) -> str:
    """What the questions are asked of, as a key: the paragraphs a SQuAD file indexes, or
    else the user's own index and collection."""
    if not docs:
        return f"{settings.index.resolve()}#{settings.collection}"
    return hashlib.sha256(json.dumps(docs, sort_keys=True).encode()).hexdigest()


@contextmanager
def squad_index(docs: dict[str, str], settings: Settings):
    """Index SQuAD paragraphs (one file per article) into a temporary index."""
    from qa.index.ingest import ingest

    with tempfile.TemporaryDirectory(prefix="qa-squad-") as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        for i, (title, text) in enumerate(docs.items()):
            safe = re.sub(r"[^\w.-]+", "_", title)[:80] or "article"
            (folder / f"{i:03d}-{safe}.txt").write_text(text)
        scoped = settings.with_overrides(
            index=Path(tmp) / "index", chroma_url="", collection="squad"
        )
        ingest([folder], scoped)
        yield scoped
