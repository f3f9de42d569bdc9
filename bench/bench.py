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
from large import first_token_s, large_corpus, synthetic_lexical  # noqa: E402

from qa.answering.chain import Answerer, numbered  # noqa: E402
from qa.answering.prompts import PROMPT  # noqa: E402
from qa.config import load_settings  # noqa: E402
from qa.documents.loaders import FileLoader  # noqa: E402
from qa.evaluation.evaluate import machine  # noqa: E402
from qa.evaluation.questions import load_questions  # noqa: E402
from qa.index.ingest import ingest, split  # noqa: E402
from qa.models.embeddings import torch_embeddings  # noqa: E402
from qa.models.llms import chat_messages  # noqa: E402

RESULTS = ROOT / "bench" / "results"
# The project's own eval questions, the first answerable ones: warm answers on the article.
QUESTIONS = [
    q.q for q in load_questions(ROOT / "eval_questions.yaml")[0] if q.answerable and not q.history
][:8]


def python_path() -> str:
    """PYTHONPATH for the `qa` processes a benchmark starts: this checkout, then the caller's
    own (a llama_cpp built with other kernels, put first, is what they import)."""
    return os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(ROOT)) if p)


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
    }


def _stream(run) -> tuple[float, float]:
    """(seconds to the first token, seconds in all) of ``run(on_token)``."""
    began = time.perf_counter()
    first: list[float] = []

    def on_token(_: str) -> None:
        if not first:
            first.append(time.perf_counter() - began)

    run(on_token)
    total = time.perf_counter() - began
    return (first[0] if first else total), total


def answer_overhead(work: Path) -> dict:
    """Warm Answerer.ask vs. raw llama.cpp generation of the same prompt and token count,
    each starting from the same KV cache state (the fixed prompt prefix). The judge is off
    for that ratio (it is a second model call that raw generation does not make); its cost
    is measured apart, with the default settings, on the same questions. QA_SPECULATE, when
    set, switches speculative decoding for docqa's side (raw generation never speculates)."""
    chosen = {n: os.environ[n] for n in ("QA_SPECULATE",) if n in os.environ}
    settings = load_settings({"index": work / "index", "judge": False}, environ=chosen)
    answerer = Answerer(settings)
    answerer.warm_up()
    llama = answerer.llm.llama
    rows = []
    for i, q in enumerate(QUESTIONS):
        # docqa with speculation off and on, both against the same raw run: the setting's
        # side is the one `ratio` reads. Each ask starts from the primed prefix; the order
        # alternates so that neither side always meets the machine's state first.
        sides = {}
        for on in (False, True) if i % 2 == 0 else (True, False):
            answerer.warm_up()
            answerer.llm.speculate = on
            got: dict = {}

            def ask(on_token, q=q, got=got):
                got["answer"] = answerer.ask(q, on_token=on_token)

            sides[on] = (*_stream(ask), got["answer"])
        answerer.llm.speculate = settings.speculate
        qa_first, qa_s, answer = sides[settings.speculate]
        other_first, other_s, other = sides[not settings.speculate]
        evidence = answerer.retrieve(q)
        request = chat_messages(PROMPT.format_messages(passages=numbered(evidence), question=q))
        tokens = max(1, len(llama.tokenize(answer.grounding.draft.encode(), add_bos=False)))
        answerer.warm_up()

        def raw(on_token, request=request, tokens=tokens):
            # On the model's own thread, as docqa's calls are (see qa.models.local.LocalModel),
            # plain greedy decoding: no speculative draft.
            call = {"messages": request, "max_tokens": tokens, "temperature": 0.0}
            local = answerer.llm.local
            for part in local.stream(call, lambda: local.speculate(False)):
                if part["choices"][0]["delta"].get("content"):
                    on_token("")

        raw_first, raw_s = _stream(raw)
        rows.append(
            {
                "question": q,
                "qa_s": qa_s,
                "qa_first_token_s": qa_first,
                "raw_generate_s": raw_s,
                "raw_first_token_s": raw_first,
                "retrieve_s": answer.timings["retrieve_s"],
                "ground_s": answer.timings["ground_s"],
                "generate_s": answer.timings["generate_s"],
                # The other speculation setting's ask of the same question.
                "other_s": other_s,
                "other_first_token_s": other_first,
                "other_generate_s": other.timings["generate_s"],
                "same_as_other": answer.grounding.draft == other.grounding.draft,
            }
        )

    judged = Answerer(settings.with_overrides(judge=True))
    for row in rows:
        judged.warm_up()
        timings = judged.ask(row["question"]).timings
        row["judge_s"] = max(0.0, timings["ground_s"] - row["ground_s"])
        row["default_s"] = timings["total_s"]

    def p50(key: str) -> float:
        return statistics.median(r[key] for r in rows)

    judge_costs = [r["judge_s"] for r in rows if r["judge_s"] > 0.1]  # consulted
    for r in rows:  # the decode alone: from the first token on
        r["qa_after_first_s"] = r["generate_s"] - (r["qa_first_token_s"] - r["retrieve_s"])
        r["other_after_first_s"] = r["other_generate_s"] - (
            r["other_first_token_s"] - r["retrieve_s"]
        )
        r["raw_after_first_s"] = r["raw_generate_s"] - r["raw_first_token_s"]
    on, off = ("qa", "other") if settings.speculate else ("other", "qa")
    return {
        "speculate": settings.speculate,
        # Both settings against raw generation in this same run (paired per question).
        "ratio_speculate_on": statistics.median(r[f"{on}_s"] / r["raw_generate_s"] for r in rows),
        "ratio_speculate_off": statistics.median(r[f"{off}_s"] / r["raw_generate_s"] for r in rows),
        "ratio_after_first_token_on": statistics.median(
            r[f"{on}_after_first_s"] / max(r["raw_after_first_s"], 1e-3) for r in rows
        ),
        "ratio_after_first_token_off": statistics.median(
            r[f"{off}_after_first_s"] / max(r["raw_after_first_s"], 1e-3) for r in rows
        ),
        "p50_answer_on_s": p50(f"{on}_s"),
        "p50_answer_off_s": p50(f"{off}_s"),
        "same_drafts": sum(r["same_as_other"] for r in rows),
        # docqa's first token over raw's, as a difference: target <= raw prefill + 0.2 s.
        "p50_first_token_over_raw_s": statistics.median(
            r["qa_first_token_s"] - r["raw_first_token_s"] for r in rows
        ),
        "judged": len(judge_costs),
        "p50_judge_s": statistics.median(judge_costs) if judge_costs else 0.0,
        "p50_answer_s": p50("qa_s"),
        "p50_default_answer_s": p50("default_s"),
        "p50_first_token_s": p50("qa_first_token_s"),
        "p50_raw_generate_s": p50("raw_generate_s"),
        # Each question against raw generation of its own prompt and length: the median of
        # those paired ratios (a ratio of two medians compares different questions' lengths).
        "ratio": statistics.median(r["qa_s"] / r["raw_generate_s"] for r in rows),
        "ratio_of_p50s": p50("qa_s") / p50("raw_generate_s"),
        "p50_after_first_token_s": p50("qa_after_first_s"),
        "p50_raw_after_first_token_s": p50("raw_after_first_s"),
        "p50_raw_first_token_s": p50("raw_first_token_s"),
        "ratio_after_first_token": statistics.median(
            r["qa_after_first_s"] / max(r["raw_after_first_s"], 1e-3) for r in rows
        ),
        "p50_retrieve_s": p50("retrieve_s"),
        "p50_ground_s": p50("ground_s"),
        "rows": rows,
    }


def cold_start(work: Path) -> dict:
    """Process start to the first answer token on stdout of `qa ask`: the first run ever
    (no prompt cache on disk yet), then a later one; and a whole `qa ask --json`."""

    # A cache folder of its own that starts without prompt-cache files (the user's own
    # stays untouched), sharing the assembled model and the ONNX exports by links.
    settings = load_settings({}, environ={})
    cache = work / "cache" / "docqa"
    cache.mkdir(parents=True, exist_ok=True)
    for item in settings.cache_dir.iterdir():
        if item.name not in {"kv", "signals.sqlite"} and not (cache / item.name).exists():
            (cache / item.name).symlink_to(item)
    env = {**os.environ, "XDG_CACHE_HOME": str(cache.parent)}

    def ask_json() -> float:
        """A whole one-off `qa ask --json`, as a script runs it."""
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "qa", "ask", QUESTIONS[0], "--json"],
            env={**env, "PYTHONPATH": python_path(), "QA_INDEX": str(work / "index")},
            capture_output=True,
            check=True,
        )
        return time.perf_counter() - began

    first_run = first_token_s(work / "index", env)
    return {
        "first_run_s": first_run,
        "first_token_s": first_token_s(work / "index", env),
        "ask_json_s": ask_json(),
        # The prompt prefixes' KV states the first run left on disk for the later ones.
        "prompt_cache_files": len(list((cache / "kv").glob("*.bin"))),
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
            ("re-index unchanged article", f"{i['reindex_unchanged_s']:.2f} s", "<= 1 s"),
        ]
    if a := results.get("answer"):
        rows += [
            ("answer: warm qa ask / raw generation", f"{a['ratio']:.2f}x", "<= 0.8x"),
            ("  after the first token", f"{a['ratio_after_first_token']:.2f}x", "<= 0.6x"),
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
                "  first token - raw prefill (p50)",
                f"{a['p50_first_token_over_raw_s']:+.2f} s",
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
