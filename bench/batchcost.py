"""What a batch of k tokens costs against one token, where an answer is decoded: the price of
a speculative draft's verification on this CPU and these kernels.

    python bench/batchcost.py INDEX

From the primed prefix and the first eval question's passages (about 450 tokens of
context), each batch size is read ``REPEATS`` times (logits at every position, as a
verification batch is) and its median time printed beside one token's, with the CPU and
llama.cpp's instruction sets.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.answering.chain import Answerer, numbered  # noqa: E402
from qa.answering.prompts import PROMPT  # noqa: E402
from qa.config import load_settings  # noqa: E402
from qa.evaluation.evaluate import machine  # noqa: E402
from qa.evaluation.questions import load_questions  # noqa: E402

SIZES = (1, 2, 3, 4, 5, 7, 11)
REPEATS = 7


def main() -> None:
    answerer = Answerer(load_settings({"index": sys.argv[1]}))
    answerer.warm_up()
    llm = answerer.llm
    llama = llm.llama
    question = load_questions(ROOT / "eval_questions.yaml")[0][0].q
    messages = PROMPT.format_messages(
        passages=numbered(answerer.retrieve(question)), question=question
    )
    # The prompt's text as plain tokens: only its length and kind of text matter here.
    text = "\n".join(str(m.content) for m in messages)
    prompt = llama.tokenize(text.encode(), add_bos=False)[-200:]

    def batch_s(k: int) -> float:  # on the model's own thread
        llama.eval(prompt[:120])  # a question's worth of context after the prefix
        tokens = prompt[120 : 120 + k]
        began = time.perf_counter()
        llama._batch.set_batch(batch=tokens, n_past=llama.n_tokens, logits_all=True)
        llama._ctx.decode(llama._batch)
        return time.perf_counter() - began

    def local_run(k: int) -> float:
        answerer.warm_up()  # the KV cache back to the prefix alone
        return llm.local.run(batch_s, k)

    costs = {k: statistics.median(local_run(k) for _ in range(REPEATS)) for k in SIZES}
    print(
        json.dumps(
            {
                **machine(),
                "load": os.getloadavg()[0],
                "one_token_s": costs[1],
                "relative": {k: round(c / costs[1], 2) for k, c in costs.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
