"""What the chat page does besides answering: documents added from the page (the
"Documents" panel) and answers saved as regression tests (👍 as it stands, 👎 with the
right answer). Each action is checked against the signed-in user's role by the door."""

from __future__ import annotations

import html
import threading
from functools import partial
from pathlib import Path

import gradio as gr

from qa.answering.chain import Answerer
from qa.documents.loaders import SUFFIXES
from qa.errors import QAError
from qa.evaluation.savetest import append, entry
from qa.interfaces import uploads
from qa.interfaces.api import Turns
from qa.interfaces.auth import Door, client
from qa.interfaces.users import Action

UPLOAD_TYPES = sorted(SUFFIXES)


def index_summary(answerer: Answerer) -> str:
    held = answerer.store.summary()
    files = "".join(f"<li><code>{html.escape(n)}</code></li>" for n in held.files)
    return (
        f"<p><b>{len(held.files)}</b> files, <b>{held.chunks}</b> chunks, embedding model "
        f"<code>{html.escape(held.model)}</code></p><ul>{files}</ul>"
    )


class Actions:
    """The page's handlers for uploads and saved tests, over the page's own answerer."""

    def __init__(self, answerer: Answerer, corpus: Path, turns: Turns, door: Door) -> None:
        self.answerer, self.corpus, self.turns, self.door = answerer, corpus, turns, door
        self.lock = threading.Lock()  # one ingestion at a time

    def save(self, item: dict, request: gr.Request) -> str:
        eval_file = self.answerer.settings.eval_file
        try:
            user = self.door.page_user(request, Action.SAVE_TEST)
            saved = append(eval_file, item)
        except QAError as e:
            return f"⚠️ {e}"
        self.door.audit.record("save-test", user.name, client(request), test=saved)
        shown = ", ".join(f"{k}: {v}" for k, v in item.items() if k in ("expect", "answerable"))
        return f"Saved as test {saved} in {eval_file} ({shown})."

    def feedback(self, answers: dict, data: gr.LikeData, request: gr.Request):
        """👍 saves the answer as a test as it stands; 👎 asks for the right answer."""
        index = data.index if isinstance(data.index, int) else data.index[0]
        if index not in answers:
            return gr.skip(), None, gr.update(visible=False)
        answer, before = answers[index]
        if data.liked:
            try:
                saved = self.save(entry(answer, history=before), request)
                return saved, None, gr.update(visible=False)
            except QAError as e:
                return f"⚠️ {e}", None, gr.update(visible=False)
        ask = "What is the right answer? Leave it empty if the documents do not say."
        return ask, answers[index], gr.update(visible=True)

    def save_correction(self, pending: tuple | None, right: str, request: gr.Request):
        if pending is None:
            return gr.skip(), None, gr.update(visible=False), ""
        answer, before = pending
        return self.save(entry(answer, right, before), request), None, gr.update(visible=False), ""

    def upload(
        self,
        files: list[str] | None,
        request: gr.Request,
        progress=gr.Progress(),  # noqa: B008 (Gradio injects it)
    ) -> tuple[str, str, None]:
        answerer, door = self.answerer, self.door
        if not files:
            return "", index_summary(answerer), None
        try:
            user = door.page_user(request, Action.UPLOAD)
            with self.lock, self.turns.turn():  # no API answer reads the index while it is written
                _, report = uploads.add(
                    [(Path(f).name, Path(f)) for f in files],
                    self.corpus,
                    uploads.Caps.of(answerer.settings),
                    answerer.settings,
                    store=answerer.store,
                    progress=lambda done, total: progress(done / max(total, 1), desc="indexing"),
                    record=partial(door.audit.record, user=user.name, where=client(request)),
                )
                answerer.refresh()
        except QAError as e:
            return f"⚠️ {e}", index_summary(answerer), None
        lines = [f"Indexed: {report.summary()}"]
        lines += [f"⚠️ skipped {name}: {why}" for name, why in report.skipped]
        return "\n\n".join(lines), index_summary(answerer), None
