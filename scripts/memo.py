"""The model's drafts and the judge's verdicts kept per prompt, for scripts/transfer.py: a
change to the checks is scored on every corpus again in minutes with the same drafts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


class Memo:
    """The model's drafts and the judge's verdicts, kept per prompt in a JSON Lines file.

    A greedy draft depends only on the model, its settings and the prompt (the passages and
    the question), and the judge's P(yes) only on its three texts; so after a change to the
    checks a run asks the model only what it has not been asked before, and a corpus is scored
    again in minutes instead of an hour. A change to retrieval or the prompt changes the keys.
    """

    def __init__(self, path: Path | None, settings) -> None:
        """``path`` None: nothing kept, every draft and verdict asked afresh (``--fresh``)."""
        self.path, self.seen = path, {}
        from qa.models.layouts import layout

        # Weights held in another layout round differently: a greedy draft may differ.
        model = [settings.llm, settings.llm_model, settings.max_tokens, settings.speculate]
        if held := layout(settings):  # none for a server's model
            model += [str(held)]
        self.model = json.dumps(model, default=str)
        if path is not None and path.is_file():
            for line in path.read_text().splitlines():
                key, value = json.loads(line)
                self.seen[key] = value

    def get(self, parts: list[str], compute):
        if self.path is None:
            return compute()
        key = hashlib.sha256(json.dumps([self.model, *parts]).encode()).hexdigest()
        if key not in self.seen:
            self.seen[key] = compute()
            with self.path.open("a") as f:
                f.write(json.dumps([key, self.seen[key]]) + "\n")
        return self.seen[key]


def remembering(settings, memo: Memo, record: bool = False):
    """An Answerer whose drafts and judge verdicts come from ``memo`` where it has them;
    ``record``: the judge asked about every claim, and each answer's grounding kept in
    ``weighed`` (the signals a decision is fitted on)."""
    from qa.answering import chain
    from qa.grounding.claims import Draft

    def judge_with(llm, cache_dir=None):
        judge = plain_judge(llm, cache_dir)

        def remembered(q: str, claim: str, text: str) -> float:
            return memo.get(["judge", prompt, q, claim, text], lambda: judge(q, claim, text))

        return remembered

    from qa.grounding.judge import TURNS

    # A verdict depends on the judge's own prompt as well: a change to its examples asks anew.
    prompt = json.dumps(TURNS)
    plain_judge = chain.judge_with
    chain.judge_with = judge_with  # the chain builds its judge per question (a dev script's hook)

    weighed: list = []

    class Remembering(chain.Answerer):
        def ask(self, question, on_token=None, history=None):
            answer = chain.Answerer.ask(self, question, on_token, history)
            weighed.append(answer.grounding)
            return answer

        def generate(self, evidence, question, on_token=None):
            def draft():
                d = chain.Answerer.generate(self, evidence, question, on_token)
                return [d.text, [list(t) for t in d.tokens]]

            text, tokens = memo.get(["draft", chain.numbered(evidence), question], draft)
            return Draft(text, tuple((t, lp) for t, lp in tokens))

    answerer = Remembering(settings, record=record)
    answerer.weighed = weighed
    return answerer
