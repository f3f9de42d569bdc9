"""``qa serve``: the chat page at / and the HTTP API (``qa.interfaces.api``) in one server, over one
model, with MCP at /mcp (``qa.interfaces.assistants``); answers take turns. One door
(``qa.interfaces.auth``) stands in front of all of it."""

from __future__ import annotations

import ipaddress
import logging

import gradio as gr

from qa.answering.chain import Answerer
from qa.errors import UsageError
from qa.index.watch import Watcher
from qa.interfaces import assistants, library, login
from qa.interfaces.api import router
from qa.interfaces.api_errors import as_json_errors, no_other_routes
from qa.interfaces.audit import Audit
from qa.interfaces.auth import Door
from qa.interfaces.collections import Collections
from qa.interfaces.limits import Queue
from qa.interfaces.sources import CSS, HEAD
from qa.interfaces.uploads import Caps
from qa.interfaces.users import Users
from qa.interfaces.web import build

log = logging.getLogger(__name__)


def door_for(settings, queue: Queue | None = None) -> Door:
    """The door the settings describe: the key, the users file, the audit log, the rates."""
    return Door(
        Users(settings.users),
        Audit(settings.audit_log),
        queue,
        api_key=settings.api_key,
        secret=settings.session_secret,
        asks_per_minute=settings.asks_per_minute,
    )


def pieces(
    settings, watch: bool = False
) -> tuple[Answerer, Queue, Door, gr.Blocks, list[Watcher], Collections]:
    """The model, its queue, the door, the page, the folders' watchers (one a collection,
    the default's first) and the collections, wired together."""
    queue = Queue(settings.queue_cap, settings.request_timeout)
    door = door_for(settings, queue)
    answerer = Answerer(settings)
    collections = Collections(answerer)
    watchers = []
    if watch:  # syncs take a turn on the model, as uploads do
        watchers = collections.watchers(queue.turn, settings.watch_debounce, settings.watch_scan)
    synced = {w.settings.collection: w.state for w in watchers}
    page = build(answerer, settings.corpus, queue, door, synced, collections)
    page.queue(default_concurrency_limit=1, max_size=settings.queue_cap + 1)
    queue.others = lambda: len(page._queue)  # the page's questions wait in Gradio's queue
    return answerer, queue, door, page, watchers, collections


def app_for(settings, watch: bool = False):
    """The whole server as one ASGI app: the door in front of the login routes, the API,
    the documents API, MCP at /mcp and the Gradio page (tests read its routes from here)."""
    from contextlib import asynccontextmanager

    from fastapi import Depends, FastAPI

    answerer, queue, door, page, watchers, collections = pieces(settings, watch)
    served = assistants.build(answerer, queue, door, collections)
    mcp, sessions = assistants.http_app(served, not door.locked)

    @asynccontextmanager
    async def lifespan(_app):
        async with sessions.run():  # MCP's streamable HTTP sessions live as long as the server
            for watcher in watchers:
                watcher.start()
            try:
                yield
            finally:
                for watcher in watchers:
                    watcher.stop()

    app = FastAPI(
        title="docqa", docs_url="/api/docs", openapi_url="/api/openapi.json", lifespan=lifespan
    )
    caps = Caps.of(settings)
    as_json_errors(app, upload_bytes=caps.request_bytes)
    app.include_router(login.router(door))
    synced = {w.settings.collection: w.state for w in watchers}
    app.include_router(
        router(answerer, queue, synced, collections, on_question=door.api_asked),
        dependencies=[Depends(door.api_may_ask)],
    )
    app.include_router(library.router(answerer, queue, door, caps, collections))
    # Each MCP tool resolves its collection for the caller (qa.interfaces.assistants).
    app.add_route("/mcp", mcp, methods=["GET", "POST", "DELETE"])
    no_other_routes(app)  # last before the page's mount at /, which takes any other path
    app = gr.mount_gradio_app(
        app,
        page,
        path="/",
        max_file_size=f"{settings.max_upload_mb}mb",
        head=HEAD,
        css=CSS,
        show_error=True,
        auth_dependency=door.gradio_user if door.locked else None,
    )
    # Gradio checks that a file an event is sent (its FileData path) was uploaded to its
    # cache only once the Blocks "has launched", which launch() says and mounting never
    # does: without this, a client could name any file on the server and have the page
    # copy it into the corpus (or serve it back).
    page.has_launched = True
    door.install(app, secure_cookie=settings.secure_cookie, hours=settings.session_hours)
    return app


def serve(
    settings,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    insecure: bool = False,
    watch: bool = False,
) -> None:
    """The chat page at / and the HTTP API (``qa.interfaces.api``) in one server; one answer at a
    time (the model has 2 cores), others queue up to ``QA_QUEUE_CAP``."""
    import uvicorn

    locked = door_for(settings).locked
    if warning := exposure(host, locked, share):
        if not insecure:
            raise UsageError(warning + ", or pass --insecure to serve it open anyway")
        log.warning(warning)
    if share:  # a public link comes from Gradio's own launcher, which serves the page only
        log.warning("with --share only the chat page is served, not the HTTP API")
        _answerer, _queue, door, page, _watchers, _collections = pieces(settings)
        page.launch(
            share=True,
            server_name=host,
            server_port=port,
            max_file_size=f"{settings.max_upload_mb}mb",
            head=HEAD,
            css=CSS,
            show_error=True,
            auth=door.password_ok if locked else None,
        )
        return
    uvicorn.run(app_for(settings, watch), host=host, port=port, log_level="warning")


def exposure(host: str, locked: bool, share: bool = False) -> str:
    """Why serving would be open beyond this machine without credentials ("" if not)."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if locked or (loopback and not share):
        return ""
    where = "a public share link" if share else host
    return (
        f"refusing to serve on {where} without credentials: anyone who reaches it could ask, "
        "upload documents and save tests (set QA_API_KEY or add a user with qa users add, "
        "or bind 127.0.0.1)"
    )
