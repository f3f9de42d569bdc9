"""One door for everything ``qa serve`` serves: the chat page, Gradio's own routes and the
HTTP API.

With ``QA_API_KEY`` set or a user in ``QA_USERS``, every request passes the door's
middleware (``Door.install``): it knows the caller from ``Authorization: Bearer <token or
key>`` or from the signed login cookie (Starlette's ``SessionMiddleware``), and answers
anything else but ``/login`` and ``/health`` (``qa.interfaces.login``) with 401 (a browser
is sent to ``/login``). Roles are checked where the action happens (``Door.allow``), since
Gradio can run a handler through several routes; Gradio's upload route is refused to those
who may not upload before a byte is read, and its routes that start a handler answer 429
when the model's queue is full.

Locked once, the door stays locked while the server runs: with the last user removed (or
the users file unreadable) nobody is let in, never everybody (503, and the log says why).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import gradio as gr
from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from qa.answering.chain import check_question
from qa.errors import BusyError, ForbiddenError, NotSignedInError, UsageError
from qa.interfaces.audit import Audit
from qa.interfaces.limits import Queue, Rate
from qa.interfaces.users import ANYONE, KEY_USER, Action, Role, User, Users, token_id

log = logging.getLogger(__name__)

OPEN = frozenset({"/login", "/logout", "/health"})  # all that answers without credentials
# (their routes: qa.interfaces.login)
GRADIO_UPLOAD = "/gradio_api/upload"
# Where Gradio starts a handler: its queue, and the routes that call one by its API name.
GRADIO_RUN = ("/gradio_api/queue/join", "/gradio_api/call/", "/gradio_api/run/", "/gradio_api/api/")
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})  # methods that change nothing
STUCK = "nobody can sign in: the server's credentials are unusable (its log says why)"


@dataclass
class Door:
    """Who is asking, and what they may do."""

    users: Users
    audit: Audit
    queue: Queue | None = None  # its cap answers the page's queue joins
    api_key: str = ""
    secret: str = ""  # signs the login cookies; "": a new one each start
    asks_per_minute: int = 20
    asking: Rate = field(init=False)
    logins: Rate = field(init=False)
    _was_locked: bool = field(init=False, default=False)
    _said: str = field(init=False, default="")  # the trouble last logged (once, not per request)

    def __post_init__(self) -> None:
        self.secret = self.secret or secrets.token_urlsafe(32)
        self.asking = Rate(self.asks_per_minute, "questions")
        self.logins = Rate(10, "sign-in attempts")

    @property
    def locked(self) -> bool:
        """Credentials are configured, or were once while this server ran (it may listen
        beyond 127.0.0.1 because it was locked at its start): nothing is open but the login
        page and the health check. An unreadable users file locks it too."""
        if not self._was_locked:
            try:
                self._was_locked = bool(self.api_key) or bool(self.users.all())
            except UsageError:
                self._was_locked = True
        return self._was_locked

    def trouble(self) -> str:
        """Why nobody can be let in ("" if somebody can): the users file cannot be read, or
        the last credentials went away while the server ran. Logged once while it lasts,
        not a line (or a traceback) per request."""
        why = ""
        try:
            if self.locked and not self.api_key and not self.users.all():
                why = "no credentials left: add a user (qa users add) or set QA_API_KEY"
        except UsageError as e:
            why = f"{e}: nobody can sign in until it is fixed"
        if why and why != self._said:
            log.error("qa serve: %s", why)
        self._said = why
        return why

    def stamp(self, user: User, token: str = "") -> str | None:
        """What a login cookie carries besides the name, keyed so it gives nothing away: made
        of the password (or the key) and, signed in with API token ``token`` (its id), its
        hash; a new password or a revoked token ends the session (None: token revoked)."""
        secret = user.password or self.api_key
        if token:
            if (kept := user.tokens.get(token)) is None:
                return None
            secret = f"{secret}:{kept}"
        return hmac.new(self.secret.encode(), secret.encode(), hashlib.sha256).hexdigest()[:32]

    def named(self, name: str | None) -> User | None:
        if not self.locked:
            return ANYONE
        if name == KEY_USER and self.api_key:
            return User(KEY_USER, Role.ADMIN)
        return self.users.all().get(name or "")

    def by_token(self, token: str) -> User | None:
        """The user of an API token; ``QA_API_KEY`` is the admin ``api-key``."""
        if self.api_key and hmac.compare_digest(token.encode(), self.api_key.encode()):
            return User(KEY_USER, Role.ADMIN)
        return self.users.by_token(token)

    def sign_in(self, name: str, password: str) -> User | None:
        """A name and its password, or no name (or ``api-key``) and a token or the key."""
        if not name or name == KEY_USER:
            return self.by_token(password)
        return self.users.by_password(name, password)

    def session(self, name: str, password: str) -> dict[str, str] | None:
        """What the login cookie holds for a sign-in (None: refused): the name, its stamp
        and the id of the user's API token it was made with ("": a password or the key)."""
        user = self.sign_in(name, password)
        if user is None:
            return None
        with_token = (not name or name == KEY_USER) and user.name != KEY_USER
        token = token_id(password) if with_token else ""
        return {"user": user.name, "stamp": self.stamp(user, token) or "", "token": token}

    def password_ok(self, name: str, password: str) -> bool:
        """Gradio's ``auth`` for a share link, where only its own login page is served."""
        user = self.sign_in(name, password)
        return user is not None and user.name == name

    def identify(self, conn: HTTPConnection) -> User | None:
        """The caller, from a bearer token or the login cookie; None: not signed in."""
        if not self.locked:
            return ANYONE
        if (token := _bearer(conn)) is not None:
            return self.by_token(token)
        session = conn.scope.get("session") or {}
        user = self.named(session.get("user"))
        stamp = self.stamp(user, str(session.get("token", ""))) if user else None
        if user and stamp and hmac.compare_digest(str(session.get("stamp", "")), stamp):
            return user
        return None

    def allow(self, user: User | None, action: Action, where: str = "unknown") -> User:
        """``user`` if they may do ``action``; a refusal is written to the audit log."""
        if user is None:
            raise NotSignedInError("sign in first")
        if not user.can(action):
            self.audit.record("refused", user.name, where, action=action.value)
            raise ForbiddenError(user.name, user.role.value, action.value)
        return user

    def gradio_user(self, request: Request) -> str | None:
        """Gradio's ``auth_dependency``: the name handlers see in ``gr.Request.username``."""
        user = self.identify(request)
        return user.name if user else None

    def page_user(self, request, action: Action) -> User:
        """The user behind a chat page event (a ``gr.Request``), if they may do ``action``."""
        user = self.named(getattr(request, "username", None))
        return self.allow(user, action, client(request))

    def greeting(self, request: gr.Request):
        """The page's first state line (who is signed in), and its upload box for those who
        may upload."""
        user = self.named(getattr(request, "username", None))
        if user is None or user is ANYONE:
            return "Ready.", gr.update(visible=True)
        line = f"Ready. Signed in as {user.name} ({user.role.value}) · [sign out](/logout)"
        return line, gr.update(visible=user.can(Action.UPLOAD))

    def asked(self, user: User, question: str, where: str, via: str) -> None:
        """A question about to be answered: checked (an empty one is a ``UsageError``),
        counted against the user's rate (a server open to all has no users to count; its
        queue cap still holds), then logged. Callers check the rest of the request first,
        so the log holds only questions actually asked."""
        check_question(question)
        if user is not ANYONE:
            self.asking.hit(user.name)
        self.audit.record("ask", user.name, where, via=via, question=question)

    def api_may_ask(self, request: Request) -> None:
        """A dependency of the API's routes: the caller's role. The rate and the audit line
        wait for the route to have read a sound question (``api_asked``)."""
        self.allow(request.state.user, Action.ASK, client(request))

    def api_asked(self, request: Request, question: str) -> None:
        """The API's hook for a question about to be answered (see ``asked``)."""
        self.asked(request.state.user, question, client(request), via=request.url.path)

    def install(self, app, *, secure_cookie: bool, hours: float) -> None:
        """Put the door in front of ``app``: the guard, inside the signed-cookie sessions."""
        from starlette.middleware.sessions import SessionMiddleware

        app.add_middleware(_Guard, door=self)
        app.add_middleware(
            SessionMiddleware,
            secret_key=self.secret,
            session_cookie="qa_session",
            max_age=int(hours * 3600),
            same_site="lax",
            https_only=secure_cookie,
        )


def client(conn) -> str:
    """Where a request (or a page event's ``gr.Request``) comes from; behind a proxy on this
    machine, its X-Forwarded-For."""
    where = getattr(conn, "client", None)  # none when a page handler is called directly
    return where.host if where else "unknown"


class _Guard:
    """The ASGI middleware in front of the page, Gradio and the API (see the module's doc)."""

    def __init__(self, app: ASGIApp, door: Door) -> None:
        self.app, self.door = app, door

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        conn = HTTPConnection(scope)
        try:
            user = self.door.identify(conn)
        except UsageError:  # the users file cannot be read: nobody is let in (trouble says)
            user = None
        scope.setdefault("state", {})["user"] = user
        path = scope["path"]
        if scope["type"] == "websocket" and user is None:
            return await send({"type": "websocket.close", "code": 1008})
        reply = None
        if user is None and path not in OPEN and self.door.trouble():
            reply = _error(503, STUCK)
        elif user is None and path not in OPEN:
            reply = _refusal(conn)
        elif self.door.locked and _cross_site(conn):
            reply = _error(403, "refused: a request from another site with the login cookie")
        elif path == GRADIO_UPLOAD and user is not None and not user.can(Action.UPLOAD):
            reply = _error(403, f"{user.name} ({user.role.value}) may not upload documents")
        elif path.startswith(GRADIO_RUN) and scope.get("method") == "POST" and self.door.queue:
            try:
                self.door.queue.admit()
            except BusyError as e:
                reply = _error(429, str(e), {"Retry-After": str(e.retry_after)})
        if reply is not None:
            return await reply(scope, receive, send)
        await self.app(scope, receive, send)


def _bearer(conn: HTTPConnection) -> str | None:
    """The token of ``Authorization: Bearer <token>`` (None: the request has none)."""
    header = conn.headers.get("authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else None


def _cross_site(conn: HTTPConnection) -> bool:
    """A state-changing request that may ride on the cookie but comes from another origin
    (the cookie is SameSite=lax, which lets sibling subdomains and other ports through).
    Browsers say where a request comes from in Origin, in Sec-Fetch-Site, and in the Referer
    when they send no Origin; any of them naming another origin refuses it. A bearer call
    carries no ambient credential, so it is not asked."""
    if conn.scope.get("method") in SAFE or _bearer(conn) is not None:
        return False
    if conn.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        return True
    here = conn.headers.get("host", "").lower()
    if (origin := conn.headers.get("origin")) is not None:  # "null" too: an opaque origin
        return urlsplit(origin).netloc.lower() != here
    referer = conn.headers.get("referer")
    return referer is not None and urlsplit(referer).netloc.lower() != here


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"message": message, "code": status}}
    return JSONResponse(body, status_code=status, headers=headers)


def _refusal(conn: HTTPConnection):
    """A browser's page request goes to the login page; anything else gets a 401."""
    if conn.scope.get("method") == "GET" and "text/html" in conn.headers.get("accept", ""):
        return RedirectResponse(f"/login?next={conn.url.path}", status_code=303)
    message = "sign in needed: Authorization: Bearer <token>, or sign in at /login"
    return _error(401, message, {"WWW-Authenticate": "Bearer"})
