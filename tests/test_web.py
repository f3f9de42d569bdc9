"""The chat page's handlers without a browser (fast): failures become one line in the chat."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest

from qa.errors import BackendError
from qa.index.store import Summary
from qa.interfaces.sidebar import Current
from qa.interfaces.web import build


class Raising:
    """An answerer whose every answer fails with ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        held = Summary("index", "docs", "minilm", {}, [])
        self.store = SimpleNamespace(summary=lambda: held)
        self.settings = SimpleNamespace(collection="docs", index=Path("index"))

    def ask(self, *args, **kw):
        raise self.error


def respond(answerer, question: str) -> tuple:
    """The outputs of the page's last update after ``question`` is submitted."""
    page = build(answerer, Path("corpus"))
    handler = next(f.fn for f in page.fns.values() if f.name == "respond")
    return list(handler(question, [], [], [], {}, Current("docs"), gr.Request()))[-1]


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (KeyError("answer"), "⚠️ Something went wrong while answering (see the server log)."),
        (BackendError("cannot reach the LLM server"), "⚠️ cannot reach the LLM server"),
    ],
)
def test_a_failed_answer_is_one_line_in_the_chat(error, shown, caplog):
    chat, _sources, history, _box, _panels, state, _answers = respond(Raising(error), "Who?")
    assert chat == [{"role": "user", "content": "Who?"}, {"role": "assistant", "content": shown}]
    assert state == "Answer 1 failed" and history == []
    # A bug's traceback goes to the server's log, not to the page.
    assert ("KeyError" in caplog.text) == isinstance(error, KeyError)


def test_binding_beyond_loopback_without_credentials_is_refused():
    from qa.interfaces.server import exposure

    assert exposure("127.0.0.1", False) == exposure("localhost", False) == ""
    assert exposure("0.0.0.0", True) == ""
    assert exposure("0.0.0.0", False).startswith("refusing to serve on 0.0.0.0 without")
    assert exposure("127.0.0.1", False, share=True).startswith("refusing to serve on a public")


def test_the_documents_panel_follows_the_chosen_collection_within_the_users_rights(tmp_path):
    """The Documents panel's handlers without a browser, on a real index of two collections
    (real Chroma and MiniLM, no model): it lists, adds to, replaces in and deletes from the
    collection the session chose, each only for whom may, and deleting takes two clicks."""
    from qa.config import load_settings
    from qa.index.ingest import ingest
    from qa.index.store import Store
    from qa.interfaces.api import Turns
    from qa.interfaces.audit import Audit
    from qa.interfaces.auth import Door
    from qa.interfaces.collections import Collections, limit, remember
    from qa.interfaces.documents_panel import Documents
    from qa.interfaces.users import Role, Users

    base = load_settings({"index": tmp_path / "index", "corpus": tmp_path / "corpus"}, environ={})
    for name, folder, text in (
        ("docqa", "corpus", "Pier 2 is closed."),
        ("ferries", "ferries", "Quay 4 at seven."),
    ):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notes.txt").write_text(text + "\n")
        settings = base.with_overrides(collection=name)
        ingest([tmp_path / folder], settings)
        remember(settings, tmp_path / folder)
    limit(base, "ferries", ["ed"])
    users = Users(tmp_path / "users.json")
    for name, role in (("ana", Role.ADMIN), ("ed", Role.EDITOR), ("rita", Role.READER)):
        users.add(name, role, f"{name}-password")
    served = SimpleNamespace(settings=base, store=Store(base), llm=object(), refresh=lambda: None)
    collections = Collections(served)
    panel = Documents(collections, Turns(), Door(users, Audit(None)), {})
    ana, ed, rita = (gr.Request(username=n) for n in ("ana", "ed", "rita"))
    ferries = Current("ferries")

    def sources(name: str) -> dict:
        return collections.get(name).store.sources()

    listed, names = panel.shown(ferries, ed)
    assert "ferries" in listed and "notes.txt</code> · 1 chunk" in listed
    assert names["choices"] == ["notes.txt"]
    assert panel.shown(ferries, rita)[0].startswith("<p>⚠️")  # limited to ed (and admins)
    # Added by an editor to the chosen collection, not to the served one.
    (tmp_path / "up").mkdir()
    upload = tmp_path / "up" / "timetable.txt"
    upload.write_text("The ferry leaves at seven.\n")
    said, listed, _, _ = panel.upload([str(upload)], ferries, ed, progress=lambda *a, **k: None)
    assert said.startswith("Indexed: files: 1 added") and "(collection ferries)" in said
    assert (tmp_path / "ferries" / "timetable.txt").exists() and "timetable.txt" in listed
    assert "ferries/timetable.txt" in sources("ferries")
    assert not (tmp_path / "corpus" / "timetable.txt").exists()
    assert "ferries/timetable.txt" not in sources("docqa")
    # Replaced and deleted by admins only; deleting asks first.
    said, *_ = panel.replace(str(upload), "notes.txt", ferries, ed)
    assert said.startswith("⚠️") and "may not delete" in said
    assert panel.delete("notes.txt", None, ferries, ed)[0].startswith("⚠️")
    upload.write_text("Quay 5 from Monday.\n")
    said, *_ = panel.replace(str(upload), "notes.txt", ferries, ana)
    assert said.startswith("Replaced notes.txt"), said
    assert (tmp_path / "ferries" / "notes.txt").read_text() == "Quay 5 from Monday.\n"
    bad = tmp_path / "up" / "bad.txt"
    bad.write_bytes(b"\x00\x01binary")
    said, *_ = panel.replace(str(bad), "notes.txt", ferries, ana)
    assert said.startswith("⚠️") and (tmp_path / "ferries" / "notes.txt").exists()
    said, _, _, armed, label = panel.delete("notes.txt", None, ferries, ana)
    assert armed == ("ferries", "notes.txt") and label == "Click again to delete"
    assert "ferries/notes.txt" in sources("ferries")  # nothing deleted at the first click
    said, listed, _, armed, label = panel.delete("notes.txt", armed, ferries, ana)
    assert said.startswith("Deleted notes.txt") and (armed, label) == (None, "Delete")
    assert not (tmp_path / "ferries" / "notes.txt").exists()
    assert "ferries/notes.txt" not in sources("ferries") and "corpus/notes.txt" in sources("docqa")
