"""llama.cpp in process: a GGUF loaded once per process, and the one thread that calls it."""

from __future__ import annotations

import atexit
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from qa.errors import ModelUnavailableError


class LocalModel:
    """A llama.cpp model and the one thread that makes all its calls. llama.cpp contexts are
    not thread-safe, and its OpenMP build keeps a team of worker threads per calling thread:
    calls from several threads (LangChain runs steps in pool threads) leave teams spinning
    against each other for the cores, measured 20% slower on 2 cores."""

    def __init__(self, llama: Any, draft: Any = None) -> None:
        self.llama = llama
        self.draft = draft  # a PromptLookup for speculative decoding (qa.models.speculative)
        self.home = ThreadPoolExecutor(1, "llama")  # one thread: also one call at a time

    def speculate(self, on: bool) -> None:
        """Draft from the prompt in the generations that follow, or not (home thread only)."""
        if self.draft is not None:
            self.draft.pending = 0
        self.llama.draft_model = self.draft if on else None

    def run(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        return self.home.submit(fn, *args, **kw).result()

    def stream(
        self, request: dict[str, Any], before: Callable[[], None] = lambda: None
    ) -> Iterator[dict[str, Any]]:
        """``create_chat_completion(stream=True)`` on the home thread (after ``before``),
        parts handed over as they come; closing the iterator early stops the generation."""
        parts: queue.Queue = queue.Queue()
        stop = threading.Event()
        done = object()

        def work() -> None:
            try:
                before()
                for part in self.llama.create_chat_completion(**request, stream=True):
                    parts.put(part)
                    if stop.is_set():
                        break
            except BaseException as e:  # raised again in the caller's thread
                parts.put(e)
            finally:
                parts.put(done)

        self.home.submit(work)
        try:
            while (part := parts.get()) is not done:
                if isinstance(part, BaseException):
                    raise part
                yield part
        finally:
            stop.set()


@cache
def open_model(path: str, n_ctx: int, threads: int) -> LocalModel:
    """The GGUF at ``path``, loaded once a process: the answer chain and the judge share it."""
    try:
        from qa.models.speculative import PromptLookup, SpeculativeLlama
    except ImportError:
        raise ModelUnavailableError(
            "llama-cpp-python is not installed: pip install llama-cpp-python"
        ) from None
    try:
        llama = SpeculativeLlama(
            model_path=path, n_ctx=n_ctx, n_threads=threads, n_batch=512, verbose=False
        )
    except ValueError as e:  # llama-cpp-python raises ValueError for a file it cannot load
        raise ModelUnavailableError(f"cannot load GGUF model {path}: {e}") from None
    atexit.register(llama.close)  # free it before the interpreter tears llama.cpp down
    return LocalModel(llama, PromptLookup())
