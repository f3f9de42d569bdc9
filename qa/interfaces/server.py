"""``qa serve``: the chat page at / and the HTTP API (``qa.interfaces.api``) in one server, over one
model; answers take turns."""

from __future__ import annotations

import ipaddress
import logging

import gradio as gr

from qa.answering.chain import Answerer
from qa.interfaces.api import Turns, as_json_errors, router
from qa.interfaces.web import CSS, HEAD, MAX_UPLOAD, build

log = logging.getLogger(__name__)


def serve(settings, host: str = "127.0.0.1", port: int = 7860, share: bool = False) -> None:
    """The chat page at / and the HTTP API (``qa.interfaces.api``) in one server; one answer at a
    time (the model has 2 cores), others queue."""

    import uvicorn
    from fastapi import FastAPI

    answerer, turns = Answerer(settings), Turns()
    page = build(answerer, settings.corpus, turns)
    page.queue(default_concurrency_limit=1, max_size=64)
    if share:  # a public link comes from Gradio's own launcher, which serves the page only
        log.warning("with --share only the chat page is served, not the HTTP API")
        page.launch(
            share=True,
            server_name=host,
            server_port=port,
            max_file_size=MAX_UPLOAD,
            head=HEAD,
            css=CSS,
            show_error=True,
        )
        return
    if warning := exposure(host, settings.api_key):
        log.warning(warning)
    app = FastAPI(title="docqa", docs_url="/api/docs", openapi_url="/api/openapi.json")
    as_json_errors(app)
    app.include_router(router(answerer, turns, settings.api_key))
    app = gr.mount_gradio_app(
        app, page, path="/", max_file_size=MAX_UPLOAD, head=HEAD, css=CSS, show_error=True
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


def exposure(host: str, api_key: str) -> str:
    """A warning when the API is open beyond this machine without a key ("" otherwise)."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if loopback or api_key:
        return ""
    return (
        f"serving on {host} without QA_API_KEY: anyone who can reach it can use the API "
        "(set QA_API_KEY, or bind 127.0.0.1)"
    )
