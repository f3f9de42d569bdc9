"""Starting and stopping real server processes on free loopback ports, for the tests."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path


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
