"""Speculation off and on, per question of eval_questions.yaml: are the answers the same?

    python bench/speculation.py INDEX [--limit N] > speculation.jsonl   # INDEX: the corpus

The last line sums it up: how many identical, and generation time off and on (p50, and the
median of the per-question ratios on/off), with the CPU and llama.cpp's instruction sets.

One process asks each question twice, speculation off and on, in alternating order (each
ask starts from the primed prefix, so the order changes nothing but which one meets the
machine's load first), and prints a JSON line per question: ``identical`` (answer, draft,
declined and citations) and each side's answer, confidence and generation time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.answering.chain import Answerer  # noqa: E402
from qa.config import load_settings  # noqa: E402
from qa.evaluation.evaluate import machine  # noqa: E402
from qa.evaluation.questions import load_questions  # noqa: E402

SAME = ("answer", "draft", "declined", "citations")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index")
    parser.add_argument("--limit", type=int, default=0, help="The first N questions only.")
    args = parser.parse_args()
    answerer = Answerer(load_settings({"index": args.index}))
    answerer.warm_up()
    questions = load_questions(ROOT / "eval_questions.yaml")[0][: args.limit or None]
    rows = []
    for i, q in enumerate(questions):
        got = {}
        for on in (False, True) if i % 2 == 0 else (True, False):
            answerer.llm.speculate = on
            a = answerer.ask(q.q, history=q.history).to_json()
            got["on" if on else "off"] = {
                "answer": a["answer"],
                "draft": a["grounding"]["draft"],
                "declined": a["declined"],
                "citations": [(c["source"], c["start"], c["end"]) for c in a["citations"]],
                "confidence": a["grounding"]["confidence"],
                "generate_s": a["timings"]["generate_s"],
            }
        same = all(got["off"][k] == got["on"][k] for k in SAME)
        rows.append({"id": q.id, "identical": same, **got})
        print(json.dumps(rows[-1]), flush=True)
    off = [r["off"]["generate_s"] for r in rows]
    on = [r["on"]["generate_s"] for r in rows]
    summary = {
        **machine(),
        "load": os.getloadavg()[0],
        "questions": len(rows),
        "identical": sum(r["identical"] for r in rows),
        "differ": [r["id"] for r in rows if not r["identical"]],
        "p50_generate_off_s": statistics.median(off),
        "p50_generate_on_s": statistics.median(on),
        "ratio_on_off": statistics.median(b / max(a, 1e-3) for a, b in zip(off, on, strict=True)),
    }
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
