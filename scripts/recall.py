"""Retrieval recall: how often the passages given to the model hold the answer, over the
settings that shape them (chunks searched, passages given, passage length). No model
answers: this measures what the model could read, in minutes rather than hours.

    python scripts/recall.py QUESTIONS [--index DIR] [--depth 4,6,8] [--k 2,3,4,5]
                             [--chars 160,220,300,400] [--json FILE]

QUESTIONS is a SQuAD v2.0 file (its articles go into a temporary index) or a question YAML
asked of --index. A passage holds the answer when it contains a gold answer (SQuAD's
normalisation) or, for YAML, every `expect` group and most words of the `support`.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import nullcontext
from pathlib import Path
from statistics import mean

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.config import load_settings  # noqa: E402
from qa.evaluation.evaluate import matches, normalise, squad_normalise  # noqa: E402
from qa.evaluation.questions import Question, load_questions, squad_index  # noqa: E402
from qa.index.store import Store  # noqa: E402
from qa.retrieval.retrieve import HybridRetriever, Passage, select  # noqa: E402


class CachedEncoder:
    """The index's embeddings, each text encoded once across all the settings tried."""

    def __init__(self, embed) -> None:
        self.embed, self.seen = embed, {}

    def encode(self, texts: list[str]) -> np.ndarray:
        new = list(dict.fromkeys(t for t in texts if t not in self.seen))
        if new:
            self.seen.update(zip(new, self.embed.encode(new), strict=True))
        return np.stack([self.seen[t] for t in texts])


def holds(q: Question, passage: Passage) -> bool:
    """Whether the passage (with its section path) holds the question's answer."""
    if q.squad:
        text = squad_normalise(passage.text)
        return any(squad_normalise(g) in text for g in q.expect[0])
    text = f"{passage.section}\n{passage.text}"
    if not matches(text, q.expect):
        return False
    # The answer phrase is in it; a short phrase is in many places, so most of the support's
    # words must be there too (the support may run past the passage's end).
    wanted = set(normalise(q.support).split())
    return len(wanted & set(normalise(text).split())) >= 0.6 * len(wanted)


def measure(questions: list[Question], settings, depths, ks, chars) -> list[dict]:
    store = Store(settings)
    embed = CachedEncoder(store.embeddings)
    rows = []
    for depth in depths:
        retriever = HybridRetriever(store=store, k=depth)
        hits = {q.id: retriever.invoke(q.q) for q in questions}
        for k in ks:
            for n_chars in chars:
                found, first, given = [], [], []
                for q in questions:
                    ps = select(
                        q.q, hits[q.id], retriever.lexical, retriever.idf, embed, k, n_chars
                    ).passages
                    at = next((p.n for p in ps if holds(q, p)), 0)
                    found.append(at > 0)
                    first += [at] if at else []
                    given.append(sum(len(p.text) for p in ps))
                rows.append(
                    {
                        "depth": depth,
                        "k": k,
                        "passage_chars": n_chars,
                        "recall": mean(found),
                        "at_1": mean(a == 1 for a in first) if first else 0.0,
                        "chars_given": mean(given),
                    }
                )
                print(_line(rows[-1]), file=sys.stderr, flush=True)
    return rows


def _line(row: dict) -> str:
    return (
        f"depth {row['depth']:2d}  k {row['k']}  chars {row['passage_chars']:3d}  "
        f"recall {row['recall']:.1%}  first passage {row['at_1']:.0%}  "
        f"{row['chars_given']:.0f} chars given"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--index", type=Path, help="the index a YAML set is asked of")
    parser.add_argument("--depth", default="4,6,8", help="chunks searched (default 2k = 6)")
    parser.add_argument("--k", default="2,3,4,5", help="passages given to the model")
    parser.add_argument("--chars", default="160,220,300,400", help="most characters a passage")
    parser.add_argument("--json", type=Path, help="write the table as JSON here")
    args = parser.parse_args()

    def ints(text: str) -> list[int]:
        return [int(x) for x in text.split(",")]

    questions, docs = load_questions(args.questions)
    questions = [q for q in questions if q.answerable and (q.expect or q.support)]
    settings = load_settings({"index": args.index})
    with squad_index(docs, settings) if docs else nullcontext(settings) as scoped:
        rows = measure(questions, scoped, ints(args.depth), ints(args.k), ints(args.chars))
    if args.json:
        args.json.write_text(json.dumps({"questions": len(questions), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
