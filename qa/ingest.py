"""Ingestion: sync an index to a set of files (add new, replace changed, remove gone)."""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from qa.config import Settings
from qa.errors import BadDocumentError, UsageError
from qa.loaders import FileLoader, supported

log = logging.getLogger(__name__)

BATCH = 64  # chunks embedded and written per call: bounds memory on large corpora


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    unchanged: int = 0
    chunks: int = 0  # chunks the index holds afterwards
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"files: {len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.removed)} removed, {len(self.skipped)} skipped, "
            f"{self.unchanged} unchanged; {self.chunks} chunks; {self.seconds:.1f} s"
        )


def source_name(path: Path) -> str:
    """How citations name a file: relative to the working directory when under it."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(resolved)


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """Supported files under ``paths``, sorted, each once; symlink loops are not followed."""
    seen: set[Path] = set()
    for root in paths:
        if not root.exists():
            raise UsageError(f"no such file or directory: {root}")
        candidates = (
            [root]
            if root.is_file()
            else sorted(
                Path(d) / f
                for d, _, files in os.walk(root)
                for f in files  # walk skips link loops
            )
        )
        for path in candidates:
            real = path.resolve()
            if path.is_file() and supported(path) and real not in seen:
                seen.add(real)
                yield path


def splitter(settings: Settings) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
        keep_separator="end",
        add_start_index=True,
    )


def split(docs: Iterable[Document], settings: Settings, file_hash: str) -> Iterator[Document]:
    """Chunks of one file's pieces, numbered, with ``start``/``end`` offsets into the file's
    text and stable ids. ``n_chunks`` is 0 here: the writer sets it on the last chunk."""
    text_splitter = splitter(settings)
    n = 0
    for doc in docs:
        offset = doc.metadata.pop("offset", 0)
        for chunk in text_splitter.split_documents([doc]):
            start = offset + chunk.metadata.pop("start_index")
            chunk.metadata.update(
                start=start,
                end=start + len(chunk.page_content),
                file_hash=file_hash,
                chunk=n,
                n_chunks=0,
            )
            digest = hashlib.sha256(
                f"{doc.metadata['source']}\0{start}\0{chunk.page_content}".encode()
            ).hexdigest()
            chunk.id = digest[:32]
            n += 1
            yield chunk


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


def _write(store, chunks: Iterator[Document], advance: Callable[[int], None]) -> set[str]:
    """Add chunks in batches (memory stays bounded); the file's last chunk carries its
    chunk count, the mark that the file went in whole. Returns the ids written."""
    ids: set[str] = set()
    pending: list[Document] = []
    done = 0  # characters of the file's text behind the last batch written
    for chunk in chunks:
        if len(pending) == BATCH:
            store.add(pending, [c.id for c in pending])
            _trim_heap()
            advance(pending[-1].metadata["end"] - done)
            done, pending = pending[-1].metadata["end"], []
        pending.append(chunk)
        ids.add(chunk.id)
    if pending:
        pending[-1].metadata["n_chunks"] = len(ids)
        store.add(pending, [c.id for c in pending])
        _trim_heap()
    return ids


def ingest(
    paths: Iterable[Path],
    settings: Settings,
    *,
    dry_run: bool = False,
    progress: Callable[[int, int], None] = lambda done, total: None,
    store=None,
) -> IngestReport:
    """Make the index hold exactly the supported files under ``paths`` (what it holds
    from elsewhere stays). ``progress`` is told bytes done and bytes in all.

    New chunks are written before a changed file's old ones are deleted, so an interrupted
    run leaves a file either old, new or both (detected and repaired by the next run).
    """
    from qa.store import Store

    began = time.perf_counter()
    paths = list(paths)
    files = list(discover(paths))
    fresh = not settings.chroma_url and not settings.index.is_dir()
    if store is None and not (dry_run and fresh):  # a dry run creates nothing
        store = Store(settings, create=not dry_run)
    indexed = store.sources() if store else {}
    report = IngestReport()
    sizes = {p: p.stat().st_size for p in files}
    total = sum(sizes.values())
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        progress(done, total)

    with store.writing() if store and not dry_run else nullcontext():
        wanted: set[str] = set()
        for path in files:
            file_end = done + sizes[path]
            name = source_name(path)
            wanted.add(name)
            loader = FileLoader(path, name)
            try:
                file_hash = loader.fingerprint()
                old = indexed.get(name)
                if old and old.complete and old.hashes == {file_hash}:
                    report.unchanged += 1
                else:
                    if not dry_run:
                        chunks = split(loader.lazy_load(), settings, file_hash)
                        new_ids = _write(store, chunks, advance)
                        store.delete([i for i in (old.ids if old else []) if i not in new_ids])
                    (report.updated if old else report.added).append(name)
            except BadDocumentError as e:  # raised before any chunk of the file is written
                log.info("skipped %s: %s", name, e)  # the caller reports skipped files
                report.skipped.append((name, str(e)))
            advance(max(0, file_end - done))  # a file's text is shorter than its bytes
        # A file under PATHS that is gone, or now unreadable, leaves the index; files
        # indexed from elsewhere are not this run's business.
        roots = [p.resolve() for p in paths]
        wanted -= {name for name, _ in report.skipped}
        for name, state in indexed.items():
            inside = any(Path(name).resolve().is_relative_to(root) for root in roots)
            if inside and name not in wanted:
                report.removed.append(name)
                if not dry_run:
                    store.delete(state.ids)
    report.chunks = sum(len(s.ids) for s in store.sources().values()) if store else 0
    report.seconds = time.perf_counter() - began
    return report
