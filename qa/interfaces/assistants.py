"""The documents for assistants and IDEs, over the Model Context Protocol (the official ``mcp``
SDK): ``qa mcp`` serves it over stdio, ``qa serve`` over streamable HTTP at ``/mcp``, behind
the same door as the API (``qa.interfaces.auth``).

- tool ``ask``: the ``qa ask --json`` object (the checked answer and its citations);
- tool ``search``: the passages retrieval finds for a query, as citations (no LLM);
- tool ``list_documents``: the indexed documents, their chunks and resource URIs;
- resource ``docqa://documents/{path}``: an indexed document's text, the text citations'
  offsets point into (``docqa://collections/{name}/documents/{path}``: another
  collection's).

Each tool takes an optional ``collection`` (default: the served one), resolved for the
caller by ``Collections.get``: over HTTP a user it is limited against gets a tool error.
Answers take a turn on the model like the page's and the API's (``Turns``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer, ResourceSecurity
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from pydantic import Field

from qa.answering.answer import cite
from qa.answering.chain import Answerer, check_question
from qa.errors import QAError
from qa.interfaces.api import Turns
from qa.interfaces.collections import Collections
from qa.interfaces.users import Action

# How many passages a search returns: out of range is the caller's error, not a quiet clamp.
Passages = Annotated[int, Field(ge=1, le=20)]

URI = "docqa://documents/"
OTHER = "docqa://collections/{}/documents/"  # another collection's documents


@contextmanager
def refusals(kind: type[Exception] = ToolError) -> Iterator[None]:
    """Our errors (a limited collection, a bad question) as the SDK's, whose text reaches
    the client (anything else is a crash, shown as a bare "Error executing tool")."""
    try:
        yield
    except QAError as e:
        raise kind(str(e)) from e


def document_text(source: str) -> str:
    """An indexed file's text as citations count it (the file itself, or the text its
    reader extracted)."""
    from qa.documents.loaders import FileLoader

    return FileLoader(Path(source), source).text()


def build(
    answerer: Answerer, turns: Turns, door=None, collections: Collections | None = None
) -> MCPServer:
    """The MCP server over ``answerer`` (the served collection) and ``collections`` (the
    others, by name). With ``door`` (over HTTP), every call is checked against the caller
    the door let in, rated and written to the audit log as the API's are."""
    collections = collections or Collections(answerer)
    mcp = MCPServer(
        "docqa",
        instructions="Answers from the indexed documents, citing the exact passages. "
        "Use `ask` for a checked answer, `search` for passages, `list_documents` for what "
        "is indexed; each document is a resource under " + URI,
    )

    def chosen(ctx: Context, collection: str | None) -> Answerer:
        """Collection ``collection``'s answerer; over HTTP, for the door's user, who must be
        allowed to ask it."""
        request = ctx.request_context.request if door is not None else None
        if request is None:  # stdio: the user who started the process
            return collections.get(collection)
        from qa.interfaces.auth import client

        user = door.allow(request.state.user, Action.ASK, client(request))
        return collections.get(collection, user)

    def asked(ctx: Context, question: str) -> None:
        """Over HTTP, the door's count and audit line for a question that has its turn."""
        if door is not None and (request := ctx.request_context.request) is not None:
            from qa.interfaces.auth import client

            door.asked(request.state.user, question, client(request), via="/mcp")

    def uri(asker: Answerer) -> str:
        name = asker.settings.collection
        return URI if asker is answerer else OTHER.format(name)

    @mcp.tool()
    def ask(
        question: str,
        ctx: Context,
        history: list[str] | None = None,
        collection: str | None = None,
    ) -> dict[str, Any]:
        """Answer a question from the documents (of ``collection``, default the served one):
        the answer, whether it was declined, and citations (source, start, end, quote: the
        source's text from start to end)."""
        with refusals():
            asker = chosen(ctx, collection)
            with turns.turn():  # as the API's: a question refused as busy is not counted
                asked(ctx, question)
                return asker.ask(question, history=history or []).to_json()

    @mcp.tool()
    def search(
        query: str, ctx: Context, k: Passages = 5, collection: str | None = None
    ) -> list[dict[str, Any]]:
        """The passages of the documents (of ``collection``, default the served one) closest
        to a query, as citations (no answer)."""
        from qa.retrieval.retrieve import select

        with refusals():
            asker = chosen(ctx, collection)
            query = check_question(query)
        retriever = asker.retriever
        hits = retriever.invoke(query)
        evidence = select(
            query,
            hits,
            retriever.lexical,
            retriever.idf,
            asker.embed,
            k,
            asker.settings.passage_chars,
        )
        return [asdict(cite(p.n, p)) for p in evidence.passages]

    @mcp.tool()
    def list_documents(ctx: Context, collection: str | None = None) -> list[dict[str, Any]]:
        """The indexed documents (of ``collection``, default the served one): source name,
        chunks, complete, and the resource URI."""
        with refusals():
            asker = chosen(ctx, collection)
        sources, where = asker.store.sources(), uri(asker)
        return [
            {"source": name, "chunks": s.chunks, "complete": s.complete, "uri": where + name}
            for name, s in sorted(sources.items())
        ]

    # Any indexed source may be named (an absolute path too); nothing else is served.
    whole = ResourceSecurity(exempt_params={"path"})

    @mcp.resource(URI + "{+path}", name="document", mime_type="text/plain", security=whole)
    def document(path: str, ctx: Context) -> str:
        """An indexed document's text (only indexed documents are served)."""
        return text_of(ctx, None, path)

    @mcp.resource(
        OTHER.format("{collection}") + "{+path}",
        name="collection document",
        mime_type="text/plain",
        security=whole,
    )
    def collection_document(collection: str, path: str, ctx: Context) -> str:
        """An indexed document's text in another collection."""
        return text_of(ctx, collection, path)

    def text_of(ctx: Context, collection: str | None, path: str) -> str:
        with refusals(ResourceError):
            asker = chosen(ctx, collection)
        if path not in asker.store.sources():
            raise ResourceError(f"no indexed document {path!r}")
        return document_text(path)

    return mcp


def http_app(mcp, open_to_all: bool):
    """The streamable HTTP transport as an ASGI app for the route ``/mcp``, and its session
    manager (to run in the server's lifespan). Stateless and answering in JSON: each call
    stands alone, as the API's do. With the door locked, DNS rebinding is the door's
    concern (a token or the same-site cookie is needed); open, only loopback hosts may call."""
    from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
    from mcp.server.transport_security import TransportSecuritySettings

    security = TransportSecuritySettings(enable_dns_rebinding_protection=open_to_all)
    if open_to_all:
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
            allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        )
    mcp.streamable_http_app(stateless_http=True, json_response=True, transport_security=security)
    return StreamableHTTPASGIApp(mcp.session_manager), mcp.session_manager


def serve_stdio(settings) -> None:
    """``qa mcp``: the server over stdin and stdout, the models loaded first (a model that
    loads mutes the process's output, which is the protocol's channel)."""
    answerer = Answerer(settings)
    answerer.llm  # noqa: B018 (waits for the model to load)
    build(answerer, Turns()).run("stdio")  # the index's other collections by name too
