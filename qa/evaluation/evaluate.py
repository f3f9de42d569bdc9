"""`qa eval`: score the answer chain on a question set, report, and gate regressions.

Reads the project's YAML (``{id, q, expect, support?, answerable?, history?}``) or SQuAD
v2.0 JSON, whose paragraphs are indexed into a temporary index first. Every question goes
through the same ``Answerer`` as ``qa ask``.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from statistics import quantiles
from typing import TYPE_CHECKING, Any

from qa.config import Settings
from qa.evaluation.questions import Question, corpus_id
from qa.models.layouts import Layout, layout
from qa.models.tuning import cpu

if TYPE_CHECKING:
    from qa.answering.answer import Answer

PUNCTUATION = frozenset(string.punctuation)


def normalise(text: str) -> str:
    """Case-insensitive, whitespace-normalised (the project's own question sets)."""
    return " ".join(text.lower().replace("’", "'").split())


def squad_normalise(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles."""
    text = "".join(ch for ch in text.lower() if ch not in PUNCTUATION)
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def matches(text: str, expect: list[list[str]], squad: bool = False) -> bool:
    """Every group has a phrase contained in ``text``."""
    norm = squad_normalise if squad else normalise
    hay = norm(text)
    return bool(expect) and all(any(norm(p) in hay for p in group) for group in expect)


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
    stale: bool = False  # its support text is no longer in the indexed documents
    confidence: float = -1.0  # the calibrated P(right) of the candidate answer
    right: bool = False  # the candidate answer, had it been given, is right


@dataclass(frozen=True)
class Verdict:
    correct: bool  # right, and given
    cited: bool  # right, and a citation holds it
    passed: bool
    reason: str


def verdict(q: Question, said: str, declined: bool, quotes: list[str]) -> Verdict:
    """How an answer ``said`` (or declined), citing ``quotes``, does on its question."""
    joined = " ".join(quotes)
    correct = q.answerable and not declined and matches(said, q.expect, q.squad)
    cited = correct and (
        matches(joined, q.expect, q.squad)
        or bool(q.support and normalise(q.support) in normalise(joined))
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
    return Verdict(correct, cited, passed, reason)


def score(q: Question, answer: Answer) -> Result:
    """Judge one answer against its question."""
    v = verdict(q, answer.answer, answer.declined, [c.quote for c in answer.citations])
    g = answer.grounding
    return Result(
        q.id,
        q.q,
        q.answerable,
        answer.answer,
        answer.declined,
        answer.to_json()["citations"],
        v.correct,
        v.cited,
        v.passed,
        v.reason,
        answer.timings.get("total_s", 0.0),
        str(g.mode) if g else "",
        g.draft if g else "",
        q.group,
        confidence=answer.confidence,
        right=candidate_right(q, answer),
    )


def summarise(results: list[Result]) -> dict[str, Any]:
    """Counts, rates and latency percentiles of a set of results (all, or one group's)."""
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


def selective(results: list[Result]) -> dict[str, Any]:
    """Share answered, share of those right, and the risk-coverage curve over the decision's
    confidence (empty when the hand-set rules decided: they give no confidence)."""
    from qa.grounding.decision import area, risk_coverage

    if not results or all(r.confidence < 0 for r in results):
        return {}
    import numpy as np

    p = np.array([r.confidence for r in results])
    right = np.array([r.right for r in results])
    given = [r for r in results if not r.declined]
    curve = risk_coverage(p, right)
    return {
        "answered": round(len(given) / len(results), 3),
        "accuracy": round(sum(r.right for r in given) / len(given), 3) if given else 0.0,
        "aurc": round(area(curve), 4),
        "curve": [(round(c, 3), round(risk, 3)) for _, c, risk in curve],
    }


def machine(settings: Settings | None = None) -> dict[str, str]:
    """The CPU, the instruction sets llama.cpp was built for and, given settings, the layout
    their model's weights load in here: a greedy decode can differ between machines (other
    kernels round differently), so a baseline names where it was made."""
    try:
        import llama_cpp

        built = llama_cpp.llama_print_system_info().decode().strip(" |")
    except ImportError:
        built = ""
    found = {"cpu": cpu()[0], "llama_cpp": built}
    if settings is not None and (held := layout(settings)):
        found["weights"] = str(held)
    return found


def own_baseline(path: Path, here: dict[str, str]) -> Path:
    """Where the baseline made on this machine lives beside ``path`` (``NAME-KEY.json``, the
    key a hash of ``machine(settings)``): the gate prefers it to ``path`` where it exists.
    Baselines named before the weights' layout was part of the key were made repacked."""
    own = _keyed(path, here)
    if not own.is_file() and here.get("weights") == Layout.REPACKED:
        legacy = _keyed(path, {k: v for k, v in here.items() if k != "weights"})
        return legacy if legacy.is_file() else own
    return own


def _keyed(path: Path, here: dict[str, str]) -> Path:
    key = hashlib.sha256(json.dumps(here, sort_keys=True).encode()).hexdigest()[:10]
    return path.with_name(f"{path.stem}-{key}{path.suffix}")


def regressions(report: dict[str, Any], baseline: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Ids that passed in the baseline and fail now: (regressed, stale). A question whose
    ``support`` is no longer in the documents is stale: its document changed, not the code."""
    before = {r["id"] for r in baseline.get("questions", []) if r["passed"]}
    failed = [r for r in report["questions"] if r["id"] in before and not r["passed"]]
    return [r["id"] for r in failed if not r.get("stale")], [
        r["id"] for r in failed if r.get("stale")
    ]


def documents(chunks: list) -> list[str]:
    """The indexed texts, put back together from their overlapping chunks, normalised."""
    texts: dict[str, str] = {}
    for c in chunks:  # in source order, by offset
        source, start = c.metadata["source"], c.metadata["start"]
        held = texts.get(source, "")
        texts[source] = (
            held[:start] + c.page_content if start <= len(held) else held + " " + c.page_content
        )
    return [normalise(t) for t in texts.values()]


def below_thresholds(summary: dict[str, Any], settings: Settings) -> list[str]:
    """The gate's floors this summary misses, a line each (a rate with no questions passes)."""
    checks = [("cited_rate", settings.eval_min_cited), ("decline_rate", settings.eval_min_declined)]
    return [
        f"{name} {summary[name]:.2f} < {floor:.2f}"
        for name, floor in checks
        if summary[name] < floor
        and (summary["answerable"] if name == "cited_rate" else summary["unanswerable"])
    ]


def candidate_right(q: Question, answer: Answer) -> bool:
    """Whether the answer grounding weighed (given or declined) is right: what a decision
    is fitted to tell."""
    cand = answer.grounding.candidate if answer.grounding else None
    if cand is None or not q.answerable:
        return False
    return verdict(q, cand.answer, False, [span.text for _, span in cand.support]).passed


def run(
    questions: list[Question],
    settings: Settings,
    progress: Callable[[Iterable[Question]], Iterable[Question]] = lambda it: it,
    answerer=None,
    corpus: str = "",
    record: bool = False,
) -> dict[str, Any]:
    """Answer and score every question; the report as a JSON-ready dict. With ``record``,
    every signal of every answer is read (the judge asked about every claim, which takes
    longer than answering) and stored, under ``corpus`` (what was indexed; default the
    index), for ``qa calibrate``."""
    from qa.answering.chain import Answerer
    from qa.evaluation.signals import Row, SignalStore, row_key

    answerer = answerer or Answerer(settings, record=record)
    answerer.warm_up()  # latency is measured warm, as in batch mode
    store = SignalStore.of(settings)
    corpus = corpus or corpus_id({}, settings)
    held = documents(answerer.store.chunks()) if any(q.support for q in questions) else []
    results = []
    for q in progress(questions):
        answer = answerer.ask(q.q, history=q.history)
        result = score(q, answer)
        result.stale = bool(q.support) and not any(normalise(q.support) in t for t in held)
        if record and answer.grounding and answer.grounding.signals:
            row = Row(q.group, q.answerable, answer.grounding.signals, result.right)
            store.put(row_key(settings, corpus, q.q, q.history), row)
        results.append(result)
    groups = sorted({r.group for r in results if r.group})
    report = {
        "summary": summarise(results),
        "selective": selective(results),
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
        "machine": machine(settings),
        "questions": [r.__dict__ for r in results],
    }
    return report
