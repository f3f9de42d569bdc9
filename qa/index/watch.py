"""A folder kept in sync with the index by itself (``qa watch``, ``qa serve --watch``).

File events come from ``watchdog``; a periodic scan of names, sizes and times catches what
events miss (network mounts, some containers). Events start a countdown: the sync runs once
the folder has been quiet for ``debounce`` seconds and two looks at it that far apart agree,
so a burst of writes is one sync and a file still being written is not read. The sync is
``qa.index.ingest.ingest`` (only what changed is re-indexed), inside ``guard`` (the server's
turn on the index: no answer reads chunks while they are written).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

from qa.config import Settings
from qa.errors import QAError
from qa.index.names import absolute

log = logging.getLogger(__name__)


@dataclass
class SyncState:
    """What ``/api/status`` and the page show."""

    folder: str
    mode: str = "events"  # or "scan": events are not delivered here
    syncing: bool = False
    pending: bool = False  # changes seen, waiting for the folder to be quiet
    syncs: int = 0
    last_sync: float = 0.0  # unix time of the last finished sync
    last: str = ""  # its summary, or its error

    def to_json(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        """One line for the page."""
        if self.syncing:
            return f"Syncing {self.folder}…"
        if self.pending:
            return f"Changes seen in {self.folder}; syncing once it is quiet."
        when = time.strftime("%H:%M:%S", time.localtime(self.last_sync)) if self.syncs else ""
        done = f" Last sync {when}: {self.last}" if self.syncs else ""
        return f"Watching {self.folder} ({self.mode}).{done}"


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder``: (size, modification time in ns)."""
    seen = {}
    for d, _, files in os.walk(folder):
        for f in files:
            try:
                st = (Path(d) / f).stat()
            except OSError:  # gone meanwhile
                continue
            seen[str(Path(d) / f)] = (st.st_size, st.st_mtime_ns)
    return seen


class Watcher:
    """Watches ``folder``; calls ``ingest`` through ``sync`` when it changed."""

    def __init__(
        self,
        folder: Path,
        settings: Settings,
        *,
        store=None,
        guard: Callable[[], AbstractContextManager] = nullcontext,
        after: Callable[[], None] = lambda: None,
        debounce: float = 1.0,
        scan_every: float = 30.0,
        use_events: bool = True,
    ) -> None:
        self.folder, self.settings, self.store = folder, settings, store
        self.guard, self.after = guard, after
        self.debounce, self.scan_every, self.use_events = debounce, scan_every, use_events
        self.state = SyncState(str(folder), mode="events" if use_events else "scan")
        self._root = absolute(folder)
        self._changed = threading.Event()
        self._retry = False  # the last sync failed: sync at the next tick
        self._stop = threading.Event()
        self._observer = None
        self._thread = threading.Thread(target=self._run, name="qa-watch", daemon=True)

    def present(self, source: str) -> bool:
        """Whether an indexed source is still there, where it is in this folder: a file
        removed is not cited while its sync waits for the folder to be quiet."""
        # Sources are named relative to the working directory, links not followed (ingest).
        path = absolute(Path(source))
        return not path.is_relative_to(self._root) or path.exists()

    def start(self) -> Watcher:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.use_events:
            self._observe()
        self._changed.set()  # a first sync: what changed while nobody watched
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._changed.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        self._thread.join(timeout=30)

    def _observe(self) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        watcher = self

        class Changed(FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                if event.event_type not in ("opened", "closed_no_write"):
                    watcher.state.pending = True
                    watcher._changed.set()

        try:
            self._observer = Observer()
            self._observer.schedule(Changed(), str(self.folder), recursive=True)
            self._observer.start()
        except OSError as e:  # e.g. out of inotify watches: the scan still runs
            log.warning("file events unavailable for %s (%s); scanning instead", self.folder, e)
            self._observer, self.state.mode = None, "scan"

    def _ticks(self) -> Iterator[bool]:
        """True when something changed: an event, or the periodic scan differs."""
        last = snapshot(self.folder)
        while not self._stop.is_set():
            evented = self._changed.wait(self.scan_every)
            self._changed.clear()
            now = snapshot(self.folder)
            yield evented or now != last or self._retry
            last = now

    def _run(self) -> None:
        for changed in self._ticks():
            if not changed or self._stop.is_set():
                continue
            self.state.pending = True
            self._quiet()
            if not self._stop.is_set():
                self.sync()

    def _quiet(self) -> None:
        """Wait until the folder is still for ``debounce`` seconds (no event, same look)."""
        look = snapshot(self.folder)
        while not self._stop.is_set():
            self._changed.clear()
            if self._changed.wait(self.debounce):
                look = snapshot(self.folder)
                continue
            again = snapshot(self.folder)
            if again == look:
                return
            look = again

    def sync(self):
        """Index what changed (nothing is written, and no turn taken, when nothing did)."""
        from qa.index.ingest import ingest

        self.state.pending, self.state.syncing, self._retry = False, True, False
        try:
            planned = ingest([self.folder], self.settings, dry_run=True, store=self.store)
            report = planned
            if planned.added or planned.updated or planned.removed:
                with self.guard():
                    report = ingest([self.folder], self.settings, store=self.store)
                    self.after()
                log.info("synced %s: %s", self.folder, report.summary())
            self.state.last = report.summary()
            return report
        except FileNotFoundError as e:  # a file went while the sync read the folder
            self._failed(e)
            self._changed.set()  # the folder is changing: again once it is quiet
        except (QAError, OSError) as e:  # busy, or the index unavailable: at the next scan
            self._failed(e)
        except Exception as e:  # a fault of ours: said with its trace, and the watch goes on
            log.exception("sync of %s failed", self.folder)
            self._failed(e)
        finally:
            self.state.syncs += 1
            self.state.syncing, self.state.last_sync = False, time.time()

    def _failed(self, error: Exception) -> None:
        """A sync that failed is tried again (a lost sync would wait for the next change)."""
        log.warning("sync of %s failed: %s", self.folder, error)
        self.state.last, self.state.pending, self._retry = f"failed: {error}", True, True
