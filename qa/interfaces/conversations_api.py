"""Kept conversations over HTTP, each caller's own (``qa.interfaces.conversations``):

- ``GET /api/conversations``: the caller's conversations, the latest first;
- ``GET /api/conversations/{id}``: one with its turns (each answer as ``qa ask --json``);
- ``GET /api/conversations/{id}/export``: as Markdown, with the citations;
- ``PATCH /api/conversations/{id}`` ``{"title"}``: renamed;
- ``DELETE /api/conversations/{id}``: deleted.

``POST /api/ask`` with ``"conversation"`` continues one (``qa.interfaces.api``). Someone
else's conversation answers 404, as one that does not exist; one of a collection the caller
may no longer ask is not read (403): its quotes come from that collection. Who may call is
decided in front (``qa.interfaces.auth``: anyone who may ask).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from qa.errors import ForbiddenError, NotSignedInError
from qa.interfaces.collections import may_ask_in, who
from qa.interfaces.conversations import MAX_TITLE, Conversation, Conversations, markdown


class Rename(BaseModel):
    title: str = Field(min_length=1, max_length=MAX_TITLE)


def owner(request: Request) -> str:
    """Whose conversations the caller's are (``User.owner``: the user, not just the name;
    the door has set who calls)."""
    if (user := who(request)) is None:
        raise NotSignedInError("sign in first")
    return user.owner


def readable(store: Conversations, conversation: str, request: Request) -> Conversation:
    """The caller's conversation with its turns, if they may still ask its collection."""
    kept = store.get(conversation, owner(request))
    user = who(request)
    if not may_ask_in(store.path.parent, kept.collection, user):
        raise ForbiddenError(user.name, user.role.value, f"ask the collection {kept.collection!r}")
    return kept


def router(store: Conversations) -> APIRouter:
    api = APIRouter()

    @api.get("/api/conversations")
    def listed(request: Request) -> dict[str, Any]:
        return {"conversations": [c.to_json() for c in store.list(owner(request))]}

    @api.get("/api/conversations/{conversation}")
    def one(request: Request, conversation: str) -> dict[str, Any]:
        return readable(store, conversation, request).to_json(turns=True)

    @api.get("/api/conversations/{conversation}/export", response_class=PlainTextResponse)
    def export(request: Request, conversation: str) -> PlainTextResponse:
        kept = readable(store, conversation, request)
        return PlainTextResponse(
            markdown(kept),
            media_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="conversation-{kept.id}.md"'},
        )

    @api.patch("/api/conversations/{conversation}")
    def rename(request: Request, conversation: str, body: Rename) -> dict[str, Any]:
        return store.rename(conversation, owner(request), body.title).to_json()

    @api.delete("/api/conversations/{conversation}")
    def delete(request: Request, conversation: str) -> dict[str, str]:
        store.delete(conversation, owner(request))
        return {"deleted": conversation}

    return api
