"""PNG plots of the benchmark results (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: write files only
import matplotlib.pyplot as plt


def bars(
    path: Path,
    title: str,
    labels: list[str],
    values: list[float],
    unit: str,
    target: float | None = None,
) -> None:
    """One bar per measurement, with the target as a dashed line."""
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.bar(labels, values, color=["#4c72b0", "#dd8452", "#55a868", "#c44e52"][: len(values)])
    for x, v in enumerate(values):
        ax.annotate(f"{v:.2f}", (x, v), ha="center", va="bottom", fontsize=9)
    if target is not None:
        ax.axhline(target, color="grey", linestyle="--", label=f"target {target:g} {unit}")
        ax.legend(loc="upper left", fontsize=8)
    ax.set_ylabel(unit)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def stacked(
    path: Path, title: str, labels: list[str], parts: dict[str, list[float]], raw: list[float]
) -> None:
    """Per question: docqa's time split into its stages, beside raw generation."""
    fig, ax = plt.subplots(figsize=(9, 3.4))
    xs = range(len(labels))
    bottom = [0.0] * len(labels)
    for name, values in parts.items():
        ax.bar([x - 0.2 for x in xs], values, 0.4, bottom=bottom, label=f"docqa: {name}")
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.bar([x + 0.2 for x in xs], raw, 0.4, color="grey", label="raw llama.cpp generation")
    ax.set_xticks(list(xs), labels, fontsize=8)
    ax.set_ylabel("seconds")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def scaling(path: Path, rows: list[dict]) -> None:
    """Large corpus: ingest time and peak memory against corpus size."""
    mb = [r["corpus_mb"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
    left.plot(mb, [r["ingest_s"] for r in rows], "o-", label="ingest")
    left.plot(mb, [r["reindex_unchanged_s"] for r in rows], "s--", label="re-index, unchanged")
    left.set_xlabel("corpus (MB of HTML)")
    left.set_ylabel("seconds")
    left.legend(fontsize=8)
    right.plot(mb, [r["peak_rss_mb"] for r in rows], "o-", color="#c44e52")
    right.set_ylim(0, max(r["peak_rss_mb"] for r in rows) * 1.3)
    right.set_xlabel("corpus (MB of HTML)")
    right.set_ylabel("peak RSS of qa ingest (MB)")
    fig.suptitle("python3.11-doc: time and memory against corpus size", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
