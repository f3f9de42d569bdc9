"""Uploaded documents into the corpus folder, safely: a clean name (no path parts, no hidden
file, nothing outside the folder), a type checked by content as well as by extension, a size
and count cap, an atomic write that never replaces a file or follows a link, and a failed
index leaves none of the new files behind. And out of it again: a document removed (file and
chunks), or replaced by a new version (the old one kept if the new cannot be indexed)."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qa.documents.loaders import MARKDOWN, SUFFIXES
from qa.errors import NoDocumentError, RefusedUploadError, TooLargeError
from qa.index.names import absolute

MB = 1024 * 1024
UNSAFE = re.compile(r"[^\w.\- ]+")  # \w is unicode: "Résumé.pdf" stays as it is
TEXT = {".txt", ".html", ".htm", ".csv", ".tsv", ".eml", ".mbox", *MARKDOWN}
# How each binary kind's bytes begin: Office Open XML, OpenDocument and EPUB are zip files.
ZIP = (b"PK\x03\x04",)
MAGIC = {
    ".pdf": (b"%PDF-",),
    **dict.fromkeys((".docx", ".pptx", ".xlsx", ".xlsm", ".odt", ".odp", ".ods", ".epub"), ZIP),
    ".xls": (b"\xd0\xcf\x11\xe0",),  # OLE2
    ".rtf": (b"{\\rtf",),
    ".png": (b"\x89PNG",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".tif": (b"II*\x00", b"MM\x00*"),
    ".tiff": (b"II*\x00", b"MM\x00*"),
}


@dataclass(frozen=True)
class Caps:
    file_mb: int
    files: int
    corpus_mb: int

    @classmethod
    def of(cls, settings) -> Caps:
        return cls(settings.max_upload_mb, settings.max_upload_files, settings.max_corpus_mb)

    @property
    def request_bytes(self) -> int:
        """The largest upload request worth reading: every file at its cap, and room for
        the multipart form's own lines."""
        return self.files * self.file_mb * MB + 64 * 1024


@dataclass
class Stored:
    """What an upload wrote: new files by their names in the corpus, same ones skipped."""

    saved: list[Path] = field(default_factory=list)
    same: list[str] = field(default_factory=list)


def clean_name(given: str) -> str:
    """The name an upload is saved under, or ``RefusedUploadError``: the last path part only,
    unsafe characters replaced, no leading dot, a supported extension."""
    name = unicodedata.normalize("NFC", given.replace("\\", "/").rsplit("/", 1)[-1])
    name = UNSAFE.sub("_", name).strip().lstrip(".").strip()
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem.strip("._- ") or f".{suffix.lower()}" not in SUFFIXES:
        raise RefusedUploadError(
            f"{given!r}: not a supported document ({', '.join(sorted(SUFFIXES))})"
        )
    return f"{stem[:100]}.{suffix.lower()}"


def check_content(name: str, data: bytes) -> None:
    """The bytes match the extension: a binary kind starts as its format does (a PDF with
    %PDF-, a .docx as a zip file), a text file is UTF-8 text."""
    suffix = Path(name).suffix.lower()
    if not data.strip():
        raise RefusedUploadError(f"{name}: empty")
    if suffix in MAGIC:
        if not data.startswith(MAGIC[suffix]):
            raise RefusedUploadError(f"{name}: its content is not a {suffix} file")
        return
    if suffix in TEXT:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RefusedUploadError(f"{name}: not UTF-8 text") from None
        if "\x00" in text:
            raise RefusedUploadError(f"{name}: binary data, not text")


def _read(source: Path, limit: int, name: str) -> bytes:
    """The uploaded file's bytes, never through a link, refused past ``limit`` bytes (the
    refusal names it ``name``: the name it was sent under, not where it was kept)."""
    fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise TooLargeError(f"{name}: larger than {limit // MB} MB")
    return data


def _corpus_bytes(corpus: Path) -> int:
    return sum(p.stat().st_size for p in corpus.rglob("*") if p.is_file() and not p.is_symlink())


def _place(corpus: Path, name: str, data: bytes) -> Path | None:
    """Write ``data`` under ``name`` (``name-1`` ... if another file has it); None if the same
    bytes are there already. Written to a hidden temp file, then linked into place: the link
    fails rather than replace a file or follow a link planted under that name."""
    tmp = corpus / f".upload-{os.getpid()}-{os.urandom(6).hex()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        stem, suffix = name.rsplit(".", 1)
        for n in range(1000):
            dest = corpus / (name if n == 0 else f"{stem}-{n}.{suffix}")
            if dest.is_file() and not dest.is_symlink() and dest.read_bytes() == data:
                return None
            try:
                os.link(tmp, dest, follow_symlinks=False)
                return dest
            except FileExistsError:
                continue
        raise RefusedUploadError(f"{name}: too many files of that name")
    finally:
        tmp.unlink(missing_ok=True)


def store_files(files: Sequence[tuple[str, Path]], corpus: Path, caps: Caps) -> Stored:
    """Check every file first (name, size, type, the corpus cap), then write them all; a
    refusal writes nothing. ``files``: (name the client gave, where its bytes are)."""
    if len(files) > caps.files:
        raise TooLargeError(f"{len(files)} files: at most {caps.files} in one upload")
    checked = []
    for given, source in files:
        name = clean_name(given)
        data = _read(source, caps.file_mb * MB, name)
        check_content(name, data)
        checked.append((name, data))
    corpus.mkdir(parents=True, exist_ok=True)
    total = _corpus_bytes(corpus) + sum(len(d) for _, d in checked)
    if total > caps.corpus_mb * MB:
        raise TooLargeError(f"the corpus would pass its cap of {caps.corpus_mb} MB")
    stored = Stored()
    for name, data in checked:
        placed = _place(corpus, name, data)
        if placed is None:
            stored.same.append(name)
        else:
            stored.saved.append(placed)
    return stored


def add(
    files: Sequence[tuple[str, Path]],
    corpus: Path,
    caps: Caps,
    settings,
    store=None,
    progress: Callable[[int, int], None] = lambda done, total: None,
    record: Callable[..., None] = lambda event, **fields: None,
):
    """Store ``files`` in ``corpus`` and index them: (``Stored``, the ingest report). A file
    the index cannot read is removed again, and if indexing fails all the new files are, so
    no half-added file stays in the corpus to be cited later. ``record(event, **fields)``
    is told what happened, for the audit log."""
    from qa.index.ingest import IngestReport, ingest, source_name

    try:
        stored = store_files(files, corpus, caps)
    except RefusedUploadError as e:
        record("upload-refused", files=[name for name, _ in files], reason=str(e))
        raise
    if not stored.saved:
        record("upload", files=[], same=stored.same)
        return stored, IngestReport()
    try:
        report = ingest(stored.saved, settings, store=store, progress=progress)
    except BaseException:
        for path in stored.saved:
            path.unlink(missing_ok=True)
        record("upload-failed", files=[p.name for p in stored.saved])
        raise
    skipped = {name for name, _ in report.skipped}
    for path in list(stored.saved):
        if source_name(path) in skipped:
            path.unlink(missing_ok=True)
            stored.saved.remove(path)
    record("upload", files=[p.name for p in stored.saved], same=stored.same)
    return stored, report


def document(folder: Path, name: str) -> Path:
    """The file ``name`` (relative to ``folder``) names, only if it is a file inside it. A
    link to a file is the document itself, as ingest names it (deleting it removes the
    link); its folder must be inside ``folder`` once links are followed."""
    root = folder.resolve()
    target = absolute(root / name)
    inside = target.is_relative_to(root) and target.parent.resolve().is_relative_to(root)
    if not inside or target == root or not target.is_file():
        raise NoDocumentError(name)
    return target


def remove(folder: Path, name: str, settings, store=None):
    """Delete document ``name`` from ``folder`` and its chunks from the index: that
    document alone (the rest of the folder, a file dropped in by hand too, is left to its
    sync or a re-index). The ingest report."""
    import time

    from qa.index.ingest import IngestReport, source_name
    from qa.index.store import Store

    began = time.perf_counter()
    target = document(folder, name)
    # Named as ingest named it: under the folder as given, or with its links followed.
    names = {source_name(folder / name), source_name(target)}
    target.unlink()
    store = store or Store(settings)
    report = IngestReport()
    with store.writing():
        for source in sorted(names & store.sources().keys()):
            store.prune(source)
            report.removed.append(source)
        report.chunks = store.lexical.count()
    report.seconds = time.perf_counter() - began
    return report


def replace(folder: Path, name: str, source: Path, caps: Caps, settings, store=None):
    """Put ``source``'s bytes in place of document ``name`` (the same type, by extension
    and content) and index the new version: the ingest report. If the new version cannot
    be indexed, the old one is put back and indexed again, and ``RefusedUploadError`` says
    why."""
    from qa.index.ingest import ingest, source_name

    target = document(folder, name)
    data = _read(source, caps.file_mb * MB, source.name)
    check_content(target.name, data)
    if _corpus_bytes(folder) - target.stat().st_size + len(data) > caps.corpus_mb * MB:
        raise TooLargeError(f"the corpus would pass its cap of {caps.corpus_mb} MB")
    old = target.read_bytes()

    def write(content: bytes) -> None:  # whole or not at all, as uploads are
        part = target.with_name(f".upload-{os.getpid()}-{os.urandom(6).hex()}")
        part.write_bytes(content)
        os.replace(part, target)

    write(data)
    try:
        report = ingest([target], settings, store=store)
    except BaseException:
        write(old)
        raise
    why = dict(report.skipped).get(source_name(target))
    if why is not None:
        write(old)
        ingest([target], settings, store=store)
        raise RefusedUploadError(f"{name}: {why}; the old version is kept")
    return report
