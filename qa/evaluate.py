"""`qa eval`: score the answer chain on a question set, report, and gate regressions.

Reads the project's YAML (``{id, q, expect, support?, answerable?, history?}``) or SQuAD
v2.0 JSON, whose paragraphs are indexed into a temporary index first. Every question goes
through the same ``Answerer`` as ``qa ask``.
"""

from __future__ import annotations

import json
import re
import string
import tempfile
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from statistics import quantiles
from typing import Any

import yaml

from qa.config import Settings
from qa.errors import UsageError


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


def normalise(text: str) -> str:
    """Case-insensitive, whitespace-normalised (the project's own question sets)."""
    return " ".join(text.lower().replace("’", "'").split())


def squad_normalise(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def matches(text: str, expect: list[list[str]], squad: bool = False) -> bool:
    """Every group has a phrase contained in ``text``."""
    norm = squad_normalise if squad else normalise
    hay = norm(text)
    return bool(expect) and all(any(norm(p) in hay for p in group) for group in expect)


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


@dataclass
class Result:
    id: str
    question: str
    answerable: bool
    answer: str
    declined: bool
    citations: list[dict[str, Any]]
    correct: bool
    cited: bool
    passed: bool
    reason: str
    latency_s: float
    mode: str = ""  # generated | quoted | declined
    draft: str = ""  # the model's own words, before grounding
    group: str = ""


def score(q: Question, answer: dict[str, Any]) -> Result:
    """Judge one answer (a ``qa ask --json`` object) against its question."""
    declined = bool(answer["declined"])
    quotes = " ".join(c["quote"] for c in answer["citations"])
    correct = q.answerable and not declined and matches(answer["answer"], q.expect, q.squad)
    cited = correct and (
        matches(quotes, q.expect, q.squad)
        or bool(q.support and normalise(q.support) in normalise(quotes))
    )
    if not q.answerable:
        passed, reason = declined, "declined" if declined else "answered an unanswerable question"
    elif declined:
        passed, reason = False, "declined an answerable question"
    elif not correct:
        passed, reason = False, "wrong answer"
    elif not cited:
        passed, reason = False, "correct, but no citation holds the answer"
    else:
        passed, reason = True, "correct and cited"
    return Result(
        q.id,
        q.q,
        q.answerable,
        answer["answer"],
        declined,
        answer["citations"],
        correct,
        cited,
        passed,
        reason,
        answer["timings"].get("total_s", 0.0),
        answer.get("grounding", {}).get("mode", ""),
        answer.get("grounding", {}).get("draft", ""),
        q.group,
    )


def summarise(results: list[Result]) -> dict[str, Any]:
    ans = [r for r in results if r.answerable]
    una = [r for r in results if not r.answerable]
    lat = sorted(r.latency_s for r in results)
    pct = quantiles(lat, n=20, method="inclusive") if len(lat) > 1 else lat * 19

    def share(n: int, of: list) -> float:
        return round(n / len(of), 3) if of else 0.0

    return {
        "answerable": len(ans),
        "correct": sum(r.correct for r in ans),
        "cited": sum(r.cited for r in ans),
        "wrong": sum(not r.declined and not r.correct for r in ans),
        "declined_answerable": sum(r.declined for r in ans),
        "unanswerable": len(una),
        "declined_unanswerable": sum(r.declined for r in una),
        "correct_rate": share(sum(r.correct for r in ans), ans),
        "cited_rate": share(sum(r.cited for r in ans), ans),
        "decline_rate": share(sum(r.declined for r in una), una),
        "p50_s": round(pct[9], 2) if pct else 0.0,
        "p95_s": round(pct[18], 2) if pct else 0.0,
    }


def regressions(report: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    """Ids that passed in the baseline and fail now."""
    before = {r["id"] for r in baseline.get("questions", []) if r["passed"]}
    return [r["id"] for r in report["questions"] if r["id"] in before and not r["passed"]]


def below_thresholds(summary: dict[str, Any], settings: Settings) -> list[str]:
    checks = [("cited_rate", settings.eval_min_cited), ("decline_rate", settings.eval_min_declined)]
    return [
        f"{name} {summary[name]:.2f} < {floor:.2f}"
        for name, floor in checks
        if summary[name] < floor
        and (summary["answerable"] if name == "cited_rate" else summary["unanswerable"])
    ]


@contextmanager
def squad_index(docs: dict[str, str], settings: Settings):
    """Index SQuAD paragraphs (one file per article) into a temporary index."""
    from qa.ingest import ingest

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


def run(
    questions: list[Question],
    settings: Settings,
    progress: Callable[[Iterable[Question]], Iterable[Question]] = lambda it: it,
    answerer=None,
) -> dict[str, Any]:
    """Answer and score every question; the report as a JSON-ready dict."""
    from qa.chain import Answerer

    answerer = answerer or Answerer(settings)
    answerer.warm_up()  # latency is measured warm, as in batch mode
    results = []
    for q in progress(questions):
        answer = answerer.ask(q.q, history=q.history).to_json()
        results.append(score(q, answer))
    groups = sorted({r.group for r in results if r.group})
    report = {
        "summary": summarise(results),
        "groups": {g: summarise([r for r in results if r.group == g]) for g in groups},
        "settings": {
            "llm": settings.llm,
            "llm_model": settings.llm_model,
            "k": settings.k,
            "passage_chars": settings.passage_chars,
            "grounding": settings.grounding,
            "judge": settings.judge,
            "embed_model": settings.embed_model,
        },
        "questions": [r.__dict__ for r in results],
    }
    return report
