"""``qa serve``: the chat page at / and the HTTP API (``qa.interfaces.api``) in one server, over one
model; answers take turns. One door (``qa.interfaces.auth``) stands in front of all of it."""

from __future__ import annotations

import ipaddress
import logging

import gradio as gr

from qa.answering.chain import Answerer
from qa.errors import UsageError
from qa.interfaces import library
from qa.interfaces.api import as_json_errors, router
from qa.interfaces.audit import Audit
from qa.interfaces.auth import Door
from qa.interfaces.limits import Queue
from qa.interfaces.uploads import Caps
from qa.interfaces.users import Users
from qa.interfaces.web import CSS, HEAD, build

log = logging.getLogger(__name__)


def serve(
    settings,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    insecure: bool = False,
) -> None:
    """The chat page at / and the HTTP API (``qa.interfaces.api``) in one server; one answer at a
    time (the model has 2 cores), others queue up to ``QA_QUEUE_CAP``."""

    import uvicorn
    from fastapi import Depends, FastAPI

    queue = Queue(settings.queue_cap, settings.request_timeout)
    door = Door(
        Users(settings.users),
        Audit(settings.audit_log),
        queue,
        api_key=settings.api_key,
        secret=settings.session_secret,
        asks_per_minute=settings.asks_per_minute,
    )
    if warning := exposure(host, door.locked, share):
        if not insecure:
            raise UsageError(warning + ", or pass --insecure to serve it open anyway")
        log.warning(warning)
    answerer = Answerer(settings)
    page = build(answerer, settings.corpus, queue, door)
    page.queue(default_concurrency_limit=1, max_size=settings.queue_cap + 1)
    queue.others = lambda: len(page._queue)  # the page's questions wait in Gradio's queue
    max_file = f"{settings.max_upload_mb}mb"
    if share:  # a public link comes from Gradio's own launcher, which serves the page only
        log.warning("with --share only the chat page is served, not the HTTP API")
        page.launch(
            share=True,
            server_name=host,
            server_port=port,
            max_file_size=max_file,
            head=HEAD,
            css=CSS,
            show_error=True,
            auth=door.password_ok if door.locked else None,
        )
        return
    app = FastAPI(title="docqa", docs_url="/api/docs", openapi_url="/api/openapi.json")
    as_json_errors(app)
    app.include_router(door.routes())
    app.include_router(router(answerer, queue), dependencies=[Depends(door.api_question)])
    app.include_router(library.router(answerer, queue, door, Caps.of(settings)))
    app = gr.mount_gradio_app(
        app,
        page,
        path="/",
        max_file_size=max_file,
        head=HEAD,
        css=CSS,
        show_error=True,
        auth_dependency=door.gradio_user if door.locked else None,
    )
    door.install(app, secure_cookie=settings.secure_cookie, hours=settings.session_hours)
    uvicorn.run(app, host=host, port=port, log_level="warning")


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
