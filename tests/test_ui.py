"""The chat page in a real browser (Debian's Chromium driven by Playwright), on a real server."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.servers import free_port, start, stop

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """`qa serve` on a free loopback port over its own copy of the article's index."""
    base = tmp_path_factory.mktemp("ui")
    shutil.copytree(ROOT / "corpus", base / "corpus")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "QA_INDEX": str(base / "index"),
        "QA_CORPUS": str(base / "corpus"),
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    subprocess.run(
        [sys.executable, "-m", "qa", "ingest"],
        cwd=base,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    proc = start(
        [sys.executable, str(ROOT / "ui.py"), "--port", str(port)],
        url,
        base / "server.log",
        cwd=base,
        env=env,
    )
    yield url, base
    stop(proc)


@pytest.fixture(scope="module")
def page(server, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server[0])
        page.wait_for_selector("#qa-question textarea")
        yield page
        browser.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("QA_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def ask(page, question: str) -> list[str]:
    """Type a question, press Enter; the distinct texts the answer showed as it grew, until
    the page says the answer is ready (however long a busy machine takes)."""
    bot = page.locator("#qa-chat .bot-row")
    before = bot.count()
    ready = f"Answer {before + 1} ready"
    page.fill("#qa-question textarea", question)
    page.press("#qa-question textarea", "Enter")
    seen: list[str] = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        done = ready in page.locator("#qa-state").inner_text()
        if bot.count() > before:
            text = bot.last.inner_text().replace("Loading content", "").strip()
            if text and (not seen or text != seen[-1]):
                seen.append(text)
        if done:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"no answer to {question!r}: {seen}")


def test_streamed_cited_answer_with_highlighted_source(page, shots):
    seen = ask(
        page, "Which missile system was fired during the Guardians of Velayat Sky-99 exercise?"
    )
    assert len(seen) >= 3, f"the answer should appear as it is generated: {seen}"
    assert "Tabas" in seen[-1] and "[1]" in seen[-1]
    sources = page.locator("#qa-sources")
    sources.locator("mark").first.wait_for()
    assert "Tabas" in sources.locator("mark").first.inner_text()
    assert "corpus/newsweek-iran-border-defense.txt" in sources.inner_text()
    page.locator("#qa-chat a[href='#qa-source-1-1']").last.click()
    page.wait_for_selector("#qa-source-1-1.qa-flash")
    page.screenshot(path=str(shots / "1-answer.png"))


def test_follow_up_question(page, shots):
    ask(page, "Who is the spokesperson of Iran's Foreign Ministry?")
    seen = ask(page, "What did he announce on Tuesday?")
    assert "Araghchi" in seen[-1] or "visit" in seen[-1]
    page.screenshot(path=str(shots / "2-follow-up.png"))


def test_an_older_answers_citation_still_shows_its_own_passage(page):
    """After later answers, [1] of the first answer still leads to the missile sentence."""
    page.locator("#qa-chat a[href='#qa-source-1-1']").first.click()
    page.wait_for_selector("#qa-source-1-1.qa-flash")
    assert "Tabas" in page.locator("#qa-source-1-1 mark").inner_text()


def test_declined_question_shows_closest_passages(page, shots):
    seen = ask(page, "How much does a Tabas missile system cost?")
    assert "do not say" in seen[-1]
    assert "Not found in the documents" in page.locator("#qa-sources").inner_text()
    assert page.locator("#qa-sources .qa-source").count() >= 1
    page.screenshot(path=str(shots / "3-declined.png"))


def test_upload_a_document_and_ask_about_it(page, server, shots, tmp_path):
    doc = tmp_path / "ferry-notes.md"
    doc.write_text("# Ferry notes\n\nThe Kestrel ferry's captain is Ines Marlow.\n")
    page.get_by_text("Documents", exact=True).click()
    page.locator("input[type=file]").first.set_input_files(str(doc))
    page.wait_for_selector("#qa-upload-status:has-text('Indexed:')", timeout=120_000)
    assert "ferry-notes.md" in page.locator("#qa-index").inner_text()
    assert (server[1] / "corpus" / "ferry-notes.md").exists()
    seen = ask(page, "Who is the captain of the Kestrel ferry?")
    assert "Marlow" in seen[-1]
    page.screenshot(path=str(shots / "4-upload.png"), full_page=True)


def text(message: dict) -> str:
    """A chat message's text (Gradio 6 sends content as a list of typed parts)."""
    content = message["content"]
    return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)


def test_twenty_concurrent_sessions(server):
    from gradio_client import Client

    questions = [
        "Who is the spokesperson of Iran's Foreign Ministry?",
        "Which missile system was fired during the exercise?",
        "Which two Gulf monarchies normalized ties with Israel?",
        "Who commands the Revolutionary Guard Ground Forces?",
    ]

    def session(i: int) -> tuple[float, list, str]:
        client = Client(server[0], verbose=False)
        began = time.monotonic()
        chat, *_ = client.predict(questions[i % 4], [], api_name="/respond")
        return time.monotonic() - began, chat, questions[i % 4]

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(session, range(20)))
    for _, chat, question in results:
        assert [m["role"] for m in chat] == ["user", "assistant"]  # no one else's turns
        assert text(chat[0]) == question and text(chat[1])
    times = sorted(t for t, _, _ in results)
    p50, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
    print(f"\n20 sessions: all answered; p50 {p50:.1f} s, p95 {p95:.1f} s")


def test_answers_are_saved_as_tests_from_the_page(page, server, shots):
    """👍 saves the latest answer as a test as it stands; 👎 asks for the right answer."""
    import yaml

    ask(page, "Which missile system was fired during the Guardians of Velayat Sky-99 exercise?")
    saved = server[1] / "eval_questions.yaml"
    page.locator("#qa-chat button[aria-label='Like']").last.click()
    page.wait_for_selector("#qa-saved:has-text('Saved as test')")
    page.locator("#qa-chat button[aria-label='Dislike']").last.click()
    page.wait_for_selector("#qa-right textarea, #qa-right input")
    page.locator("#qa-right textarea, #qa-right input").first.fill("Tabas")
    page.click("#qa-save-right")
    page.wait_for_selector("#qa-saved:has-text('Saved as test s02')")
    entries = yaml.safe_load(saved.read_text())
    assert [e["id"] for e in entries] == ["s01", "s02"]
    assert "Tabas" in entries[0]["expect"][0][0] and "Tabas" in entries[0]["support"]
    assert entries[1]["expect"] == [["Tabas"]]
    page.screenshot(path=str(shots / "5-saved-as-test.png"))


def test_an_upload_during_an_answer_waits_its_turn(server, tmp_path):
    """Answers and uploads share one queue: an upload sent while an answer is being written
    is indexed after it, and both complete; the answer is the article's alone."""
    import httpx
    from gradio_client import Client, handle_file
    from gradio_client.utils import Status

    asking = Client(server[0], verbose=False).submit(
        "Which missile system was fired during the exercise?", [], api_name="/respond"
    )
    while asking.status().code != Status.PROCESSING:
        time.sleep(0.05)
    doc = tmp_path / "pier-notes.txt"
    doc.write_text("The harbour master of the north pier is Ola Brandt.\n")
    uploading = Client(server[0], verbose=False).submit([handle_file(str(doc))], api_name="/upload")
    # Seen from the server: the upload waits in the queue, which with one slot means behind
    # the answer. (Comparing when each job looked done to the client raced: the one-line file
    # can be indexed before the answer's last message reaches its own client.)
    waited = False
    while not (waited or uploading.done()):
        waited = httpx.get(f"{server[0]}gradio_api/queue/status").json()["queue_size"] > 0
        time.sleep(0.05)
    assert waited
    chat, *_ = asking.result(timeout=300)
    status, *_ = uploading.result(timeout=300)
    assert "files: 1 added" in status
    assert "Tabas" in text(chat[1]) and "Brandt" not in text(chat[1])
