"""The Chroma index: an embedded persistent store or a Chroma server, one collection.

The collection's metadata records which embedding model built it, so that querying with
another model fails clearly instead of returning nonsense.
"""

from __future__ import annotations

import fcntl
import os
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlparse

from langchain_core.documents import Document

from qa.config import Settings
from qa.embeddings import load_embeddings, model_id
from qa.errors import BackendError, IndexBusyError, ModelMismatchError, NoIndexError


def searchable(chunk: Document) -> str:
    """What a chunk is found by: its text under its section path, since a heading says what
    the text below it is about ("CREATE INDEX › Parameters")."""
    section = chunk.metadata.get("section")
    return f"{section}\n{chunk.page_content}" if section else chunk.page_content


@dataclass
class SourceState:
    """What the index holds for one source file."""

    hashes: set[str] = field(default_factory=set)
    ids: list[str] = field(default_factory=list)
    expected: int = 0  # chunk count, carried by the file's last chunk once it is written

    @property
    def complete(self) -> bool:
        return len(self.hashes) == 1 and len(self.ids) == self.expected


def _client(settings: Settings):
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
    return chromadb.PersistentClient(path=str(settings.index), settings=chroma_settings)


class Store:
    """One collection of chunks with their source offsets."""

    def __init__(self, settings: Settings, *, create: bool = False) -> None:
        from langchain_chroma import Chroma

        self.settings = settings
        self.where = settings.chroma_url or str(settings.index)
        if not settings.chroma_url and not create and not settings.index.is_dir():
            raise NoIndexError(settings.index)
        self.client = _client(settings)
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
            settings.embed_model, settings.cache_dir, settings.threads
        )
        self.vectors = Chroma(
            collection_name=settings.collection,
            client=self.client,
            embedding_function=self.embeddings,
            collection_metadata={"embed_model": self.model},
        )
        # Chunks are written with vectors computed here (of their searchable text), so the
        # collection needs no embedding function of its own.
        self.collection = self.client.get_or_create_collection(
            settings.collection, embedding_function=None
        )

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

    def sources(self) -> dict[str, SourceState]:
        states: dict[str, SourceState] = defaultdict(SourceState)
        got = self.vectors.get(include=["metadatas"])
        for chunk_id, meta in zip(got["ids"], got["metadatas"], strict=True):
            state = states[meta["source"]]
            state.hashes.add(meta["file_hash"])
            state.ids.append(chunk_id)
            state.expected = max(state.expected, meta["n_chunks"])
        return dict(states)

    def add(self, chunks: list[Document], ids: list[str]) -> None:
        self.collection.upsert(
            ids=ids,
            embeddings=self.embeddings.embed_documents([searchable(c) for c in chunks]),
            documents=[c.page_content for c in chunks],
            metadatas=[c.metadata for c in chunks],
        )

    def delete(self, ids: list[str]) -> None:
        if ids:
            self.vectors.delete(ids=ids)

    def chunks(self) -> list[Document]:
        """Every chunk, in source order (for lexical search and neighbouring context)."""
        got = self.vectors.get(include=["documents", "metadatas"])
        docs = [
            Document(page_content=text, metadata=meta, id=chunk_id)
            for chunk_id, text, meta in zip(
                got["ids"], got["documents"], got["metadatas"], strict=True
            )
        ]
        return sorted(docs, key=lambda d: (d.metadata["source"], d.metadata["start"]))

    def search(self, query: str, k: int) -> list[tuple[Document, float]]:
        """Nearest chunks with cosine similarity (unit vectors: squared L2 d gives 1 - d/2)."""
        if k <= 0:
            return []
        hits = self.vectors.similarity_search_with_score(query, k=k)
        return [(doc, 1.0 - score / 2.0) for doc, score in hits]
