"""Prompt-lookup speculative decoding for the in-process model: answers mostly copy a phrase
from the passages, so the tokens that followed the answer's last few tokens where they
occur earlier in the prompt are a good guess at what comes next. llama-cpp-python's own loop
(``Llama.generate`` with a ``draft_model``) reads the guess in one batch with the token just
chosen and keeps the longest run the model itself would have picked (greedy acceptance).

Two changes to the library's way: ``Llama(draft_model=...)`` asks for logits at every
position of every batch (a 1.2 GB buffer at 2,048 tokens, and a prompt read about 15%
slower); here only a verification batch has them, so the prompt is read exactly as without
speculation. And the guess is taken from the latest earlier occurrence of the n-gram (the
passages and the answer so far), not the first (the fixed instructions and examples).

Imported only where the model is opened: it imports llama_cpp.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from llama_cpp import Llama
from llama_cpp.llama_speculative import LlamaDraftModel


class PromptLookup(LlamaDraftModel):
    """Drafts up to ``tokens`` tokens: what followed the latest earlier occurrence of the
    context's last ``ngram`` tokens (tried from ``ngram`` down to ``min_ngram``), and notes
    how many it drafted, so that only that batch is read with logits at every position."""

    def __init__(self, ngram: int = 3, min_ngram: int = 2, tokens: int = 6) -> None:
        self.ngram, self.min_ngram, self.tokens = ngram, min_ngram, tokens
        self.pending = 0  # tokens of the last draft, not yet read

    def __call__(self, input_ids: np.ndarray, /, **_: Any) -> np.ndarray:
        draft = self.find(np.asarray(input_ids))
        self.pending = len(draft)
        return draft

    def find(self, ids: np.ndarray) -> np.ndarray:
        for n in range(min(self.ngram, len(ids) - 1), self.min_ngram - 1, -1):
            windows = np.lib.stride_tricks.sliding_window_view(ids[:-1], n)
            hits = np.flatnonzero((windows == ids[-n:]).all(axis=1))
            if len(hits):
                start = int(hits[-1]) + n  # the latest: the passages before the examples
                return ids[start : start + self.tokens].astype(np.intc)
        return np.array([], dtype=np.intc)


class SpeculativeLlama(Llama):
    """A ``Llama`` that reads a draft's verification batch with logits at each position
    (``Llama.generate`` samples each of them) and every other batch as ``Llama`` does. Set
    ``draft_model`` to a ``PromptLookup`` to speculate, None not to."""

    def eval(self, tokens: Sequence[int]) -> None:
        draft = self.draft_model
        drafted = draft.pending if isinstance(draft, PromptLookup) else 0
        if drafted:
            draft.pending = 0  # read once: a later batch is the prompt or a plain step
        if not drafted or len(tokens) != drafted + 1 or len(tokens) > self.n_batch:
            return super().eval(tokens)
        self._ctx.kv_cache_seq_rm(-1, self.n_tokens, -1)
        self._batch.set_batch(batch=tokens, n_past=self.n_tokens, logits_all=True)
        self._ctx.decode(self._batch)
        self.input_ids[self.n_tokens : self.n_tokens + len(tokens)] = tokens
        self.n_tokens += len(tokens)
        self._requires_eval = False
