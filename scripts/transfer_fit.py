"""A calibrated answer-or-decline decision, fitted on the dev corpora and scored on the held-out
ones (docs/transfer.md), against the hand-set rules on the same candidates.

    python scripts/transfer.py --signals --json A.json        # every corpus, signals kept
    python scripts/transfer.py --signals --only squad --limit 30 --json B.json
    python scripts/transfer_fit.py A.json B.json

A logistic regression over a candidate's signals (``qa.grounding.decision.SIGNALS``: the word
checks, the judge's P(yes), the draft's log-probabilities, retrieval's scores) is fitted on the
dev corpora, each weighing the same; its threshold is the one that does best on the dev
corpora leave-one-corpus-out (each predicted by a fit on the others), by correct and cited
less twice the wrong, the unanswerable answered and the right drafts declined, each a share of
its corpus. Then a fit on every dev corpus decides the held-out ones, either every question
("full") or only where the word rules and the judge disagree ("disagree"). Prints the held-out
figures per corpus only: they are never read question by question.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from transfer import HALVED, HELD_OUT, odd

from qa.grounding.decision import FEATURES, SIGNALS, fit
from qa.grounding.ground import MIN_YES

FITS = {"decision.FEATURES": FEATURES, "every signal": SIGNALS}


def corpora(paths: list[str]) -> dict[str, list[dict]]:
    """Each corpus's rows, a halved corpus as its two halves ("pydocs odd", "pydocs even")."""
    out: dict[str, list[dict]] = {}
    for path in paths:
        for name, result in json.loads(Path(path).read_text()).items():
            for row in result["questions"]:
                half = f"{name} {'odd' if odd(row) else 'even'}" if name in HALVED else name
                out.setdefault(half, []).append(row)
    return out


def held_out(name: str) -> bool:
    return name in HELD_OUT or any(name == f"{n} even" for n in HALVED)


def figures(rows: list[dict], given: np.ndarray) -> dict[str, int]:
    """Correct and cited, right drafts declined, wrong, unanswerable declined (and their wholes)."""
    a = np.array([r["answerable"] for r in rows])
    right = np.array([r["right"] for r in rows])  # the candidate is correct and cited
    correct = np.array([r["candidate_correct"] for r in rows])
    drafts = np.array([r["draft_right"] for r in rows])
    return {
        "cc": int((a & given & right).sum()),
        "rdd": int((drafts & ~given).sum()),
        "wrong": int((a & given & ~correct).sum()),
        "ud": int((~a & ~given).sum()),
        "A": int(a.sum()),
        "DR": int(drafts.sum()),
        "U": int((~a).sum()),
    }


def merit(per: list[dict[str, int]]) -> float:
    return float(
        np.mean(
            [
                (f["cc"] - 2 * f["wrong"]) / f["A"]
                - (f["U"] - f["ud"]) / max(f["U"], 1)
                - f["rdd"] / max(f["DR"], 1)
                for f in per
            ]
        )
    )


def trained(groups: list[list[dict]], features, c: float):
    """P(right) for rows, from a logistic regression on ``groups`` (each weighing the same):
    ``decision.fit``'s, a signal a row lacks read as the others' mean."""
    rows = [r for g in groups for r in g]
    x = np.array([[r["signals"].get(f, np.nan) for f in features] for r in rows], float)
    x = np.where(np.isnan(x), np.nan_to_num(np.nanmean(x, axis=0)), x)
    weight = np.array([1 / len(g) for g in groups for _ in g])
    y = np.array([r["right"] for r in rows])
    made = fit(x, y, weight=weight, features=tuple(features), c=c)

    def p(part: list[dict]) -> np.ndarray:
        return np.array([made.probability(r["signals"]) for r in part])

    return p


def decided(rows: list[dict], p: np.ndarray, t: float, mode: str) -> np.ndarray:
    """Answered: by the rules, by the fit (``full``), or (``disagree``) by the rules except
    where they and the judge disagree on the draft's claims."""
    rules = np.array([r["signals"].get("rules", 0.0) == 1 for r in rows])
    if mode == "rules":
        return rules
    if mode == "full":
        return p >= t
    judge = np.array([r["signals"].get("judge", 0.5) for r in rows])
    quoted = np.array([r["signals"].get("quoted", 0.0) == 1 for r in rows])
    split = ((rules & (judge < 0.5)) | (~rules & (judge >= MIN_YES))) & ~quoted
    return np.where(split, p >= t, rules)


def main() -> None:
    data = corpora(sys.argv[1:])
    dev = [n for n in data if not held_out(n)]
    held = [n for n in data if held_out(n)]
    rules = {
        n: figures(data[n], decided(data[n], np.zeros(len(data[n])), 1, "rules")) for n in data
    }
    for (label, features), c, mode in (
        (f, c, m) for f in FITS.items() for c in (0.1, 1.0) for m in ("full", "disagree")
    ):
        fits = {n: trained([data[d] for d in dev if d != n], features, c)(data[n]) for n in dev}
        grid = np.arange(0.05, 0.95, 0.025)
        t = max(
            grid,
            key=lambda t: merit(
                [figures(data[n], decided(data[n], fits[n], t, mode)) for n in dev]
            ),
        )
        p = trained([data[d] for d in dev], features, c)
        print(f"\n{label}, C={c}, {mode}, threshold {t:.3f} (chosen on dev, leave-one-corpus-out)")
        for n in held:
            f = figures(data[n], decided(data[n], p(data[n]), t, mode))
            r = rules[n]
            print(
                f"  {n:12} correct and cited {r['cc']} -> {f['cc']}/{f['A']}, right drafts "
                f"declined {r['rdd']} -> {f['rdd']}/{f['DR']}, wrong {r['wrong']} -> {f['wrong']}, "
                f"unanswerable declined {r['ud']} -> {f['ud']}/{f['U']}"
            )


if __name__ == "__main__":
    main()
