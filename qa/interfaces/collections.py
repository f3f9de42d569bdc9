"""Several collections on one server: each a Chroma collection with its lexical index, in
the same index folder. The default one is the server's own ``Answerer``; the others get
theirs when first asked, sharing its model (one model in memory, one turn at a time).

What the index records of each collection is ``INDEX/collections.json``: its folder (by
``qa ingest FOLDER --collection NAME``) and, where it is limited, the users who may ask it
(``qa collections allow NAME USER...``)::

    {"ferries": {"folder": "/srv/docs/ferries", "users": ["ana", "ed"]}}

A collection without ``users`` is open to every signed-in user; admins (and everyone on a
server without users) may ask every collection. ``Collections.get`` and ``Collections.names``
are where a collection is resolved for a user: the API, the documents API and MCP call them.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qa.config import Settings
from qa.errors import ForbiddenError, NoCollectionError, NoModelError, UsageError
from qa.interfaces.users import Role, User

if TYPE_CHECKING:
    from qa.answering.chain import Answerer
    from qa.index.watch import Watcher

log = logging.getLogger(__name__)
MODEL = "docqa"  # the OpenAI-compatible endpoint's model name for the served collection
PREFIX = "docqa/"  # and for another: docqa/NAME


@dataclass
class Size:
    name: str
    files: int
    chunks: int
    users: list[str] | None = None  # None: open to every signed-in user


def _folders_file(index: Path) -> Path:
    return index / "collections.json"


def _records(index: Path) -> dict[str, dict]:
    """Each collection's record in ``index`` (an older file mapped a name to its folder alone)."""
    path = _folders_file(index)
    known = json.loads(path.read_text()) if path.exists() else {}
    return {n: {"folder": r} if isinstance(r, str) else r for n, r in known.items()}


def _record(settings: Settings, name: str, **fields) -> None:
    """Set ``fields`` in collection ``name``'s record (None: remove the field)."""
    path = _folders_file(settings.index)
    known = _records(settings.index)
    record = {**known.get(name, {}), **fields}
    known[name] = {k: v for k, v in record.items() if v is not None}
    part = path.with_suffix(".tmp")
    part.write_text(json.dumps(known, indent=1, sort_keys=True))
    os.replace(part, path)  # whole or not at all


def remember(settings: Settings, folder: Path) -> None:
    """Record ``folder`` as the corpus folder of ``settings.collection`` (by ``qa ingest``)."""
    if settings.chroma_url or not settings.index.is_dir():
        return
    _record(settings, settings.collection, folder=str(folder.resolve()))


def recorded_folder(settings: Settings, name: str) -> Path | None:
    """The folder ``qa ingest`` recorded for collection ``name`` (None: none was)."""
    folder = _records(settings.index).get(name, {}).get("folder")
    return Path(folder) if folder else None


def folder_of(settings: Settings) -> Path:
    """The corpus folder of ``settings.collection``: as ingested, else ``settings.corpus``."""
    return recorded_folder(settings, settings.collection) or settings.corpus


def limited_to(settings: Settings, name: str) -> list[str] | None:
    """The users who may ask collection ``name`` besides admins (None: everyone)."""
    return _records(settings.index).get(name, {}).get("users")


def may_ask(settings: Settings, name: str, user: User | None) -> bool:
    """Whether ``user`` may ask collection ``name``, see it listed and read its documents."""
    return may_ask_in(settings.index, name, user)


def may_ask_in(index: Path, name: str, user: User | None) -> bool:
    """``may_ask`` for the collections of index folder ``index`` (where the conversations
    file is, which knows no settings)."""
    if user is None:
        return False
    allowed = _records(index).get(name, {}).get("users")
    return user.role is Role.ADMIN or allowed is None or user.name in allowed


def who(request) -> User | None:
    """The user the door let in (None where no door stands: nothing is limited then)."""
    return getattr(request.state, "user", None)


def limit(settings: Settings, name: str, users: list[str] | None) -> None:
    """Limit collection ``name`` to ``users`` (and admins); None: open it to everyone."""
    if name not in names(settings):
        raise NoCollectionError(name, names(settings))
    if not settings.index.is_dir():
        raise UsageError(f"no index folder at {settings.index} to record the limit in")
    _record(settings, name, users=None if users is None else sorted(set(users)))


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
        chunks = sum(s.chunks for s in sources.values())
        found.append(Size(name, len(sources), chunks, limited_to(settings, name)))
    return found


class Collections:
    """The server's answerers by collection name, each resolved for the user asking."""

    def __init__(self, default: Answerer) -> None:
        self.default = default
        self._answerers = {default.settings.collection: default}
        self._lock = threading.Lock()

    def names(self, user: User | None = None) -> list[str]:
        """The collections (those ``user`` may ask, when one is given)."""
        found = names(self.default.settings)
        if user is None:
            return found
        return [n for n in found if may_ask(self.default.settings, n, user)]

    def get(self, name: str | None, user: User | None = None) -> Answerer:
        """The answerer of collection ``name`` (None or "": the default); with ``user``,
        only if they may ask it (``ForbiddenError``, 403)."""
        name = name or self.default.settings.collection
        if user is not None and not may_ask(self.default.settings, name, user):
            if name in names(self.default.settings):
                raise ForbiddenError(user.name, user.role.value, f"ask the collection {name!r}")
            raise NoCollectionError(name, self.names(user))
        with self._lock:
            if name in self._answerers:
                return self._answerers[name]
            known = self.names()
            if name not in known:
                raise NoCollectionError(name, self.names(user))
            from qa.answering.chain import Answerer  # here: `qa ingest` imports this module

            settings = self.default.settings.with_overrides(collection=name)
            answerer = Answerer(settings, llm=self.default.llm)
            self._answerers[name] = answerer
            return answerer

    def folder(self, asker: Answerer) -> Path:
        """Where a collection's documents are: the served one's corpus folder; another's,
        the folder ``qa ingest`` recorded (``UsageError`` where none was: its files came
        from elsewhere, and no other folder is theirs to change)."""
        name = asker.settings.collection
        if (folder := self._folder(name)) is None:
            raise UsageError(
                f"collection {name!r} has no folder recorded (qa ingest FOLDER --collection {name})"
            )
        return folder

    def _folder(self, name: str) -> Path | None:
        """The served collection's corpus folder, or the one recorded for ``name``."""
        default = self.default.settings
        return default.corpus if name == default.collection else recorded_folder(default, name)

    def model_names(self, user: User | None = None) -> list[str]:
        """The OpenAI model names ``user`` may ask: ``docqa`` (the served collection, unless
        it is limited against them) and ``docqa/NAME``."""
        names = self.names(user)
        served = [MODEL] if self.default.settings.collection in names else []
        return [*served, *(PREFIX + name for name in names)]

    def by_model(self, model: str, user: User | None = None) -> Answerer:
        """The answerer an OpenAI model name names: ``docqa`` or ``docqa/NAME``; any other
        name is a ``NoModelError`` (not the served collection's answer)."""
        if model == MODEL:
            return self.get(None, user)
        if model.startswith(PREFIX) and model != PREFIX:
            return self.get(model[len(PREFIX) :], user)
        raise NoModelError(model, self.model_names(user))

    def watchers(
        self, guard: Callable[[], AbstractContextManager], debounce: float, scan_every: float
    ) -> list[Watcher]:
        """A watcher for each collection's folder (``qa serve --watch``), the default's first:
        its corpus folder; another's, the folder ``qa ingest`` recorded for it (one with none
        recorded is not watched: its files came from elsewhere). Syncs take ``guard``; a
        file removed from a watched folder is not cited even before its sync."""
        from qa.index.watch import Watcher

        default = self.default.settings
        made = []
        for name in [default.collection, *(n for n in self.names() if n != default.collection)]:
            if (folder := self._folder(name)) is None:
                log.warning("collection %s has no folder recorded: not watched", name)
                continue
            answerer = self.get(name)
            watcher = Watcher(
                folder,
                answerer.settings,
                store=answerer.store,
                guard=guard,
                after=answerer.refresh,
                debounce=debounce,
                scan_every=scan_every,
            )
            answerer.present = watcher.present
            made.append(watcher)
        return made
