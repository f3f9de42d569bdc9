"""How far the formats set's differences (format minus source) can move on which questions
were asked: `python scripts/formats.py spread`, from eval/formats/compare.json's runs."""

from __future__ import annotations

import numpy as np


def spread(kept: dict, asked: list[dict], kinds: dict[str, str], draws: int = 10_000) -> str:
    """A Markdown table: per kind, the difference in correct and cited (format minus source,
    points) and its 95% bootstrap interval over the questions, paired (a draw takes a
    question for both sides). A second run of a kind gives the same answers (the model is
    greedy and the index the same), so what varies is which questions were asked: the
    interval says how far a 14-20 question set's difference can move on that alone."""
    rng = np.random.default_rng(0)
    rows = [
        "| kind | answerable | difference (points) | 95% interval (points) |",
        "| --- | --- | --- | --- |",
    ]
    for kind, group in kinds.items():
        mine, theirs = kept.get(kind), kept.get(f"source-{group}")
        if not mine or not theirs:
            continue
        ids = [q["id"] for q in asked if q.get("group") == group and q.get("answerable", True)]
        own = np.array([i in mine["passed"] for i in ids], dtype=float)
        src = np.array([i in theirs["passed"] for i in ids], dtype=float)
        picks = rng.integers(0, len(ids), size=(draws, len(ids)))
        diffs = 100 * (own[picks].mean(axis=1) - src[picks].mean(axis=1))
        low, high = np.percentile(diffs, [2.5, 97.5])
        diff = 100 * (own.mean() - src.mean())
        rows.append(f"| {kind} | {len(ids)} | {diff:+.0f} | {low:+.0f} to {high:+.0f} |")
    return "\n".join(rows)
