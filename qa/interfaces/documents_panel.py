"""The chat page's Documents panel, for the collection chosen on the page (the chooser, or a
reopened conversation's): its documents with their state (indexed with its chunks,
incomplete, not indexed), documents added (editors), and a chosen one deleted or replaced by
a new version (admins; deleting asks for a second click). Each action is checked against the
signed-in user's role by the door and against the collection's limit by ``Collections.get``;
writes take a turn on the model, as answers do, so no answer reads a half-written index."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import gradio as gr

from qa.answering.chain import Answerer
from qa.documents.loaders import SUFFIXES
from qa.errors import QAError
from qa.interfaces import uploads
from qa.interfaces.auth import Door, client
from qa.interfaces.collections import Collections
from qa.interfaces.sidebar import CONFIRM, DELETE, Current
from qa.interfaces.users import Action
from qa.text import counted

UPLOAD_TYPES = sorted(SUFFIXES)


def listing(asker: Answerer, folder: Path | None) -> tuple[str, list[str]]:
    """The collection's documents as the panel lists them, and the names of those in its
    folder (relative to it: what may be deleted or replaced)."""
    from qa.index.ingest import source_name

    sources = asker.store.sources()
    files = (
        sorted(p for p in folder.rglob("*") if p.is_file()) if folder and folder.is_dir() else []
    )
    rows, names, seen = [], [], set()
    for path in files:
        if path.name.startswith("."):  # an upload being written
            continue
        name, source = str(path.relative_to(folder)), source_name(path)
        held = sources.get(source)
        seen.add(source)
        names.append(name)
        if held is None:
            state = "not indexed (unsupported, unreadable, or waiting for its sync)"
        else:
            state = counted(held.chunks, "chunk") + ("" if held.complete else ", incomplete")
        rows.append((name, state))
    rows += [
        (s, counted(h.chunks, "chunk") + ", indexed from elsewhere")
        for s, h in sources.items()
        if s not in seen
    ]
    items = "".join(f"<li><code>{html.escape(n)}</code> · {html.escape(s)}</li>" for n, s in rows)
    chunks = sum(h.chunks for h in sources.values())
    head = (
        f"<p>Collection <code>{html.escape(asker.settings.collection)}</code>: "
        f"{counted(len(rows), 'file')}, {counted(chunks, 'chunk')}, embedding model "
        f"<code>{html.escape(asker.store.model)}</code></p>"
    )
    return head + f"<ul>{items}</ul>", names


@dataclass
class Panel:
    """The panel's components the page's other events update."""

    summary: gr.HTML
    chosen: gr.Dropdown
    files: gr.File
    manage: gr.Row

    @property
    def outputs(self) -> list:
        return [self.summary, self.chosen]


class Documents:
    """The panel's handlers, for the user behind each event and the session's collection."""

    def __init__(self, collections: Collections, turns, door: Door, syncs: dict) -> None:
        self.collections, self.turns, self.door, self.syncs = collections, turns, door, syncs

    def resolve(self, current: Current, request: gr.Request, action: Action):
        """(the user, if they may do ``action``; the chosen collection's answerer for them)."""
        user = self.door.page_user(request, action)
        return user, self.collections.get(current.collection, user)

    def folder(self, asker: Answerer) -> Path | None:
        try:
            return self.collections.folder(asker)
        except QAError:  # no folder recorded: listed, not changed from here
            return None

    def shown(self, current: Current, request: gr.Request):
        """The chosen collection's documents, and the names to choose from."""
        try:
            _, asker = self.resolve(current, request, Action.ASK)
        except QAError as e:
            return f"<p>⚠️ {html.escape(str(e))}</p>", gr.update(choices=[], value=None)
        text, names = listing(asker, self.folder(asker))
        return text, gr.update(choices=names, value=None)

    def ticked(self, current: Current, request: gr.Request):
        """Every 2 s (qa serve --watch): the chosen collection's sync and documents."""
        state = self.syncs.get(current.collection)
        line = state.line() if state else f"Collection {current.collection} is not watched."
        return line, self.shown(current, request)[0]

    def rights(self, request: gr.Request):
        """Delete and replace only for those who may delete documents."""
        user = self.door.named(getattr(request, "username", None))
        return gr.update(visible=user is not None and user.can(Action.DELETE))

    def written(self, current, request, action: Action, write: Callable) -> tuple[str, str, dict]:
        """Run ``write(user, asker, folder)`` on the chosen collection in a model turn: the
        status line it returns (or the error), the listing, the names."""
        try:
            user, asker = self.resolve(current, request, action)
            folder = self.collections.folder(asker)
            with self.turns.turn():
                said = write(user, asker, folder)
                asker.refresh()
        except QAError as e:
            said = f"⚠️ {e}"
        return said, *self.shown(current, request)

    def upload(
        self,
        files: list[str] | None,
        current: Current,
        request: gr.Request,
        progress=gr.Progress(),  # noqa: B008 (Gradio injects it)
    ):
        if not files:
            return "", *self.shown(current, request), None

        def write(user, asker, folder) -> str:
            _, report = uploads.add(
                [(Path(f).name, Path(f)) for f in files],
                folder,
                uploads.Caps.of(asker.settings),
                asker.settings,
                store=asker.store,
                progress=lambda done, total: progress(done / max(total, 1), desc="indexing"),
                record=partial(self.door.audit.record, user=user.name, where=client(request)),
            )
            lines = [f"Indexed: {report.summary()} (collection {asker.settings.collection})"]
            return "\n\n".join(lines + [f"⚠️ skipped {n}: {why}" for n, why in report.skipped])

        return *self.written(current, request, Action.UPLOAD, write), None

    def delete(self, name: str | None, armed, current: Current, request: gr.Request):
        """The chosen document out of its folder and the index, at the second click."""
        if not name:
            return "Choose a document first.", gr.skip(), gr.skip(), None, DELETE
        target = (current.collection, name)
        if armed != target:  # the first click: asks, once the user may delete at all
            try:
                self.resolve(current, request, Action.DELETE)
            except QAError as e:
                return f"⚠️ {e}", gr.skip(), gr.skip(), None, DELETE
            ask = f"Delete {name} from collection {current.collection}? Click Delete again."
            return ask, gr.skip(), gr.skip(), target, CONFIRM

        def write(user, asker, folder) -> str:
            report = uploads.remove(folder, name, asker.settings, store=asker.store)
            self.door.audit.record(
                "delete", user.name, client(request), file=name, collection=current.collection
            )
            return f"Deleted {name}: {report.summary()}"

        return *self.written(current, request, Action.DELETE, write), None, DELETE

    def replace(self, new: str | None, name: str | None, current: Current, request: gr.Request):
        """The chosen document replaced by the file given (of the same type)."""
        if not new or not name:
            return (
                "Choose the document to replace first." if new else "",
                gr.skip(),
                gr.skip(),
                None,
            )

        def write(user, asker, folder) -> str:
            caps = uploads.Caps.of(asker.settings)
            report = uploads.replace(folder, name, Path(new), caps, asker.settings, asker.store)
            self.door.audit.record(
                "replace", user.name, client(request), file=name, collection=current.collection
            )
            return f"Replaced {name}: {report.summary()}"

        return *self.written(current, request, Action.DELETE, write), None

    def build(self, current: gr.State) -> Panel:
        """The panel's components and events, inside the page's Blocks."""
        with gr.Accordion("Documents", open=False):
            summary = gr.HTML("<p>Loading…</p>", elem_id="qa-index")
            files = gr.File(
                label=f"Add documents ({', '.join(UPLOAD_TYPES)})",
                file_count="multiple",
                file_types=UPLOAD_TYPES,
                elem_id="qa-upload",
            )
            with gr.Row(visible=False) as manage:
                chosen = gr.Dropdown([], label="Document", elem_id="qa-document", scale=2)
                delete = gr.Button(DELETE, elem_id="qa-document-delete", variant="stop", scale=0)
                new = gr.File(
                    label="Replace it with a new version",
                    file_types=UPLOAD_TYPES,
                    elem_id="qa-replace",
                    scale=2,
                )
            status = gr.Markdown(elem_id="qa-upload-status")
        armed = gr.State(None)  # the document a first click on Delete asked about
        listed = [summary, chosen]
        files.upload(
            self.upload, [files, current], [status, *listed, files], concurrency_id="model"
        )
        delete.click(
            self.delete,
            [chosen, armed, current],
            [status, *listed, armed, delete],
            concurrency_id="model",
        )
        chosen.input(lambda: (None, DELETE), None, [armed, delete], queue=False)
        new.upload(
            self.replace, [new, chosen, current], [status, *listed, new], concurrency_id="model"
        )
        if self.syncs:  # the chosen collection's folder sync, looked at every 2 s
            synced = gr.Markdown(elem_id="qa-sync")
            gr.Timer(2).tick(self.ticked, [current], [synced, summary], queue=False)
        return Panel(summary, chosen, files, manage)
