"""Benchmarks: docqa's overhead against the models' own time, measured side by side in one run.

    python bench/bench.py                 # or: make bench
    python bench/bench.py --sizes 0.1     # the large corpus at 10% only (quicker)
    python bench/bench.py --only answer,cold

Prints a table of figures beside their targets and writes bench/results/NAME.json and a PNG
plot per benchmark. Not a test: machines are noisy, so figures are ratios taken in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import plots  # noqa: E402
from answer import QUESTIONS, answer_overhead, cold_start, python_path  # noqa: E402
from large import large_corpus, synthetic_lexical  # noqa: E402

from qa.config import load_settings  # noqa: E402
from qa.documents.loaders import FileLoader  # noqa: E402
from qa.evaluation.evaluate import machine  # noqa: E402
from qa.index.ingest import ingest, split  # noqa: E402
from qa.models.embeddings import torch_embeddings  # noqa: E402
from qa.models.tuning import recorded  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def timed(fn) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def ingest_overhead(work: Path) -> dict:
    """qa ingest of the corpus vs. raw encode + raw Chroma add of the very same chunks."""
    import chromadb

    settings = load_settings({"index": work / "ingest-index"}, environ={})
    model = torch_embeddings(settings.embed_model)._client  # the SentenceTransformer itself
    model.encode(["warm up"])  # both sides start with a loaded model (and Chroma loaded):
    ingest([ROOT / "corpus"], load_settings({"index": work / "warm-index"}, environ={}))
    chunks = []
    for path in sorted((ROOT / "corpus").glob("*")):
        loader = FileLoader(path, path.name)
        chunks += split(loader.lazy_load(), settings, loader.fingerprint())

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
        "embedding_path": str(recorded(settings)),  # this CPU's, by qa.models.tuning
    }


def api_overhead(work: Path) -> dict:
    """The same questions answered by `qa ask - --json` (batch: models loaded once) and by
    POST /api/ask on a running `qa serve`, one after the other on this machine."""
    sys.path.insert(0, str(ROOT / "tests"))
    from servers import serve, stop

    env = {**os.environ, "PYTHONPATH": python_path(), "QA_INDEX": str(work / "index")}
    proc = subprocess.run(
        [sys.executable, "-m", "qa", "ask", "-", "--json"],
        input="\n".join(QUESTIONS) + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    batch = [json.loads(line)["timings"]["total_s"] for line in proc.stdout.splitlines()]
    server, url = serve(ROOT, env, work / "serve.log")
    try:
        api = []
        for question in QUESTIONS:
            body = json.dumps({"question": question}).encode()
            request = urllib.request.Request(f"{url}/api/ask", body, method="POST")
            request.add_header("Content-Type", "application/json")
            began = time.perf_counter()
            with urllib.request.urlopen(request, timeout=300) as reply:
                reply.read()
            api.append(time.perf_counter() - began)
    finally:
        stop(server)
    return {
        "p50_batch_s": statistics.median(batch),
        "p50_api_s": statistics.median(api),
        "ratio": statistics.median(api) / statistics.median(batch),
        "batch_s": batch,
        "api_s": api,
    }


def table(results: dict) -> list[tuple[str, str, str]]:
    rows = []
    if m := results.get("machine"):
        rows += [("CPU", m["cpu"], ""), ("llama.cpp", m["llama_cpp"], "")]
    if i := results.get("ingest"):
        rows += [
            ("ingest: qa / raw encode+add", f"{i['ratio']:.2f}x", "<= 1.15x"),
            ("  documents embedded by", i.get("embedding_path", "not recorded"), "tuning"),
            ("re-index unchanged article", f"{i['reindex_unchanged_s']:.2f} s", "<= 1 s"),
        ]
    if a := results.get("answer"):
        rows += [
            ("answer: warm qa ask / raw library generation", f"{a['ratio']:.2f}x", "<= 0.8x"),
            ("  after the first token", f"{a['ratio_after_first_token']:.2f}x", "<= 0.6x"),
            (
                f"  / raw on docqa's weights ({a.get('weights', '?')}); after 1st token",
                f"{a['ratio_same_weights']:.2f}x; {a['ratio_after_first_token_same_weights']:.2f}x",
                "same run",
            ),
            ("  speculation off / raw", f"{a['ratio_speculate_off']:.2f}x", "same run"),
            ("  speculation on / raw", f"{a['ratio_speculate_on']:.2f}x", "same run"),
            (
                "  after the first token, off / on",
                f"{a['ratio_after_first_token_off']:.2f}x / {a['ratio_after_first_token_on']:.2f}x",
                "same run",
            ),
            (
                "  drafts the same off and on",
                f"{a['same_drafts']} of {len(a['rows'])}",
                "all",
            ),
            (
                "  first token - raw prefill (p50): library; docqa's weights",
                f"{a['p50_first_token_over_raw_s']:+.2f} s; "
                f"{a['p50_first_token_over_same_weights_s']:+.2f} s",
                "<= +0.2 s",
            ),
            ("warm answer p50, judge off", f"{a['p50_answer_s']:.2f} s", "shown"),
            ("  of which retrieval (p50)", f"{a['p50_retrieve_s']:.3f} s", "shown apart"),
            ("  of which verification (p50)", f"{a['p50_ground_s']:.3f} s", "shown apart"),
            (
                f"  judge: consulted on {a['judged']} of {len(a['rows'])}, each",
                f"+{a['p50_judge_s']:.2f} s",
                "shown apart",
            ),
            ("warm answer p50, judge on", f"{a['p50_default_answer_s']:.2f} s", "<= 4 s"),
            ("warm first token p50", f"{a['p50_first_token_s']:.2f} s", "<= 2 s"),
        ]
    if p := results.get("api"):
        rows += [
            ("API p50 / qa ask batch p50", f"{p['ratio']:.2f}x", "shown"),
            ("  POST /api/ask p50", f"{p['p50_api_s']:.2f} s", "shown"),
        ]
    if c := results.get("cold"):
        rows += [
            ("cold start to first token", f"{c['first_token_s']:.2f} s", "<= 5 s"),
            ("  the first run ever (no prompt cache)", f"{c['first_run_s']:.2f} s", "shown apart"),
            ("whole cold qa ask --json", f"{c['ask_json_s']:.2f} s", "<= 5 s"),
        ]
        if a := results.get("answer"):
            ratio = c["ask_json_s"] / a["p50_default_answer_s"]
            rows += [("  over a warm answer (judge on)", f"{ratio:.2f}x", "<= 2x")]
    for r in results.get("large_corpus", []):
        name = f"python docs {r['fraction']} ({r['pages']} pages, {r['chunks']} chunks)"
        rows += [
            (name, f"{r['chunks_per_s']:.1f} chunks/s", ">= 43 chunks/s"),
            ("  qa ingest / raw encode+add", f"{r['ingest_vs_raw']:.2f}x", "<= 0.55x"),
            ("  peak RSS of qa ingest", f"{r['peak_rss_mb']:.0f} MB", "flat with size"),
            ("  index size", f"{r['index_mb']:.0f} MB", "shown"),
            ("  re-index unchanged", f"{r['reindex_unchanged_s']:.2f} s", "grows with files"),
            ("  open index", f"{r['open_index_s']:.3f} s", "<= 0.3 s"),
            ("  retrieval p50", f"{r['p50_retrieve_s']:.3f} s", "<= 0.1 s"),
            ("  cold qa ask to first token", f"{r['cold_first_token_s']:.2f} s", "<= 5 s"),
        ]
    if lx := results.get("lexical"):
        rows += [
            (f"lexical index, {lx['chunks']} synthetic chunks", f"{lx['file_mb']:.0f} MB", "shown"),
            ("  open", f"{lx['open_s'] * 1000:.1f} ms", "flat with size"),
            (
                "  query p50 / p95",
                f"{lx['p50_query_s'] * 1000:.1f} / {lx['p95_query_s'] * 1000:.1f} ms",
                "p50 <= 50 ms",
            ),
        ]
    return rows


def plot(results: dict) -> None:
    if i := results.get("ingest"):
        plots.bars(
            RESULTS / "ingest.png",
            f"Ingest of the article ({i['chunks']} chunks)",
            ["raw encode + add", "qa ingest", "re-index unchanged"],
            [i["raw_s"], i["qa_ingest_s"], i["reindex_unchanged_s"]],
            "seconds",
        )
    if a := results.get("answer"):
        rows = a["rows"]
        plots.stacked(
            RESULTS / "answer.png",
            f"Warm answers: docqa {a['ratio']:.2f}x raw generation (p50)",
            [f"q{n}" for n in range(1, len(rows) + 1)],
            {k: [r[f"{k}_s"] for r in rows] for k in ("retrieve", "generate", "ground")},
            [r["raw_generate_s"] for r in rows],
        )
    if c := results.get("cold"):
        plots.bars(
            RESULTS / "cold.png",
            "qa ask: process start to first token",
            ["first run ever", "later runs"],
            [c["first_run_s"], c["first_token_s"]],
            "seconds",
            target=5,
        )
    if rows := results.get("large_corpus"):
        plots.scaling(RESULTS / "large_corpus.png", rows)


BENCHMARKS = {
    "ingest": ingest_overhead,
    "answer": answer_overhead,
    "cold": cold_start,
    "api": api_overhead,
    "large_corpus": None,  # takes the sizes: see main()
    "lexical": synthetic_lexical,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0.1,0.3,1", help="Fractions of the Python docs.")
    parser.add_argument(
        "--only", default=",".join(BENCHMARKS), help="Comma-separated benchmarks to run."
    )
    args = parser.parse_args()
    sizes = tuple(float(s) for s in args.sizes.split(",") if s)
    chosen = [name for name in args.only.split(",") if name]
    if unknown := set(chosen) - set(BENCHMARKS):
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    work = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    # Where the figures were made: the CPU and the kernels llama.cpp runs (ratios hold per CPU).
    results: dict = {"machine": {**machine(), "load": os.getloadavg()[0]}}
    try:
        if {"answer", "cold", "api"} & set(chosen):
            ingest([ROOT / "corpus"], load_settings({"index": work / "index"}, environ={}))
        for name in chosen:
            run = BENCHMARKS[name]
            results[name] = large_corpus(work, sizes) if run is None else run(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name, result in results.items():  # one file each: a partial run keeps the others
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1))
    plot(results)
    for name, got, target in table(results):
        print(f"{name:<52} {got:>16}   {target}")
    print(f"results: {RESULTS}/*.json and *.png")


if __name__ == "__main__":
    main()
