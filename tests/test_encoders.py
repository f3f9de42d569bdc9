"""The encoders' batching: the first batch an encoder kind runs in a process runs on the
caller's thread, so that two pool threads never set up an extension's statics at once (two
OpenVINO threads doing so deadlocked a server)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from qa.models.encoders import Encoder


class Recording(Encoder):
    """An encoder that records which thread ran each batch (one text a batch)."""

    def __init__(self) -> None:  # no export: batches and vectors are its own
        self.width = 2
        self.pool = ThreadPoolExecutor(2, "recording")
        self.threads: list[str] = []

    def batches(self, texts):
        for i in range(len(texts)):
            yield [i], {}

    def vectors(self, feed):
        self.threads.append(threading.current_thread().name)
        return np.ones((1, 2), dtype=np.float32)


def test_the_first_batch_runs_on_the_callers_thread_and_only_once_a_process() -> None:
    first = Recording()
    vectors = first.encode([f"text {i}" for i in range(8)])
    assert vectors.shape == (8, 2) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert first.threads[0] == threading.current_thread().name
    assert all(name.startswith("recording") for name in first.threads[1:])
    later = Recording()  # the same kind, set up already: every batch on the pool
    later.encode(["a", "b", "c"])
    assert all(name.startswith("recording") for name in later.threads)
