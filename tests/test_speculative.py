"""Prompt-lookup speculative decoding gives plain greedy decoding's answers; what a one-off
ask does not need is not loaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.config import load_settings
from qa.errors import NoIndexError
from qa.models.llms import TokenOdds


def test_the_draft_is_what_followed_the_latest_earlier_occurrence_of_the_last_tokens():
    from qa.models.speculative import PromptLookup

    lookup = PromptLookup(ngram=3, min_ngram=2, tokens=3)
    #                 an early match      the latest match      the answer so far
    ids = np.array([5, 6, 7, 1, 1, 9, 5, 6, 8, 2, 3, 4, 4, 0, 5, 6], dtype=np.intc)
    assert lookup(ids).tolist() == [8, 2, 3]
    assert lookup.pending == 3  # the next batch is read with logits at every position
    # No earlier occurrence of the last two tokens: no draft (one token alone is not tried).
    assert lookup(np.array([1, 2, 3, 4, 2, 5], dtype=np.intc)).tolist() == []
    assert lookup.pending == 0


class _Tokens:
    def detokenize(self, tokens: list[int]) -> bytes:
        return f"<{tokens[0]}>".encode()


def test_token_odds_note_each_greedy_pick_whatever_follows_it_in_the_context():
    odds = TokenOdds(_Tokens())
    rows = [np.log(np.array(p, dtype=np.float32)) for p in ([0.1, 0.7, 0.2], [0.6, 0.3, 0.1])]
    for row in rows:  # the ids passed hold a draft's tokens too: they are not read
        odds(np.array([2, 2, 2]), row.copy())
    odds(np.array([2, 2, 2]), np.zeros(3, dtype=np.float32))  # the last step: not noted
    got = [(t["token"], round(t["logprob"], 4)) for t in odds.chosen]
    assert got == [("<1>", round(float(np.log(0.7)), 4)), ("<0>", round(float(np.log(0.6)), 4))]


def test_a_missing_index_is_reported_before_the_model_loads(monkeypatch, tmp_path: Path):
    import qa.answering.chain as chain

    loaded: list[object] = []
    monkeypatch.setattr(chain, "load_llm", lambda settings: loaded.append(settings))
    with pytest.raises(NoIndexError):
        chain.Answerer(load_settings({"index": tmp_path / "none"}, environ={}))
    assert loaded == []


@pytest.mark.slow
def test_speculation_gives_the_answers_of_plain_greedy_decoding(answerer):
    draft = answerer.llm.local.draft
    drafted: list[int] = []
    find = draft.find
    draft.find = lambda ids: drafted.append(len(got := find(ids))) or got
    questions = [
        "Which of its borders is Iran reinforcing?",
        "Who is the spokesperson of Iran's Foreign Ministry?",
        "How much does a ticket to the museum cost?",
    ]
    try:
        for question in questions:
            said = {}
            for on in (False, True):
                answerer.llm.speculate = on
                got = answerer.ask(question).to_json()
                said[on] = (got["answer"], got["grounding"]["draft"], got["citations"])
            assert said[True] == said[False], question
    finally:
        answerer.llm.speculate = load_settings(environ={}).speculate
        del draft.find
    assert sum(drafted) > 0  # it did speculate
