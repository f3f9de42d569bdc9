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
