"""Who the server knows, over time: real `qa serve` processes with users on 127.0.0.1 (one
bound to 0.0.0.0), driven by httpx, with the scripted OpenAI-compatible model
(tests/fake_llm.py). The users file changes while each server runs, as `qa users` changes
it: a lock never opens, a revoked token ends its sessions, a new user of an old name owns
nothing of the old one's, a limited collection is neither listed nor read, and a broken
users file is said once in the log while /health still answers."""

from __future__ import annotations

import httpx
import pytest

from tests import fake_llm
from tests.servers import article_copy, scripted_env, serve, stop

ASKED = "Who is the spokesperson of Iran's Foreign Ministry?"


@pytest.fixture(scope="module")
def llm():
    server, url = fake_llm.start(0.01, echoing=True)
    yield url
    server.shutdown()


@pytest.fixture(scope="module")
def team(tmp_path_factory, article_index, llm):
    """A server over the article with an admin (ada) and readers; tokens by name."""
    from qa.interfaces.users import Role, Users

    base = article_copy(article_index, tmp_path_factory.mktemp("identity"))
    users = Users(base / "users.json")
    tokens = {}
    for name, role in (("ada", Role.ADMIN), ("rita", Role.READER), ("zoe", Role.READER)):
        users.add(name, role, f"{name}-password")
        tokens[name] = users.issue_token(name)
    proc, url = serve(base, scripted_env(base, llm), base / "server.log")
    yield {"url": url, "base": base, "users": users, "tokens": tokens}
    stop(proc)


def call(url: str, token: str, method: str, path: str, **kw) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    return httpx.request(method, url + path, headers=headers, timeout=120, **kw)


def test_revoking_a_token_ends_the_sessions_signed_in_with_it(team):
    url, users = team["url"], team["users"]
    by_token, by_password = httpx.Client(base_url=url, timeout=120), httpx.Client(base_url=url)
    with by_token, by_password:
        signed = by_token.post("/login", data={"name": "", "password": team["tokens"]["zoe"]})
        assert signed.status_code == 303 and "qa_session" in by_token.cookies
        assert by_token.post("/api/ask", json={"question": ASKED}).status_code == 200
        signed = by_password.post("/login", data={"name": "zoe", "password": "zoe-password"})
        assert signed.status_code == 303
        users.revoke_tokens("zoe")
        assert call(url, team["tokens"]["zoe"], "GET", "/api/status").status_code == 401
        # The session the token opened ends with it (it answered 200 before the fix) ...
        assert by_token.post("/api/ask", json={"question": ASKED}).status_code == 401
        # ... and the one opened with her password does not.
        assert by_password.get("/api/conversations").status_code == 200
    team["tokens"]["zoe"] = users.issue_token("zoe")


def test_a_new_user_of_an_old_name_owns_none_of_the_old_conversations(team):
    from qa.interfaces.users import Role

    url, users = team["url"], team["users"]
    users.add("zed", Role.READER, "zed-password")
    old = users.issue_token("zed")
    talk = call(url, old, "POST", "/api/ask", json={"question": ASKED}).json()["conversation"]
    users.remove("zed")
    users.add("zed", Role.READER, "new")
    new = users.issue_token("zed")
    assert call(url, new, "GET", "/api/conversations").json() == {"conversations": []}
    assert call(url, new, "GET", f"/api/conversations/{talk}").status_code == 404
    # Changing a user's password keeps who they are, and so their conversations.
    mine = call(url, new, "POST", "/api/ask", json={"question": ASKED}).json()["conversation"]
    users.add("zed", Role.READER, "newer")
    listed = call(url, new, "GET", "/api/conversations").json()["conversations"]
    assert [c["id"] for c in listed] == [mine]


def test_a_collection_a_user_may_not_ask_is_neither_listed_nor_read(team):
    from types import SimpleNamespace

    import gradio as gr

    from qa.config import load_settings
    from qa.interfaces.audit import Audit
    from qa.interfaces.auth import Door
    from qa.interfaces.collections import Collections, limit
    from qa.interfaces.conversations import Conversations
    from qa.interfaces.sidebar import Current, Sidebar

    url, rita = team["url"], team["tokens"]["rita"]
    talk = call(url, rita, "POST", "/api/ask", json={"question": ASKED}).json()["conversation"]
    settings = load_settings({"index": team["base"] / "index"}, environ={})
    limit(settings, "docqa", ["ada"])  # qa collections allow docqa ada
    try:
        models = call(url, rita, "GET", "/v1/models").json()["data"]
        assert [m["id"] for m in models] == []  # "docqa" was listed before the fix
        listed = call(url, team["tokens"]["ada"], "GET", "/v1/models").json()["data"]
        assert "docqa" in [m["id"] for m in listed]
        # Her old conversation's quotes come from the collection: not read any more.
        assert call(url, rita, "GET", f"/api/conversations/{talk}").status_code == 403
        assert call(url, rita, "GET", f"/api/conversations/{talk}/export").status_code == 403
        # The page's chooser (its handler, as the page calls it) offers only what she may ask.
        door = Door(team["users"], Audit(None))
        kept = Conversations.beside(team["base"] / "index")
        bar = Sidebar(kept, door, Collections(SimpleNamespace(settings=settings)))
        offered = bar.choices(Current("docqa"), gr.Request(username="rita"))
        assert offered["choices"] == [] and offered["value"] is None
        assert bar.choices(Current("docqa"), gr.Request(username="ada"))["choices"] == ["docqa"]
        said = bar.reopen(talk, Current("docqa"), gr.Request(username="rita"))[-1]
        assert "may not ask the collection 'docqa'" in said
    finally:
        limit(settings, "docqa", None)
    assert call(url, rita, "GET", f"/api/conversations/{talk}").status_code == 200


@pytest.fixture(scope="module")
def lone(tmp_path_factory, article_index, llm):
    """A server on 0.0.0.0 whose only credentials are one admin in the users file."""
    from qa.interfaces.users import Role, Users

    base = article_copy(article_index, tmp_path_factory.mktemp("lone"))
    users = Users(base / "users.json")
    users.add("solo", Role.ADMIN, "solo-password")
    proc, url = serve(base, scripted_env(base, llm), base / "server.log", "--host", "0.0.0.0")
    yield {"url": url, "base": base, "users": users, "token": users.issue_token("solo")}
    stop(proc)


def test_a_broken_users_file_is_said_once_and_health_still_answers(lone):
    url, path = lone["url"], lone["base"] / "users.json"
    assert httpx.get(url + "/api/status", timeout=30).status_code == 401
    kept = path.read_text()
    path.write_text('{"users": {')  # written by hand while the server runs
    try:
        for _ in range(3):
            assert httpx.get(url + "/health", timeout=30).status_code == 200
            refused = call(url, lone["token"], "GET", "/api/status")
            assert refused.status_code == 503 and "log" in refused.json()["error"]["message"]
        signing = httpx.post(url + "/login", data={"name": "solo", "password": "solo-password"})
        assert signing.status_code == 503
    finally:
        path.write_text(kept)
    log = (lone["base"] / "server.log").read_text()
    assert log.count("not a docqa users file") == 1 and "Traceback" not in log
    assert call(url, lone["token"], "GET", "/api/status").status_code == 200


def test_removing_the_last_user_leaves_the_server_locked(lone):
    """The server started on 0.0.0.0 only because it had credentials: it must not open."""
    url = lone["url"]
    assert call(url, lone["token"], "GET", "/api/status").status_code == 200
    lone["users"].remove("solo")  # qa users remove solo, while the server runs
    for method, path in (("GET", "/api/documents"), ("GET", "/"), ("GET", "/api/status")):
        refused = httpx.request(method, url + path, timeout=30)
        assert refused.status_code == 503, (method, path, refused.status_code)
    deleted = httpx.delete(url + "/api/documents/newsweek-iran-border-defense.txt", timeout=30)
    assert deleted.status_code == 503
    assert (lone["base"] / "corpus" / "newsweek-iran-border-defense.txt").exists()
    assert httpx.get(url + "/health", timeout=30).status_code == 200
    log = (lone["base"] / "server.log").read_text()
    assert log.count("no credentials left: add a user") == 1
