"""Kept conversations end to end on a real `qa serve` with users (real Chroma, MiniLM, httpx,
headless Chromium) and the scripted OpenAI-compatible model (tests/fake_llm.py; its reply is
the first sentence of passage [1], cited): continued through the API, listed, exported,
renamed and deleted by their owner only; on the page, a conversation survives a restart and
reopens with its sources, and the collection chooser asks the collection chosen."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests import fake_llm
from tests.servers import article_copy, scripted_env, serve, stop
from tests.test_ui import CHROMIUM, FLAGS

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = "corpus/newsweek-iran-border-defense.txt"
FERRY = "The ferry to Lindholm leaves from quay 4 at seven in the morning."
ASKED = "Who is the spokesperson of Iran's Foreign Ministry?"


class Server:
    """`qa serve` over its own folder, which can be restarted on the same files."""

    def __init__(self, base: Path, env: dict[str, str]) -> None:
        self.base, self.env = base, env
        self.proc, self.url = serve(base, env, base / "server.log")

    def restart(self) -> None:
        stop(self.proc)
        self.proc, self.url = serve(self.base, self.env, self.base / "server-2.log")


@pytest.fixture(scope="module")
def server(tmp_path_factory, article_index):
    from qa.interfaces.users import Role, Users

    base = article_copy(article_index, tmp_path_factory.mktemp("conversations"))
    users = Users(base / "users.json")
    tokens = {}
    for name in ("rita", "ed"):
        users.add(name, Role.READER, f"{name}-password")
        tokens[name] = users.issue_token(name)
    llm, llm_url = fake_llm.start(0.05, echoing=True)
    # The login cookie outlives a restart: the session secret is the same.
    env = scripted_env(base, llm_url, QA_SESSION_SECRET="conversations-test-secret")
    # A second collection in the same index, from its own folder.
    (base / "ferries").mkdir()
    (base / "ferries" / "ferry-notes.txt").write_text(FERRY + "\n")
    subprocess.run(
        [sys.executable, "-m", "qa", "ingest", "ferries", "--collection", "ferries"],
        cwd=base,
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
    )
    running = Server(base, env)
    running.tokens = tokens
    yield running
    stop(running.proc)
    llm.shutdown()


def api(server: Server, user: str, method: str, path: str, **kw) -> httpx.Response:
    headers = {"Authorization": f"Bearer {server.tokens[user]}"}
    return httpx.request(method, server.url + path, headers=headers, timeout=120, **kw)


def test_the_api_continues_lists_exports_renames_and_deletes_a_conversation(server):
    first = api(server, "rita", "POST", "/api/ask", json={"question": ASKED})
    assert first.status_code == 200, first.text
    out = first.json()
    # The `qa ask --json` object, with the conversation it began beside (keys only added).
    assert {"question", "answer", "declined", "citations", "grounding"} <= set(out)
    talk = out["conversation"]
    assert talk and out["citations"][0]["source"] == ARTICLE
    body = {"question": "What did he announce?", "conversation": talk}
    second = api(server, "rita", "POST", "/api/ask", json=body)
    assert second.status_code == 200 and second.json()["conversation"] == talk
    listed = api(server, "rita", "GET", "/api/conversations").json()["conversations"]
    assert listed[0]["id"] == talk and listed[0]["title"] == ASKED
    assert listed[0]["collection"] == "docqa"
    kept = api(server, "rita", "GET", f"/api/conversations/{talk}").json()
    assert [t["question"] for t in kept["turns"]] == [ASKED, "What did he announce?"]
    cited = kept["turns"][0]["answer"]["citations"][0]
    assert cited == out["citations"][0]
    exported = api(server, "rita", "GET", f"/api/conversations/{talk}/export")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith(
        "text/markdown"
    )
    text = exported.text
    assert text.startswith(f"# {ASKED}\n") and f"## {ASKED}" in text
    assert f"1. `{ARTICLE}:{cited['start']}-{cited['end']}`" in text
    assert " ".join(cited["quote"].split()) in text
    # Continued in its own collection only.
    other = {**body, "collection": "ferries"}
    assert api(server, "rita", "POST", "/api/ask", json=other).status_code == 400
    renamed = api(server, "rita", "PATCH", f"/api/conversations/{talk}", json={"title": "Who"})
    assert renamed.status_code == 200 and renamed.json()["title"] == "Who"
    blank = api(server, "rita", "PATCH", f"/api/conversations/{talk}", json={"title": " "})
    assert blank.status_code == 400
    # Someone else's conversation does not exist for ed: not read, continued, renamed, deleted.
    theirs = api(server, "ed", "GET", "/api/conversations").json()["conversations"]
    assert talk not in {c["id"] for c in theirs}
    for method, path, kw in (
        ("GET", f"/api/conversations/{talk}", {}),
        ("GET", f"/api/conversations/{talk}/export", {}),
        ("PATCH", f"/api/conversations/{talk}", {"json": {"title": "mine"}}),
        ("DELETE", f"/api/conversations/{talk}", {}),
        ("POST", "/api/ask", {"json": body}),
    ):
        refused = api(server, "ed", method, path, **kw)
        assert refused.status_code == 404, (method, path, refused.text)
        assert "no conversation" in refused.json()["error"]["message"]
    assert api(server, "rita", "DELETE", f"/api/conversations/{talk}").status_code == 200
    assert api(server, "rita", "GET", f"/api/conversations/{talk}").status_code == 404
    left = api(server, "rita", "GET", "/api/conversations").json()["conversations"]
    assert talk not in {c["id"] for c in left}


def wait_for(check, seconds: float = 120):
    # Generous: the bound only catches what never comes, on a busy shared machine.
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if got := check():
            return got
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s")


def test_a_conversation_survives_a_restart_and_reopens_with_its_sources(server, tmp_path):
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("QA_SCREENSHOTS") or tmp_path)
    state = "#qa-state"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server.url + "/")
        page.fill("#name", "rita")
        page.fill("#password", "rita-password")
        page.click("#sign-in")
        page.wait_for_selector("#qa-question textarea", timeout=60_000)
        page.fill("#qa-question textarea", ASKED)
        page.press("#qa-question textarea", "Enter")
        page.wait_for_selector(f"{state}:has-text('Answer 1 ready')", timeout=120_000)
        listing = page.locator("#qa-conversations")
        wait_for(lambda: ASKED in listing.inner_text())

        server.restart()  # the login cookie holds: the session secret is the same
        page.goto(server.url + "/")
        page.wait_for_selector("#qa-question textarea", timeout=60_000)
        wait_for(lambda: ASKED in listing.inner_text())
        assert not page.locator("#qa-chat .bot-row").count()  # a fresh page, until reopened
        listing.get_by_text(ASKED).first.click()
        page.wait_for_selector(f"{state}:has-text('Reopened')")
        assert "[1]" in page.locator("#qa-chat .bot-row").last.inner_text()
        sources = page.locator("#qa-sources")
        assert ARTICLE in sources.inner_text() and sources.locator("mark").count()
        page.locator("#qa-chat a[href='#qa-source-1-1']").last.click()
        page.wait_for_selector("#qa-source-1-1.qa-flash")
        page.screenshot(path=str(shots / "conversation-reopened.png"))
        # A follow-up goes on in the reopened conversation.
        page.fill("#qa-question textarea", "What did he announce?")
        page.press("#qa-question textarea", "Enter")
        page.wait_for_selector(f"{state}:has-text('Answer 2 ready')", timeout=120_000)
        mine = api(server, "rita", "GET", "/api/conversations").json()["conversations"]
        assert len(mine) == 1
        kept = api(server, "rita", "GET", f"/api/conversations/{mine[0]['id']}").json()
        assert len(kept["turns"]) == 2
        # Renamed and exported from the sidebar.
        page.get_by_text("This conversation").click()
        page.fill("#qa-title textarea, #qa-title input", "The spokesperson")
        page.click("#qa-rename")
        wait_for(lambda: "The spokesperson" in listing.inner_text())
        page.click("#qa-export")
        link = page.locator(f"#qa-exported a[download='conversation-{mine[0]['id']}.md']")
        link.wait_for()
        assert page.request.get(link.get_attribute("href")).text().startswith("# The spokesperson")
        page.screenshot(path=str(shots / "conversation-sidebar.png"))

        # Another collection chosen: a new conversation that asks it.
        page.locator("#qa-collection input").click()
        page.get_by_role("option", name="ferries").click()
        page.wait_for_selector(f"{state}:has-text('asking collection ferries')")
        assert not page.locator("#qa-chat .bot-row").count()
        page.fill("#qa-question textarea", "Where does the ferry to Lindholm leave from?")
        page.press("#qa-question textarea", "Enter")
        page.wait_for_selector(f"{state}:has-text('Answer 1 ready')", timeout=120_000)
        assert "ferries/ferry-notes.txt" in page.locator("#qa-sources").inner_text()
        wait_for(lambda: listing.locator("label").count() == 2)
        page.screenshot(path=str(shots / "conversation-collections.png"))
        # The Documents panel lists the chosen collection's documents.
        page.get_by_text("Documents", exact=True).click()
        wait_for(lambda: "ferry-notes.txt" in page.locator("#qa-index").inner_text())
        assert "newsweek" not in page.locator("#qa-index").inner_text()
        # Deleting the conversation asks first (its accordion is open since the rename).
        page.click("#qa-delete")
        page.wait_for_selector(f"{state}:has-text('Click Delete again')")
        assert listing.locator("label").count() == 2
        page.click("#qa-delete")
        page.wait_for_selector(f"{state}:has-text('Deleted.')")
        wait_for(lambda: listing.locator("label").count() == 1)
        browser.close()
    mine = api(server, "rita", "GET", "/api/conversations").json()["conversations"]
    assert [c["collection"] for c in mine] == ["docqa"]


def test_the_sidebar_reopens_renames_exports_and_deletes(tmp_path):
    """The page's handlers without a browser (fast), on a real conversations file."""
    from types import SimpleNamespace

    import gradio as gr

    from qa.answering.answer import Answer, Citation
    from qa.interfaces.audit import Audit
    from qa.interfaces.auth import Door
    from qa.interfaces.conversations import Conversations
    from qa.interfaces.sidebar import Current, Sidebar
    from qa.interfaces.users import Users

    kept = Conversations.beside(tmp_path / "index")
    listed = SimpleNamespace(names=lambda _user=None: ["docqa", "ferries"])
    bar, request = Sidebar(kept, Door(Users(None), Audit(None)), listed), gr.Request()
    cited = Citation(1, "notes/a.txt", 4, 12, "quay 4 a", 0, "The quay 4 at seven.", "Ferries", 2)
    current = Current("ferries")
    for question in ("Where from?", "When?"):
        bar.keep(current, "anyone", Answer(question, "From quay 4 [1].", False, [cited], {}))
    talk = current.conversation
    assert bar.listing(current, request)["choices"] == [("Where from?", talk)]
    chat, sources, history, panels, answers, line, chosen, title, state = bar.reopen(
        talk, Current("docqa"), request
    )
    assert [m["role"] for m in chat] == ["user", "assistant"] * 2 and line == chat
    assert "#qa-source-2-1" in chat[-1]["content"] and "notes/a.txt:4-12" in sources
    assert len(panels) == 2 and set(answers) == {1, 3} and len(history) == 2
    assert (chosen, title, state) == ("ferries", "Where from?", "Reopened: Where from? (2 answers)")
    bar.rename("Ferry times", current, request)
    assert bar.listing(current, request)["choices"] == [("Ferry times", talk)]
    exported, _ = bar.export(current, request)
    text = Path(exported["value"]).read_text()
    assert text.startswith("# Ferry times\n") and "## When?" in text
    assert "1. `notes/a.txt:4-12` (Ferries, p. 2): “quay 4 a”" in text
    # Deleting asks first: the first click only arms the button, the second deletes.
    *_, said, armed, label = bar.delete(None, current, request)
    assert armed == talk and label == "Click again to delete" and "Ferry times" in said
    assert kept.list("anyone") != []
    *_, said, armed, label = bar.delete(armed, current, request)
    assert (said, armed, label) == ("Deleted.", None, "Delete")
    assert current.conversation is None and kept.list("anyone") == []
    assert bar.choices(current, request)["choices"] == ["docqa", "ferries"]
