"""The server for a team, end to end on one real `qa serve --watch` (real Chroma, MiniLM,
headless Chromium, httpx) with the scripted OpenAI-compatible model (tests/fake_llm.py),
which streams its reply a word at a time: these tests are about the page and the folder
around the model, not about what it says (its reply is the first sentence of passage [1],
cited, so an answer cites what retrieval found first)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests import fake_llm
from tests.servers import ROOT, article_copy, scripted_env, serve, stop
from tests.test_ui import CHROMIUM, FLAGS

FERRY = "The ferry to Lindholm leaves from quay 4 at seven in the morning."


@pytest.fixture(scope="module")
def server(tmp_path_factory, article_index):
    base = article_copy(article_index, tmp_path_factory.mktemp("team"))
    llm, llm_url = fake_llm.start(0.1, pace=0.1, echoing=True)
    env = scripted_env(base, llm_url, QA_WATCH_DEBOUNCE="0.5")
    # A second collection in the same index, from its own folder.
    (base / "ferries").mkdir()
    (base / "ferries" / "ferry-notes.txt").write_text(FERRY + "\n")
    ingest = [sys.executable, "-m", "qa", "ingest", "ferries", "--collection", "ferries"]
    subprocess.run(
        [*ingest, "--index", "index"],
        cwd=base,
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
    )
    proc, url = serve(base, env, base / "server.log", "--watch")
    yield {"url": url, "base": base}
    stop(proc)
    llm.shutdown()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server["url"] + "/")
        page.wait_for_selector("#qa-question textarea")
        yield page
        browser.close()


def wait_for(check, seconds: float = 60, every: float = 0.05):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if got := check():
            return got
        time.sleep(every)
    raise AssertionError(f"not within {seconds} s")


def test_the_page_never_loses_a_question(page):
    box = "#qa-question textarea"
    state = page.locator("#qa-state")
    first, second, third = "Who is the spokesperson?", "Which system was fired?", "Who commands?"
    page.fill(box, first)
    page.press(box, "Enter")
    wait_for(lambda: "Answering question 1" in state.inner_text())
    # Typed while the answer streams (a word every 0.4 s): every token used to reset the box.
    page.locator(box).press_sequentially(second, delay=60)
    grown = wait_for(lambda: page.locator("#qa-chat .bot-row").last.inner_text().strip())
    wait_for(lambda: "Answer 1 ready" in state.inner_text())
    assert grown and page.input_value(box) == second
    # Sent while another is answered: it waits in line, and the page says so.
    page.press(box, "Enter")
    wait_for(lambda: page.input_value(box) == "")  # sent: the box is emptied once
    page.fill(box, third)
    page.press(box, "Enter")
    waiting = page.locator("#qa-waiting")
    wait_for(lambda: third in waiting.inner_text())
    assert "Waiting in line (1)" in waiting.inner_text()
    assert "Answer 3" not in state.inner_text()
    wait_for(lambda: "Answer 3 ready" in state.inner_text())
    chat = page.locator("#qa-chat").inner_text()
    assert -1 < chat.find(first) < chat.find(second) < chat.find(third)
    assert page.locator("#qa-chat .bot-row").count() == 3
    assert not waiting.inner_text().strip() and page.input_value(box) == ""


def test_programs_still_ask_through_respond(server):
    from gradio_client import Client

    chat, *_ = Client(server["url"] + "/", verbose=False).predict("Who?", [], api_name="/respond")
    assert [m["role"] for m in chat] == ["user", "assistant"]


PIER = "The harbour master of the north pier is Ola Brandt."
NAME = "corpus/pier-notes.txt"


def test_a_watched_folder_syncs_while_answers_flow(server):
    import threading

    import httpx

    url = server["url"]
    codes: list[int] = []
    stopping = threading.Event()

    def keep_asking() -> None:  # answers asked all through the syncs
        with httpx.Client(timeout=60) as c:
            while not stopping.is_set():
                codes.append(
                    c.post(f"{url}/api/ask", json={"question": "Who is Khatibzadeh?"}).status_code
                )

    def cited(question: str) -> set[str]:
        reply = httpx.post(f"{url}/api/ask", json={"question": question}, timeout=60)
        assert reply.status_code == 200
        return {c["source"] for c in reply.json()["citations"]}

    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        (server["base"] / NAME).write_text(PIER + "\n")
        written = time.monotonic()
        # No test depends on the machine's speed: the time is reported (the aim is
        # 10 s, an answer's own seconds included), the bound only catches a sync that never comes.
        wait_for(lambda: NAME in cited("Who is the harbour master of the north pier?"), 120, 0.2)
        took = time.monotonic() - written
        print(f"\ncited by an answer {took:.1f} s after it was written")
        status = httpx.get(f"{url}/api/status").json()
        assert NAME in status["files"] and status["sync"]["syncs"] >= 1
        assert status["sync"]["mode"] == "events"
        # Every collection's folder sync, not only the served one's.
        assert set(status["syncs"]) == {"docqa", "ferries"}
        assert status["syncs"]["ferries"]["folder"].endswith("ferries")
        (server["base"] / NAME).unlink()
        wait_for(lambda: NAME not in httpx.get(f"{url}/api/status").json()["files"], 120, 0.2)
        assert NAME not in cited("Who is the harbour master of the north pier?")
    finally:
        stopping.set()
        asker.join()
    assert codes and set(codes) == {200}, codes


def test_two_collections_answer_only_from_their_own_documents(server):
    import httpx

    url, question = server["url"], "Where does the ferry to Lindholm leave from?"
    listed = subprocess.run(
        [sys.executable, "-m", "qa", "collections", "--index", "index"],
        cwd=server["base"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "ferries\t1 file\t1 chunk" in listed and "\ndocqa\t" in f"\n{listed}"

    def sources(collection: str, asked: str = question) -> set[str]:
        body = {"question": asked, "collection": collection}
        reply = httpx.post(f"{url}/api/ask", json=body, timeout=60)
        assert reply.status_code == 200, reply.text
        return {c["source"] for c in reply.json()["citations"]}

    assert sources("ferries") == {"ferries/ferry-notes.txt"}
    assert "ferries/ferry-notes.txt" not in sources("")
    assert "ferries/ferry-notes.txt" not in sources("docqa")
    assert (
        httpx.post(f"{url}/api/ask", json={"question": question, "collection": "x"}).status_code
        == 404
    )
    models = {m["id"] for m in httpx.get(f"{url}/v1/models").json()["data"]}
    assert {"docqa", "docqa/docqa", "docqa/ferries"} <= models
    chat = {"model": "docqa/ferries", "messages": [{"role": "user", "content": question}]}
    completion = httpx.post(f"{url}/v1/chat/completions", json=chat, timeout=60).json()
    assert {c["source"] for c in completion["citations"]} == {"ferries/ferry-notes.txt"}
    # Deleted from its collection: its file and its chunks are gone, the other's stay.
    gone = httpx.delete(f"{url}/api/documents/ferry-notes.txt?collection=ferries", timeout=60)
    assert gone.status_code == 200, gone.text
    assert not (server["base"] / "ferries" / "ferry-notes.txt").exists()
    assert sources("ferries") == set()
    article = sources("docqa", "Who is the spokesperson of Iran's Foreign Ministry?")
    assert article == {"corpus/newsweek-iran-border-defense.txt"}
    # --watch keeps every collection's folder in sync, not only the default's.
    (server["base"] / "ferries" / "timetable.txt").write_text(FERRY + "\n")
    wait_for(lambda: sources("ferries") == {"ferries/timetable.txt"}, 120, 0.2)
    assert "ferries/timetable.txt" not in sources("")
