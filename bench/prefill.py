"""Where the prompt's reading goes, per question: tokens and seconds by part.

    python bench/prefill.py INDEX [--limit N] > prefill.jsonl   # INDEX: the corpus ingested

For each question of eval_questions.yaml (asked as `qa eval` asks it, judge on), one JSON
line: the answer prompt's tokens by part (the fixed prefix the KV cache holds, the passages,
the question with the chat template's tail) and the seconds to read the passages and the
question from the cached prefix, each read apart; the judge's calls (its fixed preamble is
cached too) with the tokens each read afresh and its seconds. A last line sums them up.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.answering.chain import Answerer, numbered  # noqa: E402
from qa.answering.prompts import PROMPT  # noqa: E402
from qa.config import load_settings  # noqa: E402
from qa.evaluation.questions import load_questions  # noqa: E402
from qa.models.llms import LlamaCppChat, chat_messages  # noqa: E402


def prompt_tokens(llama, messages) -> list[int]:
    """The tokens llama-cpp-python's chat completion reads for ``messages``."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def text(token: int) -> str:
        return llama.detokenize([token], special=True).decode() if token >= 0 else ""

    template = llama.metadata["tokenizer.chat_template"]
    formatter = Jinja2ChatFormatter(template, text(llama.token_eos()), text(llama.token_bos()))
    prompt = formatter(messages=chat_messages(messages)).prompt
    return llama.tokenize(prompt.encode(), add_bos=False, special=True)


def shared(a, b) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))


def read_s(llama, tokens: list[int]) -> float:
    """Seconds to read ``tokens`` (on the model's own thread, as docqa's calls are)."""
    began = time.perf_counter()
    llama.eval(tokens)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index")
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    answerer = Answerer(load_settings({"index": args.index}))
    answerer.warm_up()
    llm: LlamaCppChat = answerer.llm
    llama = llm.llama
    prefix = list(llama.input_ids[: llama.n_tokens])  # what prime left: the fixed prefix

    judged: list[dict] = []  # the judge's calls during the current ask
    plain_yes = LlamaCppChat.yes_probability

    def yes_probability(self, messages, preamble=0, cache_dir=None):
        tokens = prompt_tokens(llama, messages)
        fixed = prompt_tokens(llama, messages[:preamble])
        began = time.perf_counter()
        p = plain_yes(self, messages, preamble, cache_dir)
        judged.append(
            {
                "fixed": shared(fixed, tokens),
                "fresh": len(tokens) - shared(fixed, tokens),
                "s": time.perf_counter() - began,
            }
        )
        return p

    LlamaCppChat.yes_probability = yes_probability  # counts the judge's calls
    questions = load_questions(ROOT / "eval_questions.yaml")[0]
    rows = []
    for q in questions[: args.limit or None]:
        if q.history:
            continue
        evidence = answerer.retrieve(q.q)
        if not evidence.passages:
            continue
        passages = numbered(evidence)
        whole = prompt_tokens(llama, PROMPT.format_messages(passages=passages, question=q.q))
        without_q = prompt_tokens(llama, PROMPT.format_messages(passages=passages, question=""))
        cached = shared(prefix, whole)
        upto = shared(without_q, whole)  # the passages end here; the question follows
        answerer.warm_up()  # the KV cache back to the prefix alone
        passages_s = llm.local.run(read_s, llama, whole[cached:upto])
        question_s = llm.local.run(read_s, llama, whole[upto:])
        answerer.warm_up()  # the KV cache back to the prefix alone
        together_s = llm.local.run(read_s, llama, whole[cached:])
        judged.clear()
        answerer.warm_up()
        a = answerer.ask(q.q)
        rows.append(
            {
                "id": q.id,
                "prefix_tokens": cached,
                "passage_tokens": upto - cached,
                "question_tokens": len(whole) - upto,
                "passages": len(evidence.passages),
                "passages_s": round(passages_s, 3),
                "question_s": round(question_s, 3),
                "prefill_s": round(together_s, 3),
                "answer_tokens": len(llama.tokenize(a.grounding.draft.encode(), add_bos=False)),
                "generate_s": a.timings["generate_s"],
                "ground_s": a.timings["ground_s"],
                "judge_calls": list(judged),
            }
        )
        print(json.dumps(rows[-1]), flush=True)

    def p50(key: str) -> float:
        return statistics.median(r[key] for r in rows)

    calls = [c for r in rows for c in r["judge_calls"]]
    print(
        json.dumps(
            {
                "questions": len(rows),
                "prefix_tokens": rows[0]["prefix_tokens"] if rows else 0,
                "p50_passage_tokens": p50("passage_tokens"),
                "p50_question_tokens": p50("question_tokens"),
                "p50_passages_s": p50("passages_s"),
                "p50_question_s": p50("question_s"),
                "p50_prefill_s": p50("prefill_s"),
                "p50_generate_s": p50("generate_s"),
                "judge_calls": len(calls),
                "asks_judged": sum(1 for r in rows if r["judge_calls"]),
                "p50_judge_fixed_tokens": statistics.median(c["fixed"] for c in calls)
                if calls
                else 0,
                "p50_judge_fresh_tokens": statistics.median(c["fresh"] for c in calls)
                if calls
                else 0,
                "p50_judge_call_s": statistics.median(c["s"] for c in calls) if calls else 0,
            }
        )
    )


if __name__ == "__main__":
    main()
