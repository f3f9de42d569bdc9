"""The index: vectors in Chroma (an embedded persistent store or a Chroma server, one
collection) and, beside them, the lexical index (qa.index.lexical), written together.

The collection's metadata records which embedding model built it, so that querying with
another model fails clearly instead of returning nonsense.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlparse

from langchain_core.documents import Document

from qa.config import Settings
from qa.errors import BackendError, IndexBusyError, ModelMismatchError, NoIndexError, UsageError
from qa.index.lexical import Lexical, SourceState, lexical_path, searchable

log = logging.getLogger(__name__)

REBUILD_BATCH = 1000  # chunks read back per request when the lexical index is rebuilt


def chroma_client(settings: Settings):
    """The Chroma client for ``settings``: a server's, or the embedded store's."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as e:  # chromadb raises bare Exception/ValueError when unreachable
            raise BackendError(f"cannot reach Chroma at {settings.chroma_url}: {e}") from None
    # The folder is made here, where a failure can be said in one line (Chroma's own
    # attempt fails with a traceback: "File exists", "Not a directory").
    if settings.index.exists() and not settings.index.is_dir():
        raise UsageError(f"--index {settings.index} is a file, not a folder")
    try:
        settings.index.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--index {settings.index}: cannot make it ({e.strerror})") from None
    return chromadb.PersistentClient(path=str(settings.index), settings=chroma_settings)


@dataclass(frozen=True)
class Summary:
    """What an index holds, as ``qa status``, ``/api/status`` and the chat page show it."""

    where: str  # the index folder, or the Chroma server
    collection: str
    model: str  # the embedding model's identity
    files: dict[str, int]  # source -> its chunks, by name
    incomplete: list[str]  # sources partly indexed

    @property
    def chunks(self) -> int:
        return sum(self.files.values())


def require_index(settings: Settings) -> None:
    """Raise ``NoIndexError`` when the embedded index's folder is missing (a look at the
    folder, nothing loaded: a one-off ``qa ask`` says so before it loads a model)."""
    if not settings.chroma_url and not settings.index.is_dir():
        raise NoIndexError(settings.index)


class Store:
    """One collection of chunks with their source offsets."""

    def __init__(self, settings: Settings, *, create: bool = False) -> None:
        # Imported here: a one-off `qa ask` imports this module for ``require_index`` alone
        # before its model starts loading, and the embeddings bring numpy and more (0.2 s).
        from qa.models.embeddings import load_embeddings, model_id
        from qa.models.tuning import recorded

        self.settings = settings
        self.where = settings.chroma_url or str(settings.index)
        if not create:
            require_index(settings)
        self.client = chroma_client(settings)
        names = {getattr(c, "name", c) for c in self.client.list_collections()}
        if settings.collection not in names and not create:
            raise NoIndexError(f"{self.where} (collection {settings.collection!r})")
        self.model = model_id(settings.embed_model)
        built_with = (
            (self.client.get_collection(settings.collection).metadata or {}).get("embed_model")
            if settings.collection in names
            else None
        )
        if built_with and built_with != self.model:
            raise ModelMismatchError(built_with, self.model)
        self.embeddings = load_embeddings(
            settings.embed_model, settings.cache_dir, settings.threads, partial(recorded, settings)
        )
        # Chunks are written and searched with vectors computed here (of their searchable
        # text), so the collection needs no embedding function of its own; Chroma's client is
        # called directly (langchain-chroma's wrapper cost ingest and every `qa ask` half a
        # CPU second to import, for one query call).
        self.collection = self.client.get_or_create_collection(
            settings.collection, embedding_function=None, metadata={"embed_model": self.model}
        )
        self.lexical = self._open_lexical(create)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the index's write lock; a second writer stops with a clear message."""
        if self.settings.chroma_url:
            yield  # the server serialises writes itself
            return
        fd = os.open(self.settings.index / ".write.lock", os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise IndexBusyError(f"another qa ingest is writing to {self.where}") from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _open_lexical(self, create: bool) -> Lexical:
        """The lexical index of this collection; an index built before it had one gets it
        once, read back from the vectors (with a Chroma server, only by a writer)."""
        path = lexical_path(self.settings)
        if self.settings.chroma_url and not path.exists() and not create:
            # A replica reading a server's vectors must not download the corpus to build it.
            raise NoIndexError(f"{path} (the lexical index that qa ingest writes)")
        lexical = Lexical(path)
        held = self.collection.count()
        if held and not lexical.count():
            log.info("building the lexical index of %d chunks (once)", held)
            with lexical.transaction():  # whole or not at all
                for offset in range(0, held, REBUILD_BATCH):
                    got = self.collection.get(
                        include=["documents", "metadatas"], limit=REBUILD_BATCH, offset=offset
                    )
                    lexical.add(
                        [
                            Document(page_content=text, metadata=meta, id=chunk_id)
                            for chunk_id, text, meta in zip(
                                got["ids"], got["documents"], got["metadatas"], strict=True
                            )
                        ]
                    )
        return lexical

    def sources(self) -> dict[str, SourceState]:
        return self.lexical.sources()

    def summary(self) -> Summary:
        sources = self.sources()
        return Summary(
            self.where,
            self.settings.collection,
            self.model,
            {name: s.chunks for name, s in sorted(sources.items())},
            [name for name, s in sources.items() if not s.complete],
        )

    def mismatch(self) -> tuple[int, int] | None:
        """(lexical, vector) chunk counts when the two sides disagree, else None."""
        counts = self.lexical.count(), self.collection.count()
        return counts if counts[0] != counts[1] else None

    def embed(self, chunks: list[Document]) -> list[list[float]]:
        """The chunks' vectors (of their searchable text); safe to run beside ``add``."""
        return self.embeddings.embed_documents([searchable(c) for c in chunks])

    def add(self, chunks: list[Document], vectors: list[list[float]]) -> None:
        """Write chunks and their vectors (``embed``) to both sides: the lexical rows commit
        only once the vectors are in, so a kill leaves at most vectors the lexical index
        lacks (``prune`` removes them)."""
        with self.lexical.transaction():
            self.lexical.add(chunks)
            self.collection.upsert(
                ids=[c.id for c in chunks],
                embeddings=vectors,
                documents=[c.page_content for c in chunks],
                metadatas=[c.metadata for c in chunks],
            )

    def prune(self, source: str, keep: set[str] = frozenset()) -> None:
        """Remove the source's chunks other than ``keep``, from both sides, including any
        vectors a killed run wrote without their lexical rows."""
        held = set(self.collection.get(where={"source": source}, include=[])["ids"])
        held |= set(self.lexical.ids(source))
        gone = sorted(held - keep)
        if gone:
            with self.lexical.transaction():
                self.lexical.delete(gone)
                self.collection.delete(ids=gone)

    def chunks(self) -> list[Document]:
        """Every chunk, in source order (reads the whole index: for rebuilding documents)."""
        return list(self.lexical.chunks())

    def search(self, query: str, k: int) -> list[tuple[Document, float]]:
        """Nearest chunks with cosine similarity (unit vectors: squared L2 d gives 1 - d/2)."""
        if k <= 0:
            return []
        found = self.collection.query(
            query_embeddings=[self.embeddings.embed_query(query)],
            n_results=k,
            include=["documents", "metadatas", "distances"],
        )
        return [
            (Document(page_content=text, metadata=meta or {}, id=chunk_id), 1.0 - d / 2.0)
            for text, meta, chunk_id, d in zip(
                found["documents"][0],
                found["metadatas"][0],
                found["ids"][0],
                found["distances"][0],
                strict=True,
            )
            if text is not None
        ]
