"""llama.cpp in process: a GGUF loaded once per process, and the one thread that calls it."""

from __future__ import annotations

import atexit
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import Any

from qa.config import Settings
from qa.errors import ModelUnavailableError, UsageError
from qa.models.bundled import DEFAULT_BUNDLED, bundled_path
from qa.models.layouts import LAYOUT_DEFAULT, Layout, layout


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


# One load at a time, the GGUF's first assembly included: a second caller (the chain, after
# ``start_loading`` began) waits for the first's model rather than loading it again.
_loading = threading.Lock()
_loaded: dict[tuple[str, int, int], LocalModel] = {}


def gguf_of(settings: Settings) -> tuple[Path, str] | None:
    """The in-process model's GGUF file and name (None: the LLM is a server's); a bundled
    model is assembled from its parts the first time."""
    if settings.llm == "bundled":
        name = settings.llm_model or DEFAULT_BUNDLED
        return bundled_path(name, settings.cache_dir), name
    if settings.llm == "gguf":
        if not settings.llm_path:
            raise UsageError("--llm gguf needs QA_LLM_PATH (a .gguf file)")
        path = Path(settings.llm_path).expanduser()
        return path, path.stem
    return None


def open_local(settings: Settings) -> tuple[LocalModel, str] | None:
    """The settings' in-process model and its name, loaded once a process (None: the LLM is
    a server's): the answer chain and the judge share it."""
    with _loading:
        if (found := gguf_of(settings)) is None:
            return None
        path, name = found
        if not path.is_file():
            raise UsageError(f"no GGUF file at {path}")
        key = (str(path), settings.context_tokens, settings.threads)
        if key not in _loaded:
            # The weights as this CPU runs them fastest (``qa.models.layouts``, measured at
            # install), read once: a record made later does not load the model twice.
            _loaded[key] = _load(*key, layout(settings) or LAYOUT_DEFAULT)
        return _loaded[key], name


def start_loading(settings: Settings) -> Future:
    """Begin ``open_local`` on a thread of its own: a one-off ``qa ask`` then reads its model
    while Python imports the answer chain (0.7 s on 2 cores) rather than after, and the
    chain's own call gets this model. A failure here is raised again by that call. Wait for
    the Future before an error is shown: llama.cpp mutes the process's stdout and stderr
    while it loads."""
    done: Future = Future()

    def run() -> None:
        with suppress(Exception):  # the chain's own call raises it again, where it is shown
            open_local(settings)
        done.set_result(None)

    threading.Thread(target=run, name="qa-model-load", daemon=True).start()
    return done


def _load(path: str, n_ctx: int, threads: int, held: Layout) -> LocalModel:
    from qa.models.speculative import PromptLookup

    llama = load_llama(path, n_ctx, threads, held)
    atexit.register(llama.close)  # free it before the interpreter tears llama.cpp down
    return LocalModel(llama, PromptLookup())


# llama-cpp-python's Llama() has no argument for the layout: it starts from the library's
# default model parameters, so those are swapped while one model loads (one at a time).
_defaults = threading.Lock()


def load_llama(path: str, n_ctx: int, threads: int, held: Layout) -> Any:
    """The GGUF at ``path`` as a ``SpeculativeLlama``, its weights held as ``held``."""
    try:
        import llama_cpp.llama as library

        from qa.models.speculative import SpeculativeLlama
    except ImportError:
        raise ModelUnavailableError(
            "llama-cpp-python is not installed: pip install llama-cpp-python"
        ) from None
    native = library.llama_cpp
    if held == Layout.REPACKED:  # the library's own default
        return _llama(SpeculativeLlama, path, n_ctx, threads)
    if "use_extra_bufts" not in {name for name, _ in native.llama_model_params._fields_}:
        raise ModelUnavailableError("this llama-cpp-python cannot load weights as stored")
    with _defaults:
        default = native.llama_model_default_params

        def params() -> Any:
            found = default()
            found.use_extra_bufts = False  # llama.cpp's "extra buffers" repack the weights
            return found

        native.llama_model_default_params = params
        try:
            return _llama(SpeculativeLlama, path, n_ctx, threads)
        finally:
            native.llama_model_default_params = default


def _llama(kind: Any, path: str, n_ctx: int, threads: int) -> Any:
    try:
        return kind(model_path=path, n_ctx=n_ctx, n_threads=threads, n_batch=512, verbose=False)
    except ValueError as e:  # llama-cpp-python raises ValueError for a file it cannot load
        raise ModelUnavailableError(f"cannot load GGUF model {path}: {e}") from None
