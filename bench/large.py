"""Corpora at scale.

The Python documentation from Debian's python3.11-doc package: 10%, 30% and 100% of its
HTML pages ingested into fresh indexes, each by its own `qa ingest` process, against a raw
sentence-transformers encode + Chroma add of the very same chunks; then, at that size, the
index's opening time, retrieval latency, a cold `qa ask` to its first token, peak memory,
index size and an unchanged re-index.

A synthetic corpus of 250,000 generated chunks for the lexical index alone (no model):
its opening and query time.
"""

from __future__ import annotations

import itertools
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

from langchain_core.documents import Document

DOCS = Path("/usr/share/doc/python3.11/html")
# Questions a user of that corpus would ask (bench data for the Python docs, not the article):
# twenty, as the median of six moved with a single question.
QUESTIONS = [
    "How do I read a file line by line?",
    "What does the walrus operator do?",
    "How can I sort a list of dictionaries by a key?",
    "How do I create a virtual environment?",
    "What is the difference between a list and a tuple?",
    "How do I parse command line arguments?",
    "How do I get the current date and time?",
    "How can I run a shell command and capture its output?",
    "What does the yield statement do in a function?",
    "How do I copy a dictionary without changing the original?",
    "How can I format a number with two decimal places?",
    "How do I make an HTTP request with the standard library?",
    "What happens when an exception is raised inside a with block?",
    "How do I write a unit test for a function?",
    "How can I measure how long a piece of code takes to run?",
    "What is a decorator and how do I write one?",
    "How do I read and write JSON files?",
    "How can I run functions in parallel with threads?",
    "How do I match a pattern with a regular expression?",
    "How do I define a class with a property?",
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
            [sys.executable, "-m", "qa", *args],
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
    """Opening the index (vectors and lexical index) and per-question retrieval."""
    from qa.config import load_settings
    from qa.index.store import Store
    from qa.retrieval.retrieve import HybridRetriever, select

    settings = load_settings({"index": index}, environ={})
    began = time.perf_counter()
    store = Store(settings)
    retriever = HybridRetriever(store=store, k=2 * settings.k)
    opened = time.perf_counter() - began
    store.embeddings.encode(["warm up"])
    times = []
    for q in QUESTIONS:
        began = time.perf_counter()
        select(
            q, retriever.invoke(q), retriever.lexical, retriever.idf, store.embeddings, settings.k
        )
        times.append(time.perf_counter() - began)
    return {"open_index_s": opened, "p50_retrieve_s": statistics.median(times)}


def first_token_s(index: Path, env: dict[str, str]) -> float:
    """Process start to the first answer byte on stdout of a one-off `qa ask` (this checkout
    after the caller's own PYTHONPATH, which may put another llama_cpp build first)."""
    root = str(Path(__file__).resolve().parent.parent)
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa", "ask", QUESTIONS[0], "--index", str(index)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**env, "PYTHONPATH": os.pathsep.join(filter(None, (env.get("PYTHONPATH"), root)))},
    )
    proc.stdout.read(1)
    seconds = time.perf_counter() - began
    proc.communicate()
    return seconds


def _embedding_path() -> str:
    """How `qa ingest` embedded the documents here (this CPU's record, qa.models.tuning)."""
    from qa.config import load_settings
    from qa.models.tuning import recorded

    return str(recorded(load_settings()))


def raw_ingest_s(index: Path, work: Path) -> float:
    """sentence-transformers encode (model loaded) + Chroma add of the chunks in ``index``."""
    import chromadb

    from qa.config import load_settings
    from qa.index.lexical import searchable
    from qa.index.store import Store
    from qa.models.embeddings import torch_embeddings

    settings = load_settings({"index": index}, environ={})
    chunks = Store(settings).chunks()
    model = torch_embeddings(settings.embed_model)._client
    model.encode(["warm up"])
    began = time.perf_counter()
    vectors = model.encode([searchable(c) for c in chunks], normalize_embeddings=True)
    # A folder of its own each time: Chroma keeps one client per path for the process.
    raw = Path(tempfile.mkdtemp(prefix="raw-", dir=work))
    collection = chromadb.PersistentClient(path=str(raw)).get_or_create_collection("raw")
    for i in range(0, len(chunks), 1000):  # Chroma's largest batch is about 5,000
        part = chunks[i : i + 1000]
        collection.add(
            ids=[c.id for c in part],
            embeddings=vectors[i : i + 1000],
            documents=[c.page_content for c in part],
            metadatas=[c.metadata for c in part],
        )
    return time.perf_counter() - began


def synthetic_lexical(work: Path, size: int = 250_000, queries: int = 50) -> dict:
    """The lexical index alone at ``size`` generated chunks (Zipf-distributed pseudo-words,
    90 a chunk): build time, opening time and query p50 and p95."""
    from qa.index.lexical import Lexical
    from qa.text import content_words

    rng = random.Random(0)
    syllables = ["ka", "lo", "mir", "ten", "vu", "sa", "dor", "pel", "qui", "ran", "zo", "bex"]
    words = {"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(60_000)}
    vocabulary = sorted(words)
    # Zipf's law: the word of rank r is r times rarer than the commonest.
    zipf = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocabulary))))
    path = work / "synthetic.sqlite3"
    lexical = Lexical(path)
    began = time.perf_counter()
    batch = 5000
    for first in range(0, size, batch):
        docs = []
        for i in range(first, min(size, first + batch)):
            text = " ".join(rng.choices(vocabulary, cum_weights=zipf, k=90)) + "."
            meta = {"source": f"s{i // 100}.txt", "start": (i % 100) * 700, "file_hash": "h"}
            docs.append(Document(page_content=text, metadata={**meta, "n_chunks": 0}, id=str(i)))
        with lexical.transaction():
            lexical.add(docs)
    built = time.perf_counter() - began
    lexical.close()
    began = time.perf_counter()
    lexical = Lexical(path)
    held = lexical.count()
    opened = time.perf_counter() - began
    times = []
    for _ in range(queries):
        # A question mixes common words and rarer ones: two of each.
        asked = rng.choices(vocabulary, cum_weights=zipf, k=2) + rng.choices(vocabulary, k=2)
        query = content_words(" ".join(asked))
        began = time.perf_counter()
        lexical.search(query, 12)
        times.append(time.perf_counter() - began)
    lexical.close()
    return {
        "chunks": held,
        "build_s": built,
        "open_s": opened,
        "p50_query_s": statistics.median(times),
        "p95_query_s": sorted(times)[int(0.95 * len(times))],
        "file_mb": path.stat().st_size / 2**20,
    }


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
        raw = raw_ingest_s(index, work)
        rows.append(
            {
                "fraction": label,
                "pages": len(subset),
                "corpus_mb": _size_mb(corpus),
                "chunks": chunks,
                "ingest_s": seconds,
                "chunks_per_s": chunks / seconds,
                "raw_s": raw,
                "ingest_vs_raw": seconds / raw,
                "embedding_path": _embedding_path(),
                "peak_rss_mb": peak,
                "index_mb": _size_mb(index),
                "reindex_unchanged_s": again,
                **_retrieval(index),
                "cold_first_token_s": first_token_s(index, dict(os.environ)),
            }
        )
        shutil.rmtree(corpus)
        shutil.rmtree(index)
    return rows
