"""The folder's watcher in the process, on a real index: the periodic scan alone (where file
events are not delivered) notices a file added, changed and removed; a burst is one sync."""

from __future__ import annotations

import time
from pathlib import Path

from qa.config import load_settings
from qa.index.store import Store
from qa.index.watch import Watcher


def until(check, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.1)


def test_the_scan_alone_keeps_the_index_in_sync(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("The lighthouse keeper is Mira Holt.\n")
    settings = load_settings({"index": tmp_path / "index", "corpus": corpus}, environ={})
    store = Store(settings, create=True)
    watcher = Watcher(
        corpus, settings, store=store, debounce=0.2, scan_every=0.3, use_events=False
    ).start()
    try:
        until(lambda: watcher.state.syncs >= 1 and not watcher.state.syncing, 120)
        assert set(store.sources()) == {"corpus/a.txt"}
        synced = watcher.state.syncs
        for i in range(5):  # a burst: written in pieces, quickly
            with (corpus / "b.txt").open("a") as f:
                f.write(f"Line {i} of the ferry timetable.\n")
            time.sleep(0.05)
        until(lambda: "corpus/b.txt" in store.sources())
        until(lambda: not watcher.state.syncing)
        assert watcher.state.syncs == synced + 1, watcher.state
        assert watcher.state.mode == "scan"
        (corpus / "a.txt").unlink()
        until(lambda: "corpus/a.txt" not in store.sources())
    finally:
        watcher.stop()


def test_a_sync_that_failed_is_tried_again(tmp_path: Path, monkeypatch):
    """A file gone while the sync read the folder, a fault of docqa's own, then a busy
    server: none loses the sync (the watcher's thread once died of the first two, and the
    third waited for a change)."""
    from contextlib import contextmanager

    import qa.index.ingest as ingesting
    from qa.errors import BusyError

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("The lighthouse keeper is Mira Holt.\n")
    settings = load_settings({"index": tmp_path / "index", "corpus": corpus}, environ={})
    store = Store(settings, create=True)
    real, failures = ingesting.ingest, ["gone", "fault", "busy"]

    def flaky(*args, **kwargs):
        if failures[:1] == ["gone"]:
            raise FileNotFoundError(failures.pop(0))
        if failures[:1] == ["fault"]:  # a symlink loop once raised RuntimeError here
            raise RuntimeError(failures.pop(0))
        return real(*args, **kwargs)

    @contextmanager
    def turn():
        if failures[:1] == ["busy"]:
            raise BusyError(failures.pop(0))
        yield

    monkeypatch.setattr(ingesting, "ingest", flaky)
    watcher = Watcher(
        corpus, settings, store=store, guard=turn, debounce=0.2, scan_every=0.3, use_events=False
    ).start()
    try:
        until(lambda: "corpus/a.txt" in store.sources(), 120)
        assert not failures and watcher.state.syncs >= 4
    finally:
        watcher.stop()


def test_a_watch_makes_a_collection_the_index_does_not_hold_yet(tmp_path: Path):
    """`qa watch --collection NEW` on an index with another collection said "run qa ingest
    first" at every sync: its first sync now makes the collection."""
    from qa.index.ingest import ingest

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("The lighthouse keeper is Mira Holt.\n")
    settings = load_settings({"index": tmp_path / "index", "corpus": corpus}, environ={})
    ingest([corpus], settings)
    new = settings.with_overrides(collection="harbour")
    watcher = Watcher(corpus, new, debounce=0.2, scan_every=0.3, use_events=False).start()
    try:
        until(lambda: watcher.state.syncs >= 1 and not watcher.state.syncing, 120)
        assert watcher.state.last.startswith("files: 1 added"), watcher.state
        assert set(Store(new).sources()) == {"corpus/a.txt"}
    finally:
        watcher.stop()
