"""The API's edges, for ``/api/*`` and ``/v1/*``: every error in one JSON shape,
``{"error": {"message", "code"}}`` (the OpenAI shape; Starlette's own errors too: no such
path, a method not served, a body that does not parse), a body refused (413) once past its
limit as it arrives, declared length or not, and a path no route serves answered here, not
by the page mounted at /."""

from __future__ import annotations

import logging

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse

from qa.errors import QAError

log = logging.getLogger(__name__)
MAX_BODY = 256 * 1024  # bytes: a question, its history, a chat's messages

API = ("/api/", "/v1/")  # the paths whose errors, and bodies, are the API's


def as_json_errors(app, upload_bytes: int) -> None:
    """HTTP errors as ``{"error": {"message", "code"}}`` (the OpenAI shape), Starlette's own
    (no route, a body that does not parse) included, a bug as a 500 of one line (the log has
    the traceback), and an API body refused past its limit as it arrives (``Capped``):
    ``upload_bytes`` for ``POST /api/documents``, ``MAX_BODY`` for the rest."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    app.add_middleware(Capped, upload_bytes=upload_bytes)

    @app.exception_handler(StarletteHTTPException)  # FastAPI's HTTPException is one too
    async def http_error(_request: Request, e: StarletteHTTPException) -> JSONResponse:
        return error_reply(e.status_code, str(e.detail), e.headers)

    @app.exception_handler(QAError)
    async def refused(_request: Request, e: QAError) -> JSONResponse:
        reply = error_reply(e.http_status, str(e))
        if retry := getattr(e, "retry_after", None):
            reply.headers["Retry-After"] = str(retry)
        return reply

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, e: RequestValidationError) -> JSONResponse:
        first = e.errors()[0] if e.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return error_reply(400, f"bad request: {where}: {first.get('msg', 'invalid')}".strip())

    @app.exception_handler(Exception)
    async def bug(_request: Request, e: Exception) -> JSONResponse:
        log.error("API request failed", exc_info=e)
        return error_reply(500, "internal error (see the server log)")


def error_reply(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    body = {"error": {"message": message, "code": status}}
    return JSONResponse(body, status_code=status, headers=headers)


def no_other_routes(app) -> None:
    """An API path no route serves is a 404 (a 405 where a route serves it with another
    method) in the API's shape, here: added after the API's routes and before the page is
    mounted at /, which would otherwise answer it in its own."""
    from starlette.routing import Match

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    served = list(app.router.routes)  # the API's, without these two

    def serves(scope: dict, method: str) -> bool:
        return any(r.matches({**scope, "method": method})[0] is Match.FULL for r in served)

    async def unrouted(request: Request) -> None:
        allowed = [m for m in methods if serves(request.scope, m)]
        if allowed:
            headers = {"Allow": ", ".join(allowed)}
            said = f"{request.method} {request.url.path}: not allowed (use {headers['Allow']})"
            raise HTTPException(405, said, headers)
        raise HTTPException(404, f"no such path: {request.url.path}")

    for prefix in API:
        app.add_api_route(
            prefix + "{rest:path}", unrouted, methods=methods, include_in_schema=False
        )


class Capped:
    """ASGI middleware: an API request's body counted as it arrives and refused (413) once
    past its limit, whether or not it declared its length (a chunked one does not)."""

    def __init__(self, app, upload_bytes: int) -> None:
        self.app, self.upload_bytes = app, upload_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API):
            return await self.app(scope, receive, send)
        upload = (scope["method"], scope["path"].rstrip("/")) == ("POST", "/api/documents")
        limit = self.upload_bytes if upload else MAX_BODY
        too_large = HTTPException(413, f"the request body is larger than {limit} bytes")
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:  # refused before it is read
            return await error_reply(413, str(too_large.detail))(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:  # FastAPI answers an HTTPException raised here with its status
                raise too_large
            return message

        await self.app(scope, counted, send)
