"""The corpus over HTTP, by role: list (readers), upload (editors), delete and re-index
(admins). Writes take a turn on the model like answers do, so an answer never reads a half
written index; every write goes to the audit log.

- ``GET /api/documents?collection=NAME``: the collection's folder's files and their sizes;
- ``POST /api/documents`` (multipart ``files``): saved as the chat page saves them
  (``qa.interfaces.uploads``), then indexed;
- ``DELETE /api/documents/{name}?collection=NAME``: the file leaves the folder and the index
  (of the named collection; its folder is the one ``qa ingest`` indexed it from);
- ``POST /api/reindex``: the index synced to the folder.
"""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from starlette.datastructures import UploadFile as StarletteUploadFile

from qa.answering.chain import Answerer
from qa.errors import RefusedUploadError
from qa.interfaces import uploads
from qa.interfaces.auth import Door, client
from qa.interfaces.collections import Collections
from qa.interfaces.limits import Queue
from qa.interfaces.users import Action


async def named(request: Request) -> None:
    """Every part of an upload is a file with a name: one sent with an empty name arrives as
    text, which FastAPI's own check would call a wrong type."""
    form = await request.form()  # parsed once: the route's files are read from it
    if any(not isinstance(f, StarletteUploadFile) or not f.filename for f in form.getlist("files")):
        raise RefusedUploadError("a file has no name: send each file with its name")


def router(
    answerer: Answerer, queue: Queue, door: Door, caps: uploads.Caps, collections=None
) -> APIRouter:
    api = APIRouter()
    corpus = answerer.settings.corpus
    collections = collections or Collections(answerer)

    def user(request: Request, action: Action):
        return door.allow(request.state.user, action, client(request))

    def sync() -> Any:
        from qa.index.ingest import ingest

        corpus.mkdir(parents=True, exist_ok=True)
        report = ingest([corpus], answerer.settings, store=answerer.store)
        answerer.refresh()
        return report

    @api.get("/api/documents")
    def documents(request: Request, collection: str = "") -> dict[str, int]:
        where = collections.folder(collections.get(collection, user(request, Action.ASK)))
        files = sorted(p for p in where.rglob("*") if p.is_file()) if where.is_dir() else []
        return {str(p.relative_to(where)): p.stat().st_size for p in files}

    @api.post("/api/documents", dependencies=[Depends(named)])
    def upload(request: Request, files: list[UploadFile] = File(...)) -> dict[str, Any]:  # noqa: B008 (FastAPI's declaration)
        who = user(request, Action.UPLOAD)
        collections.get(None, who)  # uploads go to the default collection
        with tempfile.TemporaryDirectory() as tmp, queue.turn():
            given = []
            for i, f in enumerate(files):
                kept = Path(tmp) / str(i)
                kept.write_bytes(f.file.read(caps.file_mb * uploads.MB + 1))
                given.append((f.filename or "", kept))
            record = partial(door.audit.record, user=who.name, where=client(request))
            stored, report = uploads.add(
                given, corpus, caps, answerer.settings, store=answerer.store, record=record
            )
            answerer.refresh()
        saved = [p.name for p in stored.saved]
        return {"saved": saved, "unchanged": stored.same, "index": report.summary()}

    @api.delete("/api/documents/{name:path}")
    def delete(request: Request, name: str, collection: str = "") -> dict[str, str]:
        who = user(request, Action.DELETE)
        asker = collections.get(collection, who)
        folder = collections.folder(asker)
        uploads.document(folder, name)  # 404 before waiting for a turn
        with queue.turn():
            report = uploads.remove(folder, name, asker.settings, store=asker.store)
            asker.refresh()
        door.audit.record(
            "delete", who.name, client(request), file=name, collection=asker.settings.collection
        )
        return {"deleted": name, "index": report.summary()}

    @api.post("/api/reindex")
    def reindex(request: Request) -> dict[str, str]:
        who = user(request, Action.REINDEX)
        with queue.turn():
            report = sync()
        door.audit.record("reindex", who.name, client(request), summary=report.summary())
        return {"index": report.summary()}

    return api
