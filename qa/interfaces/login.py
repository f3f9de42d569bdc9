"""The routes open to all while ``qa serve`` is locked: the login page, logging out, and the
health check (``qa.interfaces.auth`` lets these, and only these, through)."""

from __future__ import annotations

import html

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from qa.errors import BusyError, UsageError
from qa.interfaces.auth import STUCK, Door, client


def router(door: Door) -> APIRouter:
    """``/login``, ``/logout`` and ``/health``: the routes open to all."""
    routes = APIRouter()

    @routes.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @routes.get("/login", response_class=HTMLResponse)
    def login_page(next: str = "/") -> HTMLResponse:
        return HTMLResponse(_page(_safe_next(next)))

    @routes.post("/login", response_model=None)
    def login(
        request: Request, name: str = Form(""), password: str = Form(""), next: str = Form("/")
    ) -> HTMLResponse | RedirectResponse:
        where = client(request)
        try:
            door.logins.hit(where)
        except BusyError as e:
            return HTMLResponse(_page(_safe_next(next), str(e)), status_code=429)
        name = name.strip()
        try:
            session = door.session(name, password)
        except UsageError:  # the users file cannot be read
            door.trouble()  # logs why, once
            return HTMLResponse(_page(_safe_next(next), STUCK), status_code=503)
        if session is None:
            door.audit.record("login-failed", name or "(token)", where)
            page = _page(_safe_next(next), "Wrong name or password.")
            return HTMLResponse(page, status_code=401)
        request.session.clear()
        request.session.update(session)
        door.audit.record("login", session["user"], where)
        return RedirectResponse(_safe_next(next), status_code=303)

    @routes.api_route("/logout", methods=["GET", "POST"])
    def logout(request: Request) -> RedirectResponse:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    return routes


def _safe_next(target: str) -> str:
    """Only a path on this server: never another site after signing in."""
    ok = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if ok else "/"


def _page(next_path: str, message: str = "") -> str:
    note = f"<p class='note'>{html.escape(message)}</p>" if message else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>docqa: sign in</title>
<style>body{{font-family:system-ui,sans-serif;max-width:22rem;margin:12vh auto;padding:0 1rem}}
label{{display:block;margin:.8rem 0 .2rem}}input{{width:100%;padding:.45rem;box-sizing:border-box}}
button{{margin-top:1rem;padding:.5rem 1.2rem}}.note{{color:#b91c1c}}small{{color:#555}}</style>
</head><body><h2>docqa</h2>{note}
<form method="post" action="/login">
<input type="hidden" name="next" value="{html.escape(next_path)}">
<label for="name">Name</label><input id="name" name="name" autocomplete="username">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<small>Leave the name empty to sign in with an API token or the server's key.</small><br>
<button type="submit" id="sign-in">Sign in</button></form></body></html>"""
