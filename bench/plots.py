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
    """Large corpus: what each cost does as the corpus grows (chunks on the x axis)."""
    chunks = [r["chunks"] for r in rows]
    fig, axes = plt.subplots(2, 2, figsize=(9, 6))
    panels = [
        ("ingest (chunks/s)", [("qa ingest", "chunks_per_s")], 43),
        ("seconds", [("open index", "open_index_s"), ("retrieval p50", "p50_retrieve_s")], None),
        ("seconds", [("cold qa ask, first token", "cold_first_token_s")], 5),
        ("MB", [("peak RSS of qa ingest", "peak_rss_mb"), ("index on disk", "index_mb")], None),
    ]
    for ax, (unit, series, target) in zip(axes.flat, panels, strict=True):
        for label, key in series:
            ax.plot(chunks, [r[key] for r in rows], "o-", label=label)
        if target is not None:
            ax.axhline(target, color="grey", linestyle="--", label=f"target {target:g}")
        ax.set_xscale("log")
        # Ticks at the measured sizes only: log-scale minor labels overlap at these spans.
        ax.set_xticks(chunks, [f"{c:,}" for c in chunks], minor=False)
        ax.set_xticks([], minor=True)
        ax.set_xlabel("chunks in the index")
        ax.set_ylabel(unit)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    sizes = ", ".join(r["fraction"] for r in rows)
    fig.suptitle(f"python3.11-doc at {sizes}: costs against corpus size", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
