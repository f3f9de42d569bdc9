"""Starting and stopping real server processes on free loopback ports, for the tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], url: str, log: Path, **popen) -> subprocess.Popen:
    """Run ``cmd`` until ``url`` answers (3 minutes at most); its output goes to ``log``."""
    proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, **popen)
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(log.read_text()[-3000:]) from None
            time.sleep(0.5)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def serve(cwd: Path, env: dict[str, str], log: Path, *args: str) -> tuple[subprocess.Popen, str]:
    """`qa serve` (the chat page and the HTTP API) on a free loopback port: (process, URL)."""
    import sys

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "qa", "serve", "--port", str(port), *args]
    return start(cmd, f"{url}/health", log, cwd=cwd, env=env), url  # open with credentials set


def article_copy(article_index: Path, base: Path) -> Path:
    """A writable copy of the session's article index and its corpus in ``base``."""
    shutil.copytree(article_index / "corpus", base / "corpus")
    shutil.copytree(article_index / "index", base / "index")
    return base


def scripted_env(base: Path, llm_url: str, **extra: str) -> dict[str, str]:
    """The environment of a `qa serve` in ``base`` (index/, corpus/, its users file, audit
    log and eval file there) over the scripted model at ``llm_url`` (tests/fake_llm.py), the
    judge off and no per-user rate to hit; ``extra``: more variables (``QA_API_KEY=...``)."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "QA_INDEX": str(base / "index"),
        "QA_CORPUS": str(base / "corpus"),
        "QA_EVAL_FILE": str(base / "eval.yaml"),
        "QA_USERS": str(base / "users.json"),
        "QA_AUDIT_LOG": str(base / "audit.jsonl"),
        "QA_LLM": "openai",
        "QA_LLM_BASE_URL": llm_url,
        "QA_LLM_MODEL": "stub",
        "QA_JUDGE": "false",
        "QA_ASKS_PER_MINUTE": "1000",
        **extra,
    }
