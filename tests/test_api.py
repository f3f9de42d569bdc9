"""The HTTP API on a real `qa serve` process on 127.0.0.1 with the real model: REST, the
OpenAI-compatible endpoint through the official `openai` client, and its access control."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.servers import serve, stop

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
KEY = "test-key"
QUESTION = "Who is the spokesperson of Iran's Foreign Ministry?"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("api")
    shutil.copytree(ROOT / "corpus", base / "corpus")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QA_INDEX": str(base / "index")}
    subprocess.run(
        [sys.executable, "-m", "qa", "ingest"], cwd=base, env=env, check=True, timeout=300
    )
    env = {**env, "QA_API_KEY": KEY, "GRADIO_ANALYTICS_ENABLED": "False"}
    proc, url = serve(base, env, base / "server.log")
    yield url
    stop(proc)


def call(url: str, path: str, body: dict | bytes | None = None, key: str = KEY):
    """(status, JSON reply) of one request."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{url}{path}", data=data, method="POST" if data else "GET")
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=300) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_ask_returns_the_cli_json(server):
    status, out = call(server, "/api/ask", {"question": QUESTION})
    assert status == 200, out
    keys = {"question", "answer", "declined", "citations", "timings", "grounding"}
    assert keys <= set(out) and "Khatibzadeh" in out["answer"] and not out["declined"]
    text = (ROOT / out["citations"][0]["source"]).read_text()
    c = out["citations"][0]
    assert text[c["start"] : c["end"]] == c["quote"]


def test_status_shows_the_index_and_the_queue(server):
    status, out = call(server, "/api/status")
    assert status == 200 and out["files"] == {
        "corpus/newsweek-iran-border-defense.txt": out["chunks"]
    }
    assert out["queue"]["waiting"] == 0 and out["incomplete"] == []


def test_errors_are_json_with_a_status(server):
    assert call(server, "/api/ask", {"question": "   "}) == (
        400,
        {"error": {"message": "the question is empty", "code": 400}},
    )
    status, out = call(server, "/api/ask", {"history": []})
    assert status == 400 and out["error"]["message"].startswith("bad request: question")
    status, out = call(server, "/api/ask", b"x" * 300_000)
    assert status == 413 and "larger than" in out["error"]["message"]
    assert call(server, "/api/status", key="")[0] == 401
    assert call(server, "/api/status", key="wrong")[0] == 401


def test_openai_client_asks_the_documents(server):
    from openai import OpenAI

    client = OpenAI(base_url=f"{server}/v1", api_key=KEY)
    # docqa (the default collection), and each collection as docqa/NAME
    assert [m.id for m in client.models.list()] == ["docqa", "docqa/docqa"]
    reply = client.chat.completions.create(
        model="docqa", messages=[{"role": "user", "content": QUESTION}]
    )
    content = reply.choices[0].message.content
    assert "Khatibzadeh" in content and re.search(r"\[\d\]", content)
    assert "Khatibzadeh" in reply.model_extra["citations"][0]["quote"]
    # Streamed: the checked answer, then the citations in the last chunk.
    parts = list(
        client.chat.completions.create(
            model="docqa",
            messages=[
                {"role": "user", "content": QUESTION},
                {"role": "assistant", "content": content},
                {"role": "user", "content": "What did he announce on Tuesday?"},
            ],
            stream=True,
        )
    )
    streamed = "".join(p.choices[0].delta.content or "" for p in parts)
    assert streamed and parts[-1].choices[0].finish_reason == "stop"
    assert "citations" in parts[-1].model_extra
    with pytest.raises(Exception, match="401"):
        OpenAI(base_url=f"{server}/v1", api_key="wrong").models.list()


def test_readme_examples_run(server):
    """The README's curl and Python examples, as written, against this server."""
    readme = (ROOT / "README.md").read_text()
    api = readme.split("## The HTTP API", 1)[1].split("\n## ", 1)[0]
    curl = re.search(r"```console\n\$ (curl .*?)\n```", api, re.S).group(1)
    python = re.search(r"```python\n(.*?)```", api, re.S).group(1)
    port = server.rsplit(":", 1)[1]
    env = {**os.environ, "QA_API_KEY": KEY}
    shell = curl.replace("127.0.0.1:7860", f"127.0.0.1:{port}").replace("\\\n", " ")
    out = subprocess.run(shell, shell=True, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0 and "Khatibzadeh" in json.loads(out.stdout)["answer"]
    script = python.replace("127.0.0.1:7860", f"127.0.0.1:{port}")
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0 and "Khatibzadeh" in out.stdout, out.stderr


def test_concurrent_requests_take_turns_and_the_queue_shows(server):
    """Two questions at once: both answered, one waits, and /api/status says so."""
    from concurrent.futures import ThreadPoolExecutor

    questions = [QUESTION, "Which two Gulf monarchies normalized ties with Israel?"]
    with ThreadPoolExecutor(2) as pool:
        asked = [pool.submit(call, server, "/api/ask", {"question": q}) for q in questions]
        seen = []
        while not all(f.done() for f in asked):
            seen.append(call(server, "/api/status")[1]["queue"])
            time.sleep(0.2)
    replies = [f.result() for f in asked]
    assert [status for status, _ in replies] == [200, 200]
    assert "Khatibzadeh" in replies[0][1]["answer"] and "Bahrain" in replies[1][1]["answer"]
    assert any(q["answering"] for q in seen) and any(q["waiting"] == 1 for q in seen)
    assert call(server, "/api/status")[1]["queue"]["last_wait_s"] > 0
