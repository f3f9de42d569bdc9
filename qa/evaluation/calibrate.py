"""`qa calibrate`: fit the answer-or-decline decision on labelled questions, and measure it
on questions the fit did not see.

Every question is answered once (its signals are stored, ``qa.evaluation.signals``); fitting and
cross-validation then take seconds. Figures are held out: with three or more groups (SQuAD
articles, or the YAML's ``group``) each group is predicted by a fit on the others
(leave-one-group-out), otherwise by 5-fold cross-validation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from qa.config import Settings
from qa.errors import UsageError
from qa.evaluation import evaluate, questions
from qa.evaluation.signals import Row, SignalStore, row_key
from qa.grounding.decision import FEATURES, Decision, area, fit, risk_coverage

MIN_QUESTIONS = 40  # fewer cannot tell a threshold from noise
MIN_EACH = 8  # right candidates, and wrong ones, needed to fit at all
RISK = 0.05  # wrong answers allowed, as a share of the answers given
# How much a label the user gave (the page's thumbs, `qa ask --save`: tests ``s01``, ``s02``,
# ... in QA_EVAL_FILE) counts against one generated question in a fit on a generated set. A
# generated label is made by rules (the span asked for, lexical checks for the unanswerable
# ones) and a 1.5B model's question, some of which are vague; a user's is a person's verdict
# on a question of the kind they ask. Four: ten saved answers then weigh about a fifth of a
# 150-question set, enough to move the threshold, too little for three to decide it alone.
USER_WEIGHT = 4.0
SAVED_ID = re.compile(r"s\d{2,}")  # the ids qa.evaluation.savetest gives


@dataclass(frozen=True)
class Figures:
    """How a decision does on a set of questions."""

    questions: int
    answered: float  # share of all questions answered
    accuracy: float  # share of the answers given that are right
    cited_rate: float  # answerable questions answered right (correct and cited)
    wrong_rate: float  # answerable questions answered wrong
    decline_rate: float  # unanswerable questions declined
    aurc: float  # area under the risk-coverage curve (lower is better)


def figures(rows: list[Row], p: np.ndarray, threshold: np.ndarray | float) -> Figures:
    right = np.array([r.right for r in rows])
    answerable = np.array([r.answerable for r in rows])
    given = p >= threshold

    def share(mask: np.ndarray, of: np.ndarray) -> float:
        return round(float(mask.sum() / of.sum()), 3) if of.any() else 0.0

    return Figures(
        len(rows),
        share(given, np.ones_like(given)),
        share(given & right, given),
        share(given & right & answerable, answerable),
        share(given & ~right & answerable, answerable),
        share(~given & ~answerable, ~answerable),
        round(area(risk_coverage(p, right)), 4),
    )


def matrix(rows: list[Row]) -> tuple[np.ndarray, np.ndarray]:
    """Signal rows in ``FEATURES`` order (a signal some rows lack reads as the others' mean),
    and whether each candidate is right."""
    x = np.array([[r.signals.get(f, np.nan) for f in FEATURES] for r in rows], dtype=float)
    if np.isnan(x).any():
        filled = np.nanmean(np.where(np.isnan(x).all(axis=0), 0.0, x), axis=0)
        x = np.where(np.isnan(x), filled, x)
    return x, np.array([r.right for r in rows])


def held_out(
    rows: list[Row], risk: float = RISK, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, str]:
    """Each row's P(right) and threshold from a fit that did not see it; and how."""
    from sklearn.model_selection import LeaveOneGroupOut, StratifiedKFold

    x, y = matrix(rows)
    groups = [r.group for r in rows]
    if len(set(groups)) >= 3:
        splits, how = LeaveOneGroupOut().split(x, y, groups), "leave-one-group-out"
    else:
        folds = StratifiedKFold(5, shuffle=True, random_state=0)
        splits, how = folds.split(x, y), "5-fold cross-validation"
    p, t = np.zeros(len(rows)), np.zeros(len(rows))
    for train, test in splits:
        d = fit(x[train], y[train], risk, weight=None if weight is None else weight[train])
        p[test] = [d.probability(dict(zip(FEATURES, row, strict=True))) for row in x[test]]
        t[test] = d.threshold
    return p, t, how


def collect(
    path: Path,
    settings: Settings,
    progress: Callable[[Iterable], Iterable] = lambda it: it,
) -> list[Row]:
    """The stored signals of every question in ``path``, answering those not stored yet."""
    asked, docs = questions.load_questions(path)
    if len(asked) < MIN_QUESTIONS:  # said before an hour of answering, not after
        raise UsageError(f"{path}: {len(asked)} questions; calibrating needs {MIN_QUESTIONS}")
    return answered(asked, docs, settings, progress)


def saved(settings: Settings) -> list[questions.Question]:
    """The labels the user gave (tests saved from answers, in the collection's eval file:
    ``questions.eval_file_of``), grouped apart; none where the file is missing."""
    own = questions.eval_file_of(settings)
    if not own.is_file():
        return []
    asked, _ = questions.load_questions(own)
    return [replace(q, group="saved") for q in asked if SAVED_ID.fullmatch(q.id)]


def answered(
    asked: list[questions.Question],
    docs: dict[str, str],
    settings: Settings,
    progress: Callable[[Iterable], Iterable] = lambda it: it,
) -> list[Row]:
    """The stored signals of ``asked``, answering those not stored yet."""
    store = SignalStore.of(settings)
    corpus = questions.corpus_id(docs, settings)
    keys = [row_key(settings, corpus, q.q, q.history) for q in asked]
    stored = store.get(keys)
    missing = [q for q, k in zip(asked, keys, strict=True) if k not in stored]
    if missing:
        with questions.squad_index(docs, settings) if docs else nullcontext(settings) as scoped:
            evaluate.run(missing, scoped, progress=progress, corpus=corpus, record=True)
        stored = store.get(keys)
    return [stored[k] for k in keys if k in stored]


def fit_and_measure(
    rows: list[Row], source: str, risk: float = RISK, weight: np.ndarray | None = None
) -> tuple[Decision, dict]:
    """The decision fitted on all ``rows`` (each counted by its ``weight``), and held-out
    figures: per group and in total, for it and for the hand-set rules on the same
    questions."""
    right = sum(r.right for r in rows)
    if len(rows) < MIN_QUESTIONS or min(right, len(rows) - right) < MIN_EACH:
        raise UsageError(
            f"{source}: {len(rows)} questions, {right} answered right: calibrating needs "
            f"{MIN_QUESTIONS} questions and {MIN_EACH} each of right and wrong answers"
        )
    p, t, how = held_out(rows, risk, weight)
    x, y = matrix(rows)
    rules = np.array([r.signals.get("rules", 0.0) for r in rows])
    groups = sorted({r.group for r in rows})
    by_group = {}
    for g in groups:
        mask = np.array([r.group == g for r in rows])
        part = [r for r, m in zip(rows, mask, strict=True) if m]
        by_group[g] = {
            "calibrated": asdict(figures(part, p[mask], t[mask])),
            "rules": asdict(figures(part, rules[mask], 0.5)),
        }
    report = {
        "source": source,
        "held_out": how,
        "risk": risk,
        "calibrated": asdict(figures(rows, p, t)),
        "rules": asdict(figures(rows, rules, 0.5)),
        "groups": by_group if len(groups) > 1 else {},
        "curve": [(round(c, 3), round(r, 3)) for _, c, r in risk_coverage(p, y)],
    }
    about = {k: report[k] for k in ("source", "held_out", "risk", "calibrated", "rules")}
    return fit(x, y, risk, {**about, "questions": len(rows)}, weight), report
