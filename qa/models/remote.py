"""An OpenAI-compatible LLM server (vLLM, Ollama, LM Studio, llama.cpp's server, a hosted
API) as the chat model, through LangChain's OpenAI integration; its failures as one line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from qa.config import Settings
from qa.errors import BackendError, ModelUnavailableError, UsageError


def openai_chat(settings: Settings) -> BaseChatModel:
    """Any OpenAI-compatible server, through LangChain's OpenAI chat model."""
    if not settings.llm_base_url or not settings.llm_model:
        raise UsageError("--llm openai needs QA_LLM_BASE_URL and QA_LLM_MODEL")
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        raise ModelUnavailableError(
            "the openai backend needs: pip install langchain-openai"
        ) from None

    class ServerChat(ChatOpenAI):
        """Every call's failures become one line (``BackendError``) here, in the backend,
        so that no caller (answers, the judge, warm-up, eval) can forget to translate them."""

        def _generate(self, *args: Any, **kw: Any) -> ChatResult:
            with server_errors(settings.llm_base_url, settings.llm_model):
                return super()._generate(*args, **kw)

        def _stream(self, *args: Any, **kw: Any) -> Iterator[ChatGenerationChunk]:
            with server_errors(settings.llm_base_url, settings.llm_model):
                yield from super()._stream(*args, **kw)

    return ServerChat(
        model=settings.llm_model,
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key or "not-needed",  # local servers accept any key
        temperature=0.0,
        max_tokens=settings.max_tokens,
        timeout=settings.llm_timeout,
        max_retries=2,  # transient errors: connection resets, 429, 5xx
        streaming=True,
        # How sure the model was of each token of its draft is one of the calibrated
        # decision's signals, as in process; a server that gives none is read as average.
        # (llama-cpp-python's server gives them only when top_logprobs is asked for too.)
        logprobs=True,
        top_logprobs=1,
    )


@contextmanager
def server_errors(base_url: str, model: str) -> Iterator[None]:
    """An OpenAI-compatible server's failures as one clear line."""
    import openai

    where = f"the LLM server at {base_url}"
    try:
        yield
    except (openai.APIConnectionError, openai.APITimeoutError):
        raise BackendError(f"cannot reach {where} (is it running?)") from None
    except openai.NotFoundError:
        raise BackendError(f"{where} has no model {model!r}") from None
    except (openai.AuthenticationError, openai.PermissionDeniedError):
        raise BackendError(f"{where} refused the API key (QA_LLM_API_KEY)") from None
    except openai.APIStatusError as e:
        said = e.body.get("message") if isinstance(e.body, dict) else None
        raise BackendError(f"{where} answered {e.status_code}: {said or e.message}") from None
