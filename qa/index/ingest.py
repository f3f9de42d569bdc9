"""Ingestion: sync an index to a set of files (add new, replace changed, remove gone)."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from qa.config import Settings
from qa.documents.blocks import Reading
from qa.documents.loaders import FileLoader, reading, supported
from qa.errors import BadDocumentError, NoIndexError
from qa.index.lexical import Lexical, SourceState, lexical_path
from qa.index.names import absolute, discover, shown, source_name, under
from qa.index.writer import Writer
from qa.text import counted

if TYPE_CHECKING:  # the store imports Chroma: loaded only when there is work
    from qa.index.store import Store

log = logging.getLogger(__name__)


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
            f"{self.unchanged} unchanged; {counted(self.chunks, 'chunk')}; "
            f"{self.seconds:.1f} s"
        )

    def skipped_of(self, paths: Iterable[Path]) -> list[str]:
        """The skipped files among ``paths`` named on their own (not found in a folder)."""
        named = {shown(source_name(p)) for p in paths if p.is_file()}
        return [name for name, _ in self.skipped if name in named]


def splitter(settings: Settings) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
        keep_separator="end",
        add_start_index=True,
    )


def chunked(fingerprint: str, settings: Settings) -> str:
    """The fingerprint a file's chunks carry: its bytes' and, where the chunking is not the
    default, the chunking's, so that a changed --chunk-size or --chunk-overlap splits the
    file again (indexes made at the defaults keep their fingerprints)."""
    chunking = (settings.chunk_size, settings.chunk_overlap)
    default = {f.name: f.default for f in fields(Settings)}
    if chunking == (default["chunk_size"], default["chunk_overlap"]):
        return fingerprint
    return hashlib.sha256(f"{fingerprint}\0chunks {chunking}".encode()).hexdigest()


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


def _guarded(name: str, chunks: Iterator[Document]) -> Iterator[Document]:
    """A file's chunks as read and split, an unexpected error there made the file's skip
    (the index's writes happen outside this generator: their errors still stop ingest)."""
    with reading(name):
        yield from chunks


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
    began = time.perf_counter()
    paths = list(paths)
    files = list(discover(paths))
    fresh = not settings.chroma_url and not settings.index.is_dir()
    indexed, store = ({}, store) if fresh else _indexed(settings, store, create=not dry_run)
    report = IngestReport()
    for path in paths:  # a file named on its own is said to be skipped, not left out unsaid
        if path.is_file() and not supported(path):
            kind = path.suffix or "no extension"
            report.skipped.append((shown(source_name(path)), f"not a type docqa reads ({kind})"))
    sizes = {p: p.stat().st_size for p in files}
    total = sum(sizes.values())
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        progress(done, total)

    # What changed, from fingerprints alone: an unchanged corpus loads no model and no store.
    todo: list[tuple[Path, FileLoader, str]] = []
    how = Reading.of(settings)
    for path in files:
        loader = FileLoader(path, source_name(path), how)
        try:
            if shown(loader.name) != loader.name:  # Chroma stores names as UTF-8 only
                raise BadDocumentError("its name is not valid UTF-8: rename it")
            with reading(loader.name):  # only the file is read here: its error is the file's
                file_hash = chunked(loader.fingerprint(), settings)
        except BadDocumentError as e:
            log.info("skipped %s: %s", shown(loader.name), e)  # the caller reports them
            report.skipped.append((shown(loader.name), str(e)))
            advance(sizes[path])
            continue
        old = indexed.get(loader.name)
        if old and old.complete and old.hashes == {file_hash}:
            report.unchanged += 1
            advance(sizes[path])
        else:
            todo.append((path, loader, file_hash))
    # A file under PATHS that is gone, or now unreadable, leaves the index; files indexed
    # from elsewhere are not this run's business.
    wanted = {source_name(p) for p in files} - {name for name, _ in report.skipped}
    roots = [(absolute(p), p.resolve()) for p in paths]  # each exists (discover)
    gone = [name for name in indexed if name not in wanted and under(name, roots)]
    if dry_run:
        for _, loader, _ in todo:
            (report.updated if loader.name in indexed else report.added).append(loader.name)
        report.removed = gone
        report.seconds = time.perf_counter() - began
        return report
    if store is None and (todo or gone or fresh):
        from qa.index.store import Store

        store = Store(settings, create=True)
    if store is not None:
        with store.writing():
            _apply(store, settings, todo, gone, indexed, report, sizes, advance)
        report.chunks = store.lexical.count()
    else:
        report.chunks = sum(s.chunks for s in indexed.values())
    report.seconds = time.perf_counter() - began
    return report


def _indexed(
    settings: Settings, store: Store | None, create: bool
) -> tuple[dict[str, SourceState], Store | None]:
    """What the index holds, read from the lexical index alone when it is on disk (no store
    is opened then), and the store, when one was opened."""
    if store is None and not settings.chroma_url and lexical_path(settings).exists():
        lexical = Lexical(lexical_path(settings))
        try:
            return lexical.sources(), None
        finally:
            lexical.close()
    if store is None:
        from qa.index.store import Store

        try:
            store = Store(settings, create=create)
        except NoIndexError:
            if create:
                raise
            return {}, None  # a collection not made yet holds nothing: a dry run adds all
    return store.sources(), store


def _apply(
    store: Store,
    settings: Settings,
    todo: list[tuple[Path, FileLoader, str]],
    gone: list[str],
    indexed: dict[str, SourceState],
    report: IngestReport,
    sizes: dict[Path, int],
    advance: Callable[[int], None],
) -> None:
    """Write the changed files, then remove the gone ones (and any that failed to load)."""
    failed = []  # new files that failed to load: a batch may hold their first chunks
    with ThreadPoolExecutor(1, thread_name_prefix="embed") as pool:
        writer = Writer(store, advance, pool)
        for path, loader, file_hash in todo:
            try:
                chunks = _guarded(loader.name, split(loader.lazy_load(), settings, file_hash))
                writer.file(loader.name, chunks, sizes[path])
                (report.updated if loader.name in indexed else report.added).append(loader.name)
            except BadDocumentError as e:
                log.info("skipped %s: %s", loader.name, e)
                report.skipped.append((loader.name, str(e)))
                (gone if loader.name in indexed else failed).append(loader.name)
            advance(sizes[path] - writer.advanced)  # the rest of its bytes
        writer.finish()
    for name in failed:
        store.prune(name)
    for name in gone:
        report.removed.append(name)
        store.prune(name)
