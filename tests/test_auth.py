"""One door for all of `qa serve`: a real server with a key and users on 127.0.0.1, driven by
real clients (httpx, gradio_client, headless Chromium). The model behind it is a scripted
OpenAI-compatible server (tests/fake_llm.py): these tests are about the door, the roles and
the queue, and a fixed delay per answer makes the queue fill the same way every run."""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests import fake_llm
from tests.servers import ROOT, article_copy, scripted_env, serve, stop

KEY = "door-test-key"
CAP = 3  # requests that may wait for the model; small, so a few clients fill it
DELAY = 0.5  # seconds the scripted model takes per call
OPEN = {"/login", "/logout", "/health"}
JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def team(tmp_path_factory, article_index):
    """The server, its folder and a token per role (reader rita, editor ed, admin ada)."""
    from qa.interfaces.users import Role, Users

    base = article_copy(article_index, tmp_path_factory.mktemp("team"))
    second_collection(base)
    users = Users(base / "users.json")
    tokens = {}
    for name, role in (("rita", Role.READER), ("ed", Role.EDITOR), ("ada", Role.ADMIN)):
        users.add(name, role, f"{name}-password")
        tokens[name] = users.issue_token(name)
    llm, llm_url = fake_llm.start(DELAY)
    env = scripted_env(base, llm_url, QA_API_KEY=KEY, QA_QUEUE_CAP=str(CAP))
    proc, url = serve(base, env, base / "server.log")
    yield {"url": url, "base": base, "tokens": {**tokens, "key": KEY}, "env": env}
    stop(proc)
    llm.shutdown()


FERRY = "The ferry to Lindholm leaves from quay 4 at seven in the morning."


def second_collection(base) -> None:
    """Collection ferries beside the article's, from its own folder (ingested in process:
    the embedding model is already loaded here)."""
    from qa.config import load_settings
    from qa.index.ingest import ingest
    from qa.interfaces.collections import remember

    (base / "ferries").mkdir()
    (base / "ferries" / "ferry-notes.txt").write_text(FERRY + "\n")
    settings = load_settings({"index": base / "index", "collection": "ferries"}, environ={})
    cwd = os.getcwd()
    os.chdir(base)  # sources are named relative to where qa runs
    try:
        ingest([base / "ferries"], settings)
        remember(settings, base / "ferries")
    finally:
        os.chdir(cwd)


def bearer(token: str) -> dict[str, str]:
    return {**JSON, "Authorization": f"Bearer {token}"}


def corpus(team) -> list[str]:
    return sorted(p.name for p in (team["base"] / "corpus").iterdir())


def routes(team) -> list[tuple[str, str]]:
    """(method, path) of every route the server serves, read from the app itself (built in
    this process as `qa serve` builds it), sample values in its path parameters."""
    import re

    from starlette.routing import Mount

    from qa.config import load_settings
    from qa.interfaces.server import app_for

    env = {k: v for k, v in team["env"].items() if k.startswith("QA_")}
    app = app_for(load_settings(environ=env))
    found: list[tuple[str, str]] = []

    def walk(items, prefix: str) -> None:
        for r in items:
            if isinstance(r, Mount):
                walk(r.routes, prefix + r.path)
                continue
            if hasattr(r, "original_router"):  # FastAPI's included router, resolved lazily
                walk(r.original_router.routes, prefix + r.include_context.prefix)
                continue
            path = re.sub(r"\{[^}]+\}", "x", prefix + r.path) or "/"
            for method in sorted(getattr(r, "methods", None) or {"GET"}):
                if method != "HEAD":
                    found.append((method, path))

    walk(app.routes, "")
    return sorted(set(found))


def door_refused(client: httpx.Client, method: str, url: str, headers: dict) -> bool:
    """Whether the door refused the request (its 401), not the route behind it; streamed, so
    an event stream answers without waiting for its end."""
    with client.stream(method, url, headers=headers) as reply:
        if reply.status_code != 401:
            return False
        return "sign in needed" in reply.read().decode()


def test_every_route_refuses_without_credentials_and_opens_with_them(team):
    found = routes(team)
    paths = {p for _, p in found}
    served = {"/", "/config", "/gradio_api/info", "/gradio_api/upload", "/api/status", "/mcp"}
    assert served <= paths
    url, before = team["url"], corpus(team)
    with httpx.Client(timeout=10) as client:
        for method, path in found:
            if path in OPEN:
                continue
            # Without credentials, and with a wrong token: the door answers 401.
            assert door_refused(client, method, url + path, JSON), (method, path)
            assert door_refused(client, method, url + path, bearer("wrong")), (method, path)
            # With the key (an admin) the door lets it through; what the route then says
            # (a 404 for a sample path, a 422 for an empty body) is its own.
            assert not door_refused(client, method, url + path, bearer(KEY)), (method, path)
        for path in ("/", "/config", "/gradio_api/info", "/api/status", "/api/documents"):
            assert client.get(url + path, headers=bearer(KEY)).status_code == 200, path
        assert client.get(url + "/health").status_code == 200
        # Gradio's file route does not hand out the users file or the audit log, even to an admin.
        for kept in ("users.json", "audit.jsonl"):
            where = team["base"] / kept
            got = client.get(f"{url}/gradio_api/file={where}", headers=bearer(KEY))
            assert got.status_code in (403, 404), (kept, got.status_code)
        # A browser is sent to the login page, which is open.
        page = client.get(url + "/", headers={"Accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/"
        assert "Sign in" in client.get(url + "/login").text
    assert corpus(team) == before


def test_the_login_cookie_opens_everything_but_not_for_another_site(team):
    url = team["url"]
    with httpx.Client(base_url=url, timeout=30) as browser:
        wrong = browser.post("/login", data={"name": "ed", "password": "nope"})
        assert wrong.status_code == 401 and "qa_session" not in browser.cookies
        signed = browser.post("/login", data={"name": "ed", "password": "ed-password"})
        assert signed.status_code == 303 and "qa_session" in browser.cookies
        for path in ("/", "/config", "/gradio_api/info", "/api/status"):
            assert browser.get(path, headers=JSON).status_code == 200, path
        # The same request from another site's page, riding on the cookie, is refused.
        evil = {**JSON, "Origin": "http://evil.example"}
        refused = browser.post("/api/ask", json={"question": "Who?"}, headers=evil)
        assert refused.status_code == 403 and "another site" in refused.text
        same = {**JSON, "Origin": url}
        assert browser.post("/api/ask", json={"question": " "}, headers=same).status_code == 400
        browser.get("/logout")
        assert browser.get("/api/status", headers=JSON).status_code == 401
        # The key signs in too, as the admin "api-key" (no name, the key as the password).
        assert browser.post("/login", data={"password": KEY}).status_code == 303
        assert browser.delete("/api/documents/none.txt", headers=JSON).status_code == 404


def test_a_cookie_request_from_another_site_is_refused_without_an_origin_too(team):
    """Without an Origin, the browser's Sec-Fetch-Site or the Referer tells where a request
    riding on the login cookie comes from: another site's (or origin's) is refused and writes
    nothing; this site's own passes; a token, no ambient credential, is not asked."""
    url, before = team["url"], corpus(team)
    files = {"files": ("planted-notes.txt", b"Planted by another site.\n")}
    with httpx.Client(base_url=url, timeout=30) as browser:
        signed = browser.post("/login", data={"name": "ed", "password": "ed-password"})
        assert signed.status_code == 303
        for foreign in (
            {"Referer": "http://evil.example/x"},
            {"Referer": "http://127.0.0.1:1/x"},  # this host, another port: another origin
            {"Sec-Fetch-Site": "cross-site"},
            {"Sec-Fetch-Site": "same-site"},
            {"Origin": "null"},
            {"Origin": url, "Sec-Fetch-Site": "cross-site"},
        ):
            refused = browser.post("/api/documents", files=files, headers={**JSON, **foreign})
            assert refused.status_code == 403 and "another site" in refused.text, foreign
        assert corpus(team) == before
        own = {**JSON, "Referer": f"{url}/", "Sec-Fetch-Site": "same-origin"}
        assert browser.post("/api/ask", json={"question": " "}, headers=own).status_code == 400
        token = {
            **bearer(team["tokens"]["ed"]),
            "Referer": "http://evil.example/x",
            "Sec-Fetch-Site": "cross-site",
        }
        assert browser.post("/api/ask", json={"question": " "}, headers=token).status_code == 400


def audit(team) -> list[dict]:
    path = team["base"] / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_only_questions_asked_reach_the_audit_log(team):
    """A request refused before it is answered (400, 404) is no `ask` in the audit log, and
    not counted against the rate; a question answered is logged once."""
    url, token = team["url"], team["tokens"]["rita"]
    before = len(audit(team))
    chat = "/v1/chat/completions"
    for path, body, code in (
        ("/api/ask", {"question": "   "}, 400),
        ("/api/ask", {}, 400),
        ("/api/ask", b"{not json", 400),
        ("/api/ask", ["Who?"], 400),
        ("/api/ask", {"question": "Who?", "conversation": "nope"}, 404),
        ("/api/ask", {"question": "Who?", "collection": "nope"}, 404),
        (chat, {"messages": [{"role": "system", "content": "Be brief."}]}, 400),
        (chat, {"messages": [{"role": "user", "content": " \t"}]}, 400),
        (chat, {"model": "docqa/nope", "messages": [{"role": "user", "content": "Who?"}]}, 404),
    ):
        sent = {"content": body} if isinstance(body, bytes) else {"json": body}
        headers = {**bearer(token), "Content-Type": "application/json"}
        reply = httpx.post(url + path, headers=headers, timeout=30, **sent)
        assert reply.status_code == code, (path, body, reply.text)
        assert [e for e in audit(team)[before:] if e["event"] == "ask"] == [], (path, body)
    question = "Who is the spokesperson?"
    reply = httpx.post(
        f"{url}/api/ask", json={"question": question}, headers=bearer(token), timeout=120
    )
    assert reply.status_code == 200
    asks = [e for e in audit(team)[before:] if e["event"] == "ask"]
    assert [(e["user"], e["via"], e["question"]) for e in asks] == [("rita", "/api/ask", question)]


def test_the_openai_endpoint_answers_the_models_it_lists_and_no_other(team):
    """Each model /v1/models lists is answered; any other name is a 404 in the API's error
    shape, as an unknown collection is, never an answer from the default collection."""
    url = team["url"]

    def chat(model: str) -> httpx.Response:
        body = {"model": model, "messages": [{"role": "user", "content": "Who is it?"}]}
        return httpx.post(f"{url}/v1/chat/completions", json=body, headers=bearer(KEY), timeout=120)

    listed = {m["id"] for m in httpx.get(f"{url}/v1/models", headers=bearer(KEY)).json()["data"]}
    assert listed == {"docqa", "docqa/docqa", "docqa/ferries"}
    for model in sorted(listed):
        reply = chat(model)
        assert reply.status_code == 200 and reply.json()["model"] == model, model  # echoed
    for model in ("gpt-4", "docqa/nope", "docqa/", "DocQA"):
        reply = chat(model)
        assert reply.status_code == 404, (model, reply.text)
        error = reply.json()["error"]
        assert set(error) == {"message", "code"} and error["code"] == 404, error
    assert "docqa/ferries" in chat("gpt-4").json()["error"]["message"]  # names what is served


def test_gradio_client_without_credentials_writes_nothing(team, tmp_path):
    from gradio_client import Client, handle_file

    evil = tmp_path / "evil.txt"
    evil.write_text("Anyone may add this.\n")
    before = corpus(team)
    with pytest.raises(Exception):  # noqa: B017 (the client fails in its own way; the server's 401 is checked below)
        Client(team["url"], verbose=False).predict([handle_file(str(evil))], api_name="/upload")
    reply = httpx.post(f"{team['url']}/gradio_api/upload", files={"files": evil.open("rb")})
    assert reply.status_code == 401
    assert corpus(team) == before


def test_roles_end_to_end(team, tmp_path):
    """A reader asks but may not upload (403, nothing written); an editor uploads but may not
    delete; an admin deletes. Each through the API and, for uploads, through Gradio too."""
    from gradio_client import Client, handle_file

    url, tokens = team["url"], team["tokens"]
    doc = tmp_path / "pier-notes.txt"
    doc.write_text("The harbour master of the north pier is Ola Brandt.\n")
    before = corpus(team)

    asked = httpx.post(
        f"{url}/api/ask",
        json={"question": "Who is the spokesperson?"},
        headers=bearer(tokens["rita"]),
        timeout=120,
    )
    assert asked.status_code == 200 and asked.json()["answer"]
    for token in (tokens["rita"],):
        files = {"files": ("pier-notes.txt", doc.read_bytes())}
        refused = httpx.post(f"{url}/api/documents", files=files, headers=bearer(token))
        assert refused.status_code == 403 and "may not upload" in refused.json()["error"]["message"]
        gradio = httpx.post(f"{url}/gradio_api/upload", files=files, headers=bearer(token))
        assert gradio.status_code == 403
        reader = Client(url, verbose=False, headers={"Authorization": f"Bearer {token}"})
        with pytest.raises(Exception):  # noqa: B017 (gradio_client's own error for the 403)
            reader.predict([handle_file(str(doc))], api_name="/upload")
    assert corpus(team) == before

    editor = Client(url, verbose=False, headers={"Authorization": f"Bearer {tokens['ed']}"})
    said, *_ = editor.predict([handle_file(str(doc))], api_name="/upload")
    assert "files: 1 added" in said and corpus(team) == sorted([*before, "pier-notes.txt"])
    gone = httpx.delete(f"{url}/api/documents/pier-notes.txt", headers=bearer(tokens["ed"]))
    assert gone.status_code == 403 and "pier-notes.txt" in corpus(team)
    gone = httpx.delete(
        f"{url}/api/documents/pier-notes.txt", headers=bearer(tokens["ada"]), timeout=120
    )
    assert gone.status_code == 200 and corpus(team) == before

    log = (team["base"] / "audit.jsonl").read_text()
    assert '"event": "upload", "user": "ed"' in log and '"event": "delete", "user": "ada"' in log
    assert '"user": "rita"' in log and "Ola Brandt" not in log  # no document text


def test_a_collection_limited_to_some_users(team):
    """Once `qa collections allow` names users, only they and admins may ask the collection,
    see it listed or read its documents: on /api/ask, /v1, /api/documents and MCP (a 403)."""
    import subprocess

    url, tokens = team["url"], team["tokens"]

    def collections(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "qa", "collections", *args, "--index", "index"],
            cwd=team["base"],
            env=team["env"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def asks(who: str, collection: str) -> int:
        body = {"question": "Where does the ferry to Lindholm leave from?"}
        reply = httpx.post(
            f"{url}/api/ask",
            json={**body, "collection": collection},
            headers=bearer(tokens[who]),
            timeout=120,
        )
        return reply.status_code

    def models(who: str) -> set[str]:
        listed = httpx.get(f"{url}/v1/models", headers=bearer(tokens[who])).json()["data"]
        return {m["id"] for m in listed}

    assert asks("rita", "ferries") == 200  # open to everyone signed in, until limited
    collections("allow", "ferries", "ed")
    try:
        assert "ferries\t1 file\t1 chunk\tonly: ed" in collections()
        assert asks("rita", "ferries") == 403 and asks("rita", "") == 200
        assert asks("ed", "ferries") == 200 and asks("ada", "ferries") == 200
        assert "docqa/ferries" not in models("rita")
        assert "docqa/ferries" in models("ed") and "docqa/ferries" in models("key")
        chat = {"model": "docqa/ferries", "messages": [{"role": "user", "content": "Quay?"}]}
        reply = httpx.post(f"{url}/v1/chat/completions", json=chat, headers=bearer(tokens["rita"]))
        assert reply.status_code == 403 and "ferries" in reply.json()["error"]["message"]
        listing = f"{url}/api/documents?collection=ferries"
        assert httpx.get(listing, headers=bearer(tokens["rita"])).status_code == 403
        assert httpx.get(listing, headers=bearer(tokens["ed"])).json() == {"ferry-notes.txt": 66}
        # The default collection limited too: rita may ask neither. (MCP's tools resolve
        # their collection the same way: tests/test_mcp.py.)
        collections("allow", "docqa", "ed")
        assert asks("rita", "") == 403
    finally:
        collections("open", "docqa")
        collections("open", "ferries")
    assert asks("rita", "ferries") == 200 and "docqa/ferries" in models("rita")


def test_uploads_cannot_escape_or_pass_as_another_type(team):
    url, token = team["url"], team["tokens"]["ed"]
    before = corpus(team)
    for name, data, code in (
        ("notes.pdf", b"not a pdf at all", 400),
        ("tool.exe", b"MZ", 400),
        ("page.html", b"\x00\x01binary", 400),
        (".hidden.txt", b"", 400),
    ):
        reply = httpx.post(
            f"{url}/api/documents", files={"files": (name, data)}, headers=bearer(token)
        )
        assert reply.status_code == code, (name, reply.text)
    assert corpus(team) == before
    text = b"The lighthouse keeper is Ivo Sand.\n"
    sneaky = [("files", ("../../escape.txt", text)), ("files", (".profile.md", text))]
    reply = httpx.post(f"{url}/api/documents", files=sneaky, headers=bearer(token), timeout=120)
    assert reply.status_code == 200 and reply.json()["saved"] == ["escape.txt", "profile.md"]
    assert not (team["base"] / "escape.txt").exists()
    assert corpus(team) == sorted([*before, "escape.txt", "profile.md"])
    for name in ("escape.txt", "profile.md"):
        httpx.delete(f"{url}/api/documents/{name}", headers=bearer(KEY), timeout=120)
    assert corpus(team) == before


def test_the_browser_signs_in_and_asks(team):
    from playwright.sync_api import sync_playwright

    from tests.test_ui import CHROMIUM, FLAGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page()
        page.goto(team["url"] + "/")
        assert "/login" in page.url  # the page itself is not served before signing in
        page.fill("#name", "rita")
        page.fill("#password", "wrong")
        page.click("#sign-in")
        assert "Wrong name or password" in page.content()
        page.fill("#name", "rita")
        page.fill("#password", "rita-password")
        page.click("#sign-in")
        page.wait_for_selector("#qa-question textarea", timeout=60_000)
        page.wait_for_selector("#qa-state:has-text('Signed in as rita (reader)')")
        page.get_by_text("Documents", exact=True).click()  # a reader sees the files, no upload
        page.wait_for_selector("#qa-index")
        assert page.locator("#qa-upload").is_hidden()
        page.fill("#qa-question textarea", "Who is the spokesperson?")
        page.press("#qa-question textarea", "Enter")
        page.wait_for_selector("#qa-state:has-text('Answer 1 ready')", timeout=120_000)
        page.goto(team["url"] + "/logout")
        assert "/login" in page.url
        page.goto(team["url"] + "/config")  # signed out: Gradio's routes are closed again
        assert page.url.endswith("/login?next=/config")
        browser.close()
    assert '"via": "page"' in (team["base"] / "audit.jsonl").read_text()


def test_a_full_queue_answers_429_and_health_stays_responsive(team):
    """200 questions from 20 clients on a queue of 3: the extra ones are answered at once with
    429 "busy, N waiting", the rest are answered; /health answers throughout; none is lost."""
    url = team["url"]
    replies: list[int] = []
    health: list[float] = []

    def client(i: int) -> list[tuple[int, str]]:
        got = []
        with httpx.Client(timeout=300) as c:
            for _ in range(10):
                r = c.post(
                    f"{url}/api/ask", json={"question": f"Question {i}?"}, headers=bearer(KEY)
                )
                body = r.json()
                assert r.status_code != 200 or body["answer"]  # an answer, not an empty 200
                got.append((r.status_code, body.get("error", {}).get("message", "")))
        return got

    with ThreadPoolExecutor(20) as pool:
        futures = [pool.submit(client, i) for i in range(20)]
        with httpx.Client(timeout=10) as c:
            while not all(f.done() for f in futures):
                began = time.perf_counter()
                assert c.get(f"{url}/health").status_code == 200
                health.append(time.perf_counter() - began)
                time.sleep(0.05)
        for f in futures:
            replies += f.result()
    codes = [code for code, _ in replies]
    assert len(codes) == 200 and set(codes) <= {200, 429}  # every request answered one way
    assert codes.count(200) >= 1 and codes.count(429) >= 100
    busy = [m for code, m in replies if code == 429]
    assert all(m.startswith("busy, ") and " waiting" in m for m in busy)
    assert max(health) < 1.0, f"health took up to {max(health):.2f} s"
    print(
        f"\n200 asks: {codes.count(200)} answered, {codes.count(429)} busy; "
        f"health p-max {max(health) * 1000:.0f} ms over {len(health)} checks"
    )


def test_the_page_queue_is_capped_too(team):
    """With the model's queue full of API questions, the page's join is refused with 429."""
    url = team["url"]
    with ThreadPoolExecutor(CAP + 1) as pool:
        asks = [
            pool.submit(
                httpx.post,
                f"{url}/api/ask",
                json={"question": "Who?"},
                headers=bearer(KEY),
                timeout=300,
            )
            for _ in range(CAP + 1)
        ]
        deadline = time.monotonic() + 30
        while httpx.get(f"{url}/api/status", headers=bearer(KEY)).json()["queue"]["waiting"] < CAP:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        join = httpx.post(
            f"{url}/gradio_api/queue/join",
            json={"data": ["Who?"], "fn_index": 0, "session_hash": "s1"},
            headers=bearer(KEY),
        )
        assert join.status_code == 429 and join.json()["error"]["message"].startswith("busy, ")
        assert [a.result().status_code for a in asks] == [200] * (CAP + 1)


def test_insecure_binding_is_refused(tmp_path):
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(ROOT), "QA_USERS": str(tmp_path / "none.json")}
    env.pop("QA_API_KEY", None)
    out = subprocess.run(
        [sys.executable, "-m", "qa", "serve", "--host", "0.0.0.0", "--port", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 2 and "refusing to serve on 0.0.0.0" in out.stderr
    assert "--insecure" in out.stderr
