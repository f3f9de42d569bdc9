"""A large real corpus: the Python documentation from Debian's python3.11-doc package.

Ingests 10%, 30% and 100% of its HTML pages into fresh indexes, each in its own `qa ingest`
process, and measures time, throughput, peak memory, index size, an unchanged re-index and
retrieval latency at that size.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOCS = Path("/usr/share/doc/python3.11/html")
# Questions a user of that corpus would ask (bench data for the Python docs, not the article).
QUESTIONS = [
    "How do I read a file line by line?",
    "What does the walrus operator do?",
    "How can I sort a list of dictionaries by a key?",
    "How do I create a virtual environment?",
    "What is the difference between a list and a tuple?",
    "How do I parse command line arguments?",
]


def _peak_mb(pid: int) -> float:
    """The process's peak RSS so far (VmHWM; ru_maxrss would count the parent's pages
    from before the exec)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _qa(args: list[str], cwd: Path) -> tuple[float, float, str]:
    """Run `qa ARGS` to the end: (seconds, peak RSS in MB, stderr)."""
    began = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "qa.cli", *args],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        )
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, _peak_mb(proc.pid))
            time.sleep(0.2)
        seconds = time.perf_counter() - began
        err.seek(0)
        text = err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"qa {' '.join(args)} failed: {text[-500:]}")
    return seconds, peak, text


def _size_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


def _retrieval(index: Path) -> dict:
    """Opening the index (chunks read, BM25 built) and per-question retrieval at this size."""
    from qa.config import load_settings
    from qa.retrieve import HybridRetriever, select
    from qa.store import Store

    settings = load_settings({"index": index}, environ={})
    began = time.perf_counter()
    store = Store(settings)
    retriever = HybridRetriever(store=store, chunks=store.chunks(), k=2 * settings.k)
    opened = time.perf_counter() - began
    store.embeddings.encode(["warm up"])
    times = []
    for q in QUESTIONS:
        began = time.perf_counter()
        select(q, retriever.invoke(q), retriever, store.embeddings, settings.k)
        times.append(time.perf_counter() - began)
    return {"open_index_s": opened, "p50_retrieve_s": statistics.median(times)}


def large_corpus(work: Path, fractions: tuple[float, ...]) -> list[dict]:
    if not DOCS.is_dir():
        raise SystemExit(f"no {DOCS}: apt-get install python3.11-doc (make bench does)")
    pages = sorted(DOCS.rglob("*.html"))
    random.Random(0).shuffle(pages)  # a fair sample of every part of the docs at each size
    rows = []
    for fraction in fractions:
        label = f"{round(fraction * 100)}%"
        corpus = work / f"docs-{label[:-1]}"
        subset = pages[: max(1, round(len(pages) * fraction))]
        for page in subset:
            target = corpus / page.relative_to(DOCS)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(page, target)
        index = work / f"index-{label[:-1]}"
        print(f"  python docs {label}: {len(subset)} pages, ingesting...", file=sys.stderr)
        seconds, peak, err = _qa(["ingest", str(corpus), "--index", str(index)], work)
        again, _, _ = _qa(["ingest", str(corpus), "--index", str(index)], work)
        chunks = int(re.findall(r"(\d+) chunks", err)[-1])  # the closing summary line
        rows.append(
            {
                "fraction": label,
                "pages": len(subset),
                "corpus_mb": _size_mb(corpus),
                "chunks": chunks,
                "ingest_s": seconds,
                "chunks_per_s": chunks / seconds,
                "peak_rss_mb": peak,
                "index_mb": _size_mb(index),
                "reindex_unchanged_s": again,
                **_retrieval(index),
            }
        )
        shutil.rmtree(corpus)
        shutil.rmtree(index)
    return rows
