"""Interrupted and concurrent ingestion never leave a broken index."""

from __future__ import annotations

import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.config import load_settings
from qa.index.store import Store
from qa.interfaces.cli import main

ROOT = Path(__file__).resolve().parent.parent


def corpus(folder: Path, files: int = 40) -> Path:
    folder.mkdir()
    for i in range(files):
        body = " ".join(f"Station {i} logged reading {j} at dawn on the ridge." for j in range(60))
        (folder / f"log-{i:03d}.txt").write_text(f"Log {i}\n\n{body}\n")
    return folder


def chunks_written(lexical: Path) -> int:
    """Chunks a running ingest has committed to the lexical index (0 before it exists)."""
    try:
        with closing(sqlite3.connect(f"file:{lexical}?mode=ro", uri=True, timeout=5)) as db:
            return db.execute("SELECT chunks FROM stats").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def qa(*args: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "qa", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_kill_during_ingest_then_ingest_again_is_consistent(tmp_path: Path):
    docs = corpus(tmp_path / "docs", files=100)  # about 550 chunks: three batches
    proc = qa("ingest", "docs", "--index", "index", cwd=tmp_path)
    # Killed once the first batch is in, whatever this machine's speed: a fixed wait could
    # fall before any write or after the last.
    written = 0
    deadline = time.monotonic() + 300
    while not written and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        written = chunks_written(tmp_path / "index" / "lexical-docqa.sqlite3")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert written
    done = qa("ingest", "docs", "--index", "index", cwd=tmp_path)
    _, err = done.communicate(timeout=600)
    assert done.returncode == 0, err
    store = Store(load_settings({"index": tmp_path / "index"}, environ={}))
    sources = store.sources()
    assert len(sources) == len(list(docs.iterdir()))
    assert all(s.complete for s in sources.values())
    ids = [c.id for c in store.chunks()]
    assert len(ids) == len(set(ids)) == sum(s.expected for s in sources.values())
    assert written < len(ids)  # the kill did fall mid-way
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


def big_text(path: Path, size: int = 100 * 2**20) -> Path:
    """A text file of ``size`` bytes: numbered paragraphs, so that no two chunks are alike."""
    with path.open("w") as f:
        n = written = 0
        while written < size:
            para = f"Entry {n}: the survey team logged {n * 7 % 1000} readings at station {n}. " * 6
            written += f.write(para + "\n\n")
            n += 1
    return path


def test_a_100_mb_text_file_is_read_in_bounded_memory(tmp_path: Path):
    import tracemalloc

    from qa.documents.loaders import FileLoader
    from qa.index.ingest import split

    path = big_text(tmp_path / "big.txt")
    tracemalloc.start()
    try:
        loader = FileLoader(path, "big.txt")
        digest = loader.fingerprint()
        count, end = 0, 0
        for chunk in split(loader.lazy_load(), load_settings({}, environ={}), digest):
            count, end = count + 1, chunk.metadata["end"]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert end == len(path.read_bytes().rstrip())  # every character (ASCII: bytes = chars)
    assert count > 100_000
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.0f} MB while reading a 100 MB file"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.slow
def test_ingesting_a_100_mb_file_streams_and_survives_kill(tmp_path: Path):
    """`qa ingest` of a 100 MB file writes as it reads, with flat memory; killed half-way,
    `qa status` reports the file incomplete, and the next ingest repairs the index."""
    docs = tmp_path / "docs"
    docs.mkdir()
    big_text(docs / "big.txt")
    (docs / "small.txt").write_text("The ridge station logged nine readings at dawn.\n")
    proc = qa("ingest", "docs", "--index", "index", cwd=tmp_path)
    deadline = time.monotonic() + 180
    while not (tmp_path / "index" / "chroma.sqlite3").exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(5)  # the model is loaded and batches are being written
    samples = []
    for _ in range(12):  # 30 s of batch after batch
        time.sleep(2.5)
        samples.append(rss_mb(proc.pid))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # Medians, not extremes: one batch's buffers come and go, what is kept stays.
    growth = statistics.median(samples[-4:]) - statistics.median(samples[:4])
    assert growth < 100, samples
    assert max(samples) < 1500, samples
    status = qa("status", "--index", "index", cwd=tmp_path)
    out, err = status.communicate(timeout=120)
    assert status.returncode == 1 and "big.txt" in out and "[incomplete]" in out, out + err
    (docs / "big.txt").unlink()
    again = qa("ingest", "docs", "--index", "index", cwd=tmp_path)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    sources = Store(load_settings({"index": tmp_path / "index"}, environ={})).sources()
    assert list(sources) == ["docs/small.txt"] and all(s.complete for s in sources.values())
