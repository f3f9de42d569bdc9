"""Writing chunks into the index: batches embedded on a thread of their own while the next
files are read and the batch before is written, each file's old chunks pruned once its
last chunk is in."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from langchain_core.documents import Document

if TYPE_CHECKING:  # the store imports Chroma: loaded only when there is work
    from qa.index.store import Store

BATCH = 256  # chunks embedded and written per call: bounds memory on large corpora


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None  # glibc only


def _trim_heap() -> None:
    """Hand freed memory back to the OS. Batches of every length leave glibc's heap
    fragmented, and without this the RSS of a long ingest creeps up batch after batch."""
    if libc := _libc():
        libc.malloc_trim(0)


class Writer:
    """Writes chunks in batches that run across files: a folder of small files is embedded
    in full batches, not one short batch per file. A file's last chunk carries its chunk
    count, the mark that the file went in whole; once it is written, the file's chunks
    from before (or from a killed run) are removed.

    A batch is embedded on ``pool`` while this thread reads and splits the next files and
    writes the batch before it, so the cores the model leaves idle (between its runs, and
    while Chroma and SQLite write) go to that work. Batches are written in order."""

    def __init__(self, store: Store, advance: Callable[[int], None], pool: Executor) -> None:
        self.store = store
        self.advance = advance
        self.pool = pool
        self.pending: list[Document] = []
        self.written: list[tuple[str, set[str]]] = []  # files whose last chunk is pending
        self.embedding: Batch | None = None  # the batch whose vectors are being computed
        self.reported = 0  # where in the current file's text progress was last reported
        self.advanced = 0  # characters of the current file reported
        self.end = 0  # where the current file's last chunk queued ends
        self.size = 0  # the current file's bytes: its share of the progress

    def file(self, name: str, chunks: Iterator[Document], size: int) -> None:
        """Queue one file's chunks (flushing full batches as they fill); ``size``: its bytes,
        which progress counts."""
        self.reported = self.end = self.advanced = 0
        self.size = size
        ids: set[str] = set()
        first = len(self.pending)
        last: Document | None = None
        try:
            for chunk in chunks:
                if last is not None:
                    self._queue(last)
                last = chunk
                ids.add(chunk.id)
        except BaseException:
            del self.pending[min(first, len(self.pending)) :]  # none of a failed file's tail
            self.reported = self.size  # the caller reports the rest of its bytes
            raise
        if last is not None:
            last.metadata["n_chunks"] = len(ids)
            self._queue(last)
        self.written.append((name, ids))
        self.reported = self.size  # the rest of this file's progress is the caller's to report

    def _queue(self, chunk: Document) -> None:
        self.pending.append(chunk)
        self.end = chunk.metadata["end"]
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Start embedding what is queued, and write the batch before it."""
        batch = Batch(self.pending, self.written)
        if batch.chunks:
            batch.vectors = self.pool.submit(self.store.embed, batch.chunks)
        self.pending, self.written = [], []
        self._write()
        self.embedding = batch
        # Progress counts a file's text up to its bytes: a zipped file (.docx, .xlsx) holds
        # more text than bytes, and the bar must not pass its total.
        end = min(self.end, self.size)
        step = max(0, end - self.reported)
        self.advance(step)
        self.advanced += step
        self.reported = end

    def finish(self) -> None:
        """Write everything queued."""
        self.flush()
        self._write()

    def _write(self) -> None:
        if (batch := self.embedding) is None:
            return
        self.embedding = None
        if batch.vectors is not None:
            self.store.add(batch.chunks, batch.vectors.result())
            _trim_heap()
        for name, ids in batch.files:
            self.store.prune(name, keep=ids)


@dataclass
class Batch:
    """Chunks on their way in, and the files whose last chunk is among them."""

    chunks: list[Document]
    files: list[tuple[str, set[str]]]
    vectors: Future[list[list[float]]] | None = None
