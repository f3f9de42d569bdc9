"""Interrupted and concurrent ingestion never leave a broken index."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.cli import main
from qa.config import load_settings
from qa.store import Store

ROOT = Path(__file__).resolve().parent.parent


def corpus(folder: Path, files: int = 40) -> Path:
    folder.mkdir()
    for i in range(files):
        body = " ".join(f"Station {i} logged reading {j} at dawn on the ridge." for j in range(60))
        (folder / f"log-{i:03d}.txt").write_text(f"Log {i}\n\n{body}\n")
    return folder


def qa(*args: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "qa.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_kill_during_ingest_then_ingest_again_is_consistent(tmp_path: Path):
    docs = corpus(tmp_path / "docs")
    proc = qa("ingest", "docs", "--index", "index", cwd=tmp_path)
    deadline = time.monotonic() + 120
    while not (tmp_path / "index" / "chroma.sqlite3").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(4)  # the model is loaded and batches are being written
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = qa("ingest", "docs", "--index", "index", cwd=tmp_path)
    _, err = done.communicate(timeout=600)
    assert done.returncode == 0, err
    store = Store(load_settings({"index": tmp_path / "index"}, environ={}))
    sources = store.sources()
    assert len(sources) == len(list(docs.iterdir()))
    assert all(s.complete for s in sources.values())
    ids = [c.id for c in store.chunks()]
    assert len(ids) == len(set(ids)) == sum(s.expected for s in sources.values())
    status = CliRunner().invoke(main, ["status", "--index", str(tmp_path / "index")])
    assert status.exit_code == 0 and "inconsistent" not in status.output


@pytest.mark.slow
def test_a_second_writer_stops_with_a_clear_message(tmp_path: Path):
    corpus(tmp_path / "docs", files=60)
    first = qa("ingest", "docs", "--index", "index", cwd=tmp_path)
    deadline = time.monotonic() + 120
    while not (tmp_path / "index" / ".write.lock").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = qa("ingest", "docs", "--index", "index", cwd=tmp_path)
    _, err = second.communicate(timeout=300)
    first.communicate(timeout=600)
    assert second.returncode == 4
    assert err.strip().endswith("error: another qa ingest is writing to index")
    assert first.returncode == 0
