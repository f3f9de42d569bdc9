"""Benchmarks: docqa's overhead against the models' own time, measured side by side in one run.

    python bench/bench.py            # or: make bench

Prints a table of ratios beside their targets and writes bench/results/bench.json.
Not a test: machines are noisy, so figures are ratios taken in the same run.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.chain import PROMPT, Answerer, numbered  # noqa: E402
from qa.config import load_settings  # noqa: E402
from qa.embeddings import _load  # noqa: E402
from qa.ingest import ingest, split  # noqa: E402
from qa.llms import chat_messages  # noqa: E402
from qa.loaders import FileLoader  # noqa: E402

QUESTIONS = [
    "Who is the spokesperson of Iran's Foreign Ministry?",
    "Which missile system was fired during the exercise?",
    "Which two Gulf monarchies normalized ties with Israel?",
    "Who commands the Revolutionary Guard Ground Forces?",
    "How many people belong to Iran's ethnic Azeri community?",
]


def timed(fn) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def ingest_overhead(work: Path) -> dict:
    """qa ingest of the corpus vs. raw encode + raw Chroma add of the very same chunks."""
    import chromadb

    settings = load_settings({"index": work / "index"}, environ={})
    _load(settings.embed_model).embed_query("warm")  # both sides start with a loaded model
    docs = [
        next(iter(FileLoader(p, p.name).lazy_load())) for p in sorted((ROOT / "corpus").glob("*"))
    ]
    chunks = [c for d in docs for c in split(d, settings)]
    model = _load(settings.embed_model)._client  # the SentenceTransformer itself

    def raw() -> None:
        client = chromadb.PersistentClient(path=str(work / "raw"))
        col = client.get_or_create_collection("raw")
        vectors = model.encode([c.page_content for c in chunks], normalize_embeddings=True)
        col.add(
            ids=[c.id for c in chunks],
            embeddings=vectors.tolist(),
            documents=[c.page_content for c in chunks],
            metadatas=[c.metadata for c in chunks],
        )

    raw_s = timed(raw)
    qa_s = timed(lambda: ingest([ROOT / "corpus"], settings))
    again_s = timed(lambda: ingest([ROOT / "corpus"], settings))
    return {
        "chunks": len(chunks),
        "raw_s": raw_s,
        "qa_ingest_s": qa_s,
        "ratio": qa_s / raw_s,
        "reindex_unchanged_s": again_s,
    }


def answer_overhead(work: Path) -> dict:
    """Warm Answerer.ask vs. raw llama.cpp generation of the same prompt and token count."""
    settings = load_settings({"index": work / "index"}, environ={})
    answerer = Answerer(settings)
    answerer.warm_up()
    llama = answerer.llm.llama
    rows = []
    for q in QUESTIONS:
        answer = answerer.ask(q)
        evidence = answerer._retrieve({"question": q, "timings": {}})
        request = chat_messages(PROMPT.format_messages(passages=numbered(evidence), question=q))
        tokens = max(1, len(llama.tokenize(answer.grounding["draft"].encode(), add_bos=False)))
        answerer.warm_up()  # same cache state as qa had: the fixed prefix, not this prompt
        raw_s = timed(
            lambda r=request, t=tokens: llama.create_chat_completion(
                r, max_tokens=t, temperature=0.0
            )
        )
        rows.append(
            {
                "question": q,
                "qa_s": answer.timings["total_s"],
                "raw_generate_s": raw_s,
                "retrieve_s": answer.timings["retrieve_s"],
                "ground_s": answer.timings["ground_s"],
            }
        )
    qa = statistics.median(r["qa_s"] for r in rows)
    raw = statistics.median(r["raw_generate_s"] for r in rows)
    return {
        "p50_answer_s": qa,
        "p50_raw_generate_s": raw,
        "ratio": qa / raw,
        "p50_retrieve_s": statistics.median(r["retrieve_s"] for r in rows),
        "p50_ground_s": statistics.median(r["ground_s"] for r in rows),
        "rows": rows,
    }


def cold_start(work: Path) -> dict:
    """Process start to the first answer token on stdout of `qa ask`."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "ask", QUESTIONS[0], "--index", str(work / "index")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    proc.stdout.read(1)
    first = time.perf_counter() - began
    proc.wait()
    return {"first_token_s": first, "total_s": time.perf_counter() - began}


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    try:
        results = {
            "ingest": ingest_overhead(work),
            "answer": answer_overhead(work),
            "cold": cold_start(work),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = ROOT / "bench" / "results" / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    i, a, c = results["ingest"], results["answer"], results["cold"]
    table = [
        ("ingest: qa / raw encode+add", f"{i['ratio']:.2f}x", "<= 1.15x"),
        ("re-index unchanged corpus", f"{i['reindex_unchanged_s']:.2f} s", "<= 1 s"),
        ("answer: warm qa ask / raw generation", f"{a['ratio']:.2f}x", "<= 1.10x"),
        ("  of which retrieval (p50)", f"{a['p50_retrieve_s']:.2f} s", "shown apart"),
        ("  of which verification (p50)", f"{a['p50_ground_s']:.2f} s", "shown apart"),
        ("warm answer p50", f"{a['p50_answer_s']:.2f} s", "<= 4 s"),
        ("cold start to first token", f"{c['first_token_s']:.2f} s", "<= 5 s"),
    ]
    for name, got, target in table:
        print(f"{name:<40} {got:>10}   target {target}")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
