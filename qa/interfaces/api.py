"""The HTTP API, served beside the chat page by ``qa serve`` (one process, one model).

- ``POST /api/ask`` ``{"question", "history"?, "collection"?, "conversation"?}``: the
  ``qa ask --json`` object, from the named collection (default: the server's), with
  ``conversation``: the id of the kept conversation it continues (its history, its
  collection), or of the new one it started (``qa.interfaces.conversations_api``);
- ``GET /api/status``: what ``qa status`` shows, and the queue on the model;
- ``GET /v1/models`` and ``POST /v1/chat/completions`` (streamed or not): an
  OpenAI-compatible model named ``docqa`` (``docqa/NAME``: collection NAME; any name
  ``/v1/models`` does not list is a 404), so any OpenAI client can ask the documents. The
  last user message is the question, earlier ones the history; the reply's content is the
  checked answer with its ``[n]`` markers, and the citations travel in the response's extra
  ``citations`` field (in the last chunk when streamed).

Errors are JSON with a status code (400 bad request, 401 not signed in, 403 not allowed, 404
no such model or collection, 413 body too large, 429 busy, 503 model or index unavailable),
never a stack trace. Who may call is decided in front of these routes, by
``qa.interfaces.auth``, which also counts and logs each question once a route has found the
request sound and the question has its turn. Answers take turns on the model (``Turns``).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from qa.answering.answer import Answer
from qa.answering.chain import MAX_QUESTION_CHARS, Answerer
from qa.errors import UsageError
from qa.interfaces import conversations_api
from qa.interfaces.collections import MODEL, Collections, who
from qa.interfaces.conversations import Conversations


class Turns:
    """One answer at a time on the one model, for the API and the chat page alike; how many
    wait, and how long the last one waited, for ``/api/status``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = threading.Lock()
        self.waiting = 0
        self.answering = False
        self.last_wait_s = 0.0

    @contextmanager
    def turn(self) -> Iterator[None]:
        began = time.perf_counter()
        with self._count:
            self.waiting += 1
        with self._lock:
            with self._count:
                self.waiting -= 1
                self.answering = True
            self.last_wait_s = round(time.perf_counter() - began, 3)
            try:
                yield
            finally:
                self.answering = False


class AskRequest(BaseModel):
    question: str = Field(max_length=MAX_QUESTION_CHARS)
    history: list[str] = Field(default_factory=list, max_length=50)
    collection: str = Field(default="", max_length=200)  # "": the server's default
    conversation: str = Field(default="", max_length=64)  # "": start a new one


class Message(BaseModel):
    role: str
    content: str | list[dict[str, Any]] | None = None

    @property
    def text(self) -> str:
        """The message's text (content may be a list of typed parts)."""
        if isinstance(self.content, list):
            return "".join(p.get("text", "") for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model: str = MODEL
    messages: list[Message] = Field(min_length=1, max_length=200)
    stream: bool = False


class Status(BaseModel):
    index: str
    collection: str
    embedding_model: str
    files: dict[str, int]  # source -> chunks
    chunks: int
    incomplete: list[str]
    queue: dict[str, Any]
    sync: dict[str, Any] | None = None  # the watched folder's sync (qa serve --watch)
    # Every collection the caller may ask: its folder's sync (None: not watched).
    syncs: dict[str, dict[str, Any] | None] = Field(default_factory=dict)


def router(
    answerer: Answerer, turns: Turns, syncs=None, collections=None, kept=None, on_question=None
) -> APIRouter:
    """The API's routes over ``answerer`` (its failures: ``QAError``, shown by
    ``qa.interfaces.api_errors`` with the error's own status); ``syncs``: each watched folder's
    ``SyncState`` by collection name (qa serve --watch);
    ``collections``: the others the server answers from (``qa.interfaces.collections``);
    ``kept``: the conversations (default: beside the index); ``on_question(request,
    question)``: called with each question about to be answered, the rest of its request
    found sound (the door's rate and audit line)."""
    api = APIRouter()
    collections = collections or Collections(answerer)
    kept = kept or Conversations.beside(answerer.settings.index)
    syncs = syncs or {}
    api.include_router(conversations_api.router(kept))

    def answer(request: Request, question: str, history: list[str], asker: Answerer) -> Answer:
        with turns.turn():  # a question refused as busy (429) is not counted nor logged
            if on_question is not None:
                on_question(request, question)
            return asker.ask(question, history=history)

    @api.post("/api/ask")
    def ask(body: AskRequest, request: Request) -> dict[str, Any]:
        owner = conversations_api.owner(request)
        if body.conversation:  # its own collection, its own history
            going = kept.get(body.conversation, owner)
            if body.collection and body.collection != going.collection:
                raise UsageError(
                    f"conversation {going.id!r} asks collection {going.collection!r}, "
                    f"not {body.collection!r}"
                )
            asker = collections.get(going.collection, who(request))
            result = answer(request, body.question, [*going.history, *body.history], asker)
        else:
            asker = collections.get(body.collection, who(request))
            result = answer(request, body.question, body.history, asker)
            going = kept.start(owner, asker.settings.collection, result.question)
        out = result.to_json()
        kept.add(going.id, result.question, out)
        return {**out, "conversation": going.id}

    @api.get("/api/status")
    def status(request: Request) -> Status:
        user = who(request)
        held = collections.get(None, user).store.summary()
        sync = syncs.get(held.collection)
        seen = collections.names(user)
        return Status(
            index=held.where,
            collection=held.collection,
            embedding_model=held.model,
            files=held.files,
            chunks=held.chunks,
            incomplete=held.incomplete,
            queue={
                "waiting": turns.waiting,
                "answering": turns.answering,
                "last_wait_s": turns.last_wait_s,
            },
            sync=sync.to_json() if sync else None,
            syncs={n: syncs[n].to_json() if n in syncs else None for n in seen},
        )

    @api.get("/v1/models")
    def models(request: Request) -> dict[str, Any]:
        ids = collections.model_names(who(request))
        entries = [{"id": i, "object": "model", "created": 0, "owned_by": "docqa"} for i in ids]
        return {"object": "list", "data": entries}

    @api.post("/v1/chat/completions", response_model=None)
    def chat(body: ChatRequest, request: Request) -> dict[str, Any] | StreamingResponse:
        asked = [m.text for m in body.messages if m.role == "user"]
        if not asked:
            raise HTTPException(400, "the messages hold no user message")
        asker = collections.by_model(body.model, who(request))
        result = answer(request, asked[-1], asked[:-1], asker)
        if not body.stream:
            return completion(result, body.model)
        # The answer is checked only once it is whole: the stream carries it in one piece.
        return StreamingResponse(chunks(result, body.model), media_type="text/event-stream")

    return api


def completion(a: Answer, model: str = MODEL) -> dict[str, Any]:
    """An OpenAI chat completion from ``model`` (the name asked, as OpenAI echoes it) carrying
    the checked answer, with ``citations`` beside."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": a.answer},
                "finish_reason": "stop",
            }
        ],
        "citations": a.to_json()["citations"],
        "declined": a.declined,
    }


def chunks(a: Answer, model: str = MODEL) -> Iterator[str]:
    """The answer as server-sent events of chat completion chunks, then ``[DONE]``."""
    head = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": model}

    def event(delta: dict[str, Any], finish: Literal["stop"] | None = None, **extra: Any) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        body = {**head, "object": "chat.completion.chunk", "choices": [choice], **extra}
        return f"data: {json.dumps(body)}\n\n"

    yield event({"role": "assistant", "content": ""})
    yield event({"content": a.answer})
    yield event({}, "stop", citations=a.to_json()["citations"], declined=a.declined)
    yield "data: [DONE]\n\n"
