"""Speculation off and on, per question of eval_questions.yaml: are the answers the same?

    python bench/speculation.py INDEX > speculation.jsonl   # INDEX: the corpus ingested

One process asks each question twice, speculation off and on, in alternating order (each
ask starts from the primed prefix, so the order changes nothing but which one meets the
machine's load first), and prints a JSON line per question: ``identical`` (answer, draft,
declined and citations) and each side's answer, confidence and generation time.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.answering.chain import Answerer  # noqa: E402
from qa.config import load_settings  # noqa: E402
from qa.evaluation.questions import load_questions  # noqa: E402

SAME = ("answer", "draft", "declined", "citations")


def main() -> None:
    answerer = Answerer(load_settings({"index": sys.argv[1]}))
    answerer.warm_up()
    for i, q in enumerate(load_questions(ROOT / "eval_questions.yaml")[0]):
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
        print(json.dumps({"id": q.id, "identical": same, **got}), flush=True)


if __name__ == "__main__":
    main()
