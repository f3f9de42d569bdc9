"""A whole cold `qa ask --json`, by part, in one process: when each stage of the one-off
path starts and ends (imports, settings, the index's opening, the ONNX session and the first
query embedding, the model's load and its prompt prefix's KV state, retrieval, generation,
grounding, the JSON out) and how long the interpreter takes to exit after it.

    python bench/coldparts.py [--runs N] [--root CHECKOUT ...] [QUESTION]

Each run is a fresh process (``python bench/coldparts.py --child``) that wraps the stages'
functions with timers; the parent times the whole process from spawn to exit, so interpreter
start and exit are in it. Prints a table of medians (seconds from spawn) per checkout; with
several ``--root``, their runs alternate. The index is ./.qa_index (or QA_INDEX).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# (module, qualified name, label): the stages of a one-off ask, as functions to wrap.
STAGES = [
    ("qa.interfaces.options", "settings_from", "settings"),
    ("qa.index.store", "Store.__init__", "index open (Chroma)"),
    ("qa.models.encoders", "OnnxEncoder.__init__", "ONNX session"),
    ("qa.models.embeddings", "LazyEmbeddings.encode", "query embedding"),
    ("qa.models.local", "_load", "model load"),
    ("qa.models.local", "open_model", "model load"),  # before start_loading
    ("qa.models.speculative", "SpeculativeLlama.__init__", "Llama() (in model load)"),
    ("qa.models.llms", "LlamaCppChat._state_after", "KV prefix load"),
    ("qa.answering.chain", "Answerer.__init__", "Answerer()"),
    ("qa.answering.chain", "Answerer.retrieve", "retrieve"),
    ("qa.answering.chain", "Answerer.generate", "generate"),
    ("qa.answering.chain", "Answerer.check", "ground"),
]
IMPORTS = ("qa.interfaces.cli", "qa.answering.chain", "qa.index.store", "chromadb", "llama_cpp")


def child(question: str) -> None:
    """Run `qa ask QUESTION --json` in this process, noting each stage's (start, end) as
    wall-clock times, and print them on stderr as one JSON line after the answer. The
    stages' functions are wrapped as their modules are imported, so that nothing is
    imported earlier than `qa ask` imports it."""
    import importlib.abc
    import importlib.machinery

    events: list[tuple[str, str, float, float]] = []
    lock = threading.Lock()

    def note(label: str, began: float) -> None:
        with lock:
            events.append((label, threading.current_thread().name, began, time.time()))

    def wrap(module, qualname: str, label: str) -> None:
        *path, name = qualname.split(".")
        owner = module
        for part in path:
            owner = getattr(owner, part, None)
        fn = getattr(owner, name, None)
        if fn is None:  # not in this version of the code
            return

        def timed(*args, **kw):
            start = time.time()
            try:
                return fn(*args, **kw)
            finally:
                note(label, start)

        setattr(owner, name, timed)

    class Loader(importlib.abc.Loader):
        def __init__(self, inner) -> None:
            self.inner = inner

        def create_module(self, spec):
            return self.inner.create_module(spec)

        def exec_module(self, module) -> None:
            start = time.time()
            self.inner.exec_module(module)
            if module.__name__ in IMPORTS:
                note(f"import {module.__name__}", start)
            for stage in STAGES:
                if stage[0] == module.__name__:
                    wrap(module, *stage[1:])

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name not in IMPORTS and name not in {s[0] for s in STAGES}:
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            if spec is not None and spec.loader is not None:
                spec.loader = Loader(spec.loader)
            return spec

    sys.meta_path.insert(0, Finder())
    import qa.interfaces.cli as cli

    main_began = time.time()
    try:
        cli.main(["ask", question, "--json"], standalone_mode=False)
    finally:
        sys.stdout.flush()
        note("qa ask (main)", main_began)
        print(json.dumps({"events": events, "main_end": time.time()}), file=sys.stderr)


def run_once(question: str, root: Path) -> dict[str, float]:
    """One fresh process on the code in ``root``: each stage's start and end, seconds from
    spawn; 'exit' is from main's end to the process's end."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    spawned = time.time()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", question], env=env, capture_output=True, text=True
    )
    ended = time.time()
    if proc.returncode:
        raise SystemExit(proc.stderr[-2000:])
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    row: dict[str, float] = {}
    for label, thread, start, end in report["events"]:
        if f"{label} start" not in row:  # the first call of a stage
            row[f"{label} start"] = start - spawned
            row[f"{label} end"] = end - spawned
            row[f"{label} thread"] = thread
    row["exit after main"] = ended - report["main_end"]
    row["whole"] = ended - spawned
    row["answer"] = json.loads(proc.stdout)["answer"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("question", nargs="?", help="default: the eval's first answerable one")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--root",
        type=Path,
        action="append",
        help="a checkout whose code to time (repeat to compare; default: this one)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.question)
        return
    if args.question is None:  # as bench/answer.py asks: the project's own eval questions
        from qa.evaluation.questions import load_questions

        asked = load_questions(ROOT / "eval_questions.yaml")[0]
        args.question = next(q.q for q in asked if q.answerable and not q.history)
    roots = args.root or [ROOT]
    runs: dict[Path, list[dict]] = {root: [] for root in roots}
    for _ in range(args.runs):  # the checkouts alternate, so that the load weighs alike
        for root in roots:
            runs[root].append(run_once(args.question, root))
    for root in roots:
        print(f"\n{root}")
        report(runs[root], args.runs)


def report(rows: list[dict], n: int) -> None:
    """The stages' medians, by start."""
    answers = {r.pop("answer") for r in rows}
    labels = [k[: -len(" start")] for k in rows[0] if k.endswith(" start")]

    def med(key: str) -> float:
        return statistics.median(r[key] for r in rows if key in r)

    print(
        f"{'stage':32} {'thread':12} {'start':>6} {'end':>6} {'took':>6}",
        f"(median s from spawn, {n} runs)",
    )
    for label in sorted(labels, key=lambda lab: med(f"{lab} start")):
        start, end = med(f"{label} start"), med(f"{label} end")
        took = statistics.median(
            r[f"{label} end"] - r[f"{label} start"] for r in rows if f"{label} start" in r
        )
        thread = rows[0].get(f"{label} thread", "")
        print(f"{label:32} {thread[:12]:12} {start:6.2f} {end:6.2f} {took:6.2f}")
    print(f"{'exit after main':32} {'':12} {'':6} {'':6} {med('exit after main'):6.2f}")
    wholes = sorted(r["whole"] for r in rows)
    print(
        f"whole: median {statistics.median(wholes):.2f} s;",
        "runs " + ", ".join(f"{w:.2f}" for w in wholes),
    )
    print(f"answers: {len(answers)} distinct: {sorted(answers)}")


if __name__ == "__main__":
    main()
