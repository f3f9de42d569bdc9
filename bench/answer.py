"""The answer and cold-start benchmarks: a warm docqa answer against raw llama.cpp generation of
the same prompt, and a one-off `qa ask` from process start. Run through bench/bench.py."""

from __future__ import annotations

import atexit
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from large import first_token_s

from qa.answering.chain import Answerer, numbered
from qa.answering.prompts import PREFIX, PROMPT
from qa.config import Settings, load_settings
from qa.evaluation.questions import load_questions
from qa.models.layouts import layout
from qa.models.llms import chat_messages
from qa.models.local import LocalModel

ROOT = Path(__file__).resolve().parent.parent
# The project's own eval questions, the first answerable ones: warm answers on the article.
QUESTIONS = [
    q.q for q in load_questions(ROOT / "eval_questions.yaml")[0] if q.answerable and not q.history
][:8]


def python_path() -> str:
    """PYTHONPATH for the `qa` processes a benchmark starts: this checkout, then the caller's
    own (a llama_cpp built with other kernels, put first, is what they import)."""
    return os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(ROOT)) if p)


def stream(run) -> tuple[float, float]:
    """(seconds to the first token, seconds in all) of ``run(on_token)``."""
    began = time.perf_counter()
    first: list[float] = []

    def on_token(_: str) -> None:
        if not first:
            first.append(time.perf_counter() - began)

    run(on_token)
    total = time.perf_counter() - began
    return (first[0] if first else total), total


def library_model(settings: Settings, path: str) -> tuple[LocalModel, Callable[[], None]]:
    """The GGUF as llama-cpp-python loads it by default (its weights repacked for this CPU),
    with docqa's context size, threads and batch: the raw library a user would call; and
    what puts its KV cache back to the fixed prompt prefix alone, as docqa's is between
    questions (left as it is, the library would also reuse the last prompt's passages)."""
    from llama_cpp import Llama

    llama = Llama(
        model_path=path,
        n_ctx=settings.context_tokens,
        n_threads=settings.threads,
        n_batch=512,
        verbose=False,
    )
    atexit.register(llama.close)  # also where a question fails: before llama.cpp's teardown
    library = LocalModel(llama)
    library.run(llama.create_chat_completion, chat_messages(PREFIX), max_tokens=1)
    prefix = library.run(llama.save_state)
    return library, lambda: llama.load_state(prefix)


def answer_overhead(work: Path) -> dict:
    """Warm Answerer.ask vs. raw llama.cpp generation of the same prompt and token count,
    each starting from the same KV cache state (the fixed prompt prefix): raw generation by
    the library as it loads the model by default (``ratio``), and on docqa's own loaded
    model, its weights in the layout measured fastest here (``ratio_same_weights``). The
    judge is off for that ratio (it is a second model call that raw generation does not
    make); its cost is measured apart, with the default settings, on the same questions.
    QA_SPECULATE, when set, switches speculative decoding for docqa's side (raw generation
    never speculates)."""
    chosen = {n: os.environ[n] for n in ("QA_SPECULATE",) if n in os.environ}
    settings = load_settings({"index": work / "index", "judge": False}, environ=chosen)
    answerer = Answerer(settings)
    answerer.warm_up()
    llama = answerer.llm.llama
    library, back_to_prefix = library_model(settings, llama.model_path)
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

            sides[on] = (*stream(ask), got["answer"])
        answerer.llm.speculate = settings.speculate
        qa_first, qa_s, answer = sides[settings.speculate]
        other_first, other_s, other = sides[not settings.speculate]
        evidence = answerer.retrieve(q)
        request = chat_messages(PROMPT.format_messages(passages=numbered(evidence), question=q))
        tokens = max(1, len(llama.tokenize(answer.grounding.draft.encode(), add_bos=False)))
        answerer.warm_up()

        def raw(on_token, local=answerer.llm.local, request=request, tokens=tokens):
            # On the model's own thread, as docqa's calls are (see qa.models.local.LocalModel),
            # plain greedy decoding: no speculative draft.
            call = {"messages": request, "max_tokens": tokens, "temperature": 0.0}
            before = (lambda: None) if local is library else lambda: local.speculate(False)
            for part in local.stream(call, before):
                if part["choices"][0]["delta"].get("content"):
                    on_token("")

        same_first, same_s = stream(raw)
        library.run(back_to_prefix)  # as docqa's warm_up: untimed
        raw_first, raw_s = stream(partial(raw, local=library))
        rows.append(
            {
                "question": q,
                "qa_s": qa_s,
                "qa_first_token_s": qa_first,
                "raw_generate_s": raw_s,
                "raw_first_token_s": raw_first,
                "same_generate_s": same_s,
                "same_first_token_s": same_first,
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

    library.llama.close()
    library.home.shutdown()
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
        r["same_after_first_s"] = r["same_generate_s"] - r["same_first_token_s"]
    on, off = ("qa", "other") if settings.speculate else ("other", "qa")
    return {
        "speculate": settings.speculate,
        "weights": str(layout(settings)),
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
        # The same against raw generation on docqa's own model (its weights' layout too).
        "ratio_same_weights": statistics.median(r["qa_s"] / r["same_generate_s"] for r in rows),
        "ratio_after_first_token_same_weights": statistics.median(
            r["qa_after_first_s"] / max(r["same_after_first_s"], 1e-3) for r in rows
        ),
        "p50_first_token_over_same_weights_s": statistics.median(
            r["qa_first_token_s"] - r["same_first_token_s"] for r in rows
        ),
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
