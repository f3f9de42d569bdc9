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
from typing import Any

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
            return _squad(json.loads(path.read_text()), path)
        raw = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot parse {path}: {e}") from None
    if not isinstance(raw, list):
        raise UsageError(f"{path}: expected a list of questions")
    questions = [_entry(item, i, path) for i, item in enumerate(raw)]
    if len({q.id for q in questions}) != len(questions):
        raise UsageError(f"{path}: question ids must be unique")
    return questions, {}


EXPECT_FORM = "expect must be a list of lists of strings ([[a, b], [c]])"


def _text(value: object) -> str | None:
    """A YAML scalar as text; None for a list, a mapping, null or a boolean (YAML reads an
    unquoted yes, no, on or off as one, so it is not taken for the word)."""
    if value is None or isinstance(value, (bool, list, dict)):
        return None
    return str(value)


def _entry(item: object, i: int, path: Path) -> Question:
    """Entry ``i`` of a YAML file, each field checked for its shape: a string where a list
    belongs would be read a character at a time, and ``"false"`` as true."""
    if not isinstance(item, dict) or _text(item.get("id")) is None or _text(item.get("q")) is None:
        raise UsageError(f"{path}: entry {i + 1} needs at least id and q")
    qid = str(item["id"])

    def bad(problem: str) -> UsageError:
        return UsageError(f"{path}: entry {qid}: {problem}")

    expect = item.get("expect")
    groups = [_texts(g) for g in expect] if isinstance(expect, list) else [None]
    if expect is not None and (None in groups or [] in groups):
        if _texts(expect):
            # A flat list is one any-of group or groups of one each: only the user knows.
            raise bad(f"{EXPECT_FORM}; each inner list is one any-of group")
        raise bad(EXPECT_FORM)
    history = item.get("history")
    turns = [] if history is None else _texts(history)
    if turns is None:
        raise bad("history must be a list of questions")
    answerable = item.get("answerable", True)
    if not isinstance(answerable, bool):
        raise bad("answerable must be true or false")
    support, group = (item.get(k) or "" for k in ("support", "group"))
    for name, value in (("support", support), ("group", group)):
        if _text(value) is None:
            raise bad(f"{name} must be a string")
    if answerable and not expect:
        raise UsageError(f"{path}: {qid} is answerable but has no expect")
    return Question(
        qid,
        str(item["q"]),
        groups if expect else [],
        str(support),
        answerable,
        turns,
        group=str(group),
    )


def _texts(value: object) -> list[str] | None:
    """A YAML list of scalars as texts; None for anything else."""
    if not isinstance(value, list):
        return None
    texts = [_text(v) for v in value]
    return None if None in texts else texts


def _squad(data: object, path: Path) -> tuple[list[Question], dict[str, str]]:
    """A SQuAD file's questions and articles; a part missing is named by its place."""
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise UsageError(
            f'{path}: not SQuAD v2.0 JSON: expected an object with a "data" list of articles'
        )
    questions, docs = [], {}
    for a, article in enumerate(data["data"], 1):
        paragraphs = _part(article, "paragraphs", list, f"article {a}", path)
        title = str(article.get("title") or f"article{len(docs) + 1}")
        contexts = []
        for p, para in enumerate(paragraphs, 1):
            where = f"article {a}, paragraph {p}"
            contexts.append(_part(para, "context", str, where, path))
            for n, qa in enumerate(_part(para, "qas", list, where, path), 1):
                qid = str(_part(qa, "id", (str, int), f"{where}, question {n}", path))
                named = f"question {qid}"
                question = _part(qa, "question", str, named, path)
                impossible = qa.get("is_impossible", False)
                if not isinstance(impossible, bool):
                    raise UsageError(f"{path}: SQuAD {named}: is_impossible must be true or false")
                answers = qa.get("answers") or []
                if not isinstance(answers, list):
                    raise UsageError(f"{path}: SQuAD {named}: answers must be a list")
                golds = sorted(
                    {
                        _part(x, "text", str, f"{named}, answer {k}", path)
                        for k, x in enumerate(answers, 1)
                    }
                )
                questions.append(
                    Question(
                        qid,
                        question,
                        [golds] if golds else [],
                        answerable=not impossible,
                        squad=True,
                        group=title,
                    )
                )
        docs[title] = "\n\n".join(contexts)
    if not questions:
        raise UsageError(f"{path}: the SQuAD file holds no questions")
    return questions, docs


def _part(obj: object, key: str, kind: type | tuple[type, ...], where: str, path: Path) -> Any:
    """``obj[key]`` where it is a ``kind``; else one line saying what is missing."""
    if not isinstance(obj, dict):
        raise UsageError(f"{path}: SQuAD {where} is not an object")
    value = obj.get(key)
    if value is None:
        raise UsageError(f"{path}: SQuAD {where} has no {key}")
    if not isinstance(value, kind) or isinstance(value, bool):
        shape = "a list" if kind is list else "a string"
        raise UsageError(f"{path}: SQuAD {where}: {key} must be {shape}")
    return value


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
