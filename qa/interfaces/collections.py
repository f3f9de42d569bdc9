"""Several collections on one server: each a Chroma collection with its lexical index, in
the same index folder. The default one is the server's own ``Answerer``; the others get
theirs when first asked, sharing its model (one model in memory, one turn at a time)."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from qa.answering.chain import Answerer
from qa.config import Settings
from qa.errors import NoCollectionError

PREFIX = "docqa/"  # the OpenAI-compatible endpoint's model name for a collection


@dataclass
class Size:
    name: str
    files: int
    chunks: int


def _folders_file(settings: Settings) -> Path:
    return settings.index / "collections.json"


def remember(settings: Settings, folder: Path) -> None:
    """Record ``folder`` as the corpus folder of ``settings.collection`` (by ``qa ingest``)."""
    path = _folders_file(settings)
    if settings.chroma_url or not settings.index.is_dir():
        return
    known = json.loads(path.read_text()) if path.exists() else {}
    known[settings.collection] = str(folder.resolve())
    part = path.with_suffix(".tmp")
    part.write_text(json.dumps(known, indent=1, sort_keys=True))
    os.replace(part, path)  # whole or not at all


def folder_of(settings: Settings) -> Path:
    """The corpus folder of ``settings.collection``: as ingested, else ``settings.corpus``."""
    path = _folders_file(settings)
    known = json.loads(path.read_text()) if path.exists() else {}
    return Path(known[settings.collection]) if settings.collection in known else settings.corpus


def names(settings: Settings) -> list[str]:
    """The collections the index holds."""
    from qa.index.store import chroma_client

    if not settings.chroma_url and not settings.index.is_dir():
        return []
    return sorted(getattr(c, "name", c) for c in chroma_client(settings).list_collections())


def sizes(settings: Settings) -> list[Size]:
    """Each collection with its files and chunks (read from its lexical index)."""
    from qa.index.lexical import Lexical, lexical_path

    found = []
    for name in names(settings):
        path = lexical_path(settings.with_overrides(collection=name))
        sources = {}
        if path.exists():
            lexical = Lexical(path)
            try:
                sources = lexical.sources()
            finally:
                lexical.close()
        found.append(Size(name, len(sources), sum(s.chunks for s in sources.values())))
    return found


class Collections:
    """The server's answerers by collection name."""

    def __init__(self, default: Answerer) -> None:
        self.default = default
        self._answerers = {default.settings.collection: default}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return names(self.default.settings)

    def get(self, name: str | None) -> Answerer:
        """The answerer of collection ``name`` (None or "": the default)."""
        name = name or self.default.settings.collection
        with self._lock:
            if name in self._answerers:
                return self._answerers[name]
            known = self.names()
            if name not in known:
                raise NoCollectionError(name, known)
            settings = self.default.settings.with_overrides(collection=name)
            answerer = Answerer(settings, llm=self.default.llm)
            self._answerers[name] = answerer
            return answerer

    def by_model(self, model: str) -> Answerer:
        """The answerer an OpenAI model name names: ``docqa`` or ``docqa/NAME``."""
        return self.get(model[len(PREFIX) :] if model.startswith(PREFIX) else None)
