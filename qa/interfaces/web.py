"""The chat page's Gradio Blocks, around the same ``Answerer`` the CLI uses.

Each browser session keeps its own history (``gr.State``); the models are shared and
answer one question at a time, the others wait in Gradio's queue, which shows their place.
"""

from __future__ import annotations

import html
import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path

import gradio as gr

from qa.answering.answer import MODE_NOTES, Answer
from qa.answering.chain import Answerer
from qa.answering.format import linked
from qa.documents.loaders import SUFFIXES
from qa.errors import QAError
from qa.evaluation.savetest import append, entry
from qa.interfaces import uploads
from qa.interfaces.api import Turns
from qa.interfaces.audit import Audit
from qa.interfaces.auth import Door, client
from qa.interfaces.line import Line, answering, send
from qa.interfaces.users import Action, Users

UPLOAD_TYPES = sorted(SUFFIXES)
# A click on [n] in an answer scrolls the sources panel to source n and flashes it.
HEAD = """<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href^='#qa-source-']");
  if (!link) return;
  event.preventDefault();
  const target = document.getElementById(link.getAttribute("href").slice(1));
  if (!target) return;
  target.scrollIntoView({behavior: "smooth", block: "center"});
  target.classList.add("qa-flash");
  setTimeout(() => target.classList.remove("qa-flash"), 1200);
}, true);
</script>"""
CSS = """
#qa-sources mark { background: #fde68a; padding: 0 2px; }
.qa-source { border-left: 3px solid #d1d5db; padding: 4px 10px; margin: 8px 0; }
.qa-source p { white-space: pre-wrap; }
.qa-flash { border-left-color: #f59e0b; background: #fffbeb; }
"""


EMPTY = "<p class='qa-empty'>Cited passages appear here.</p>"
log = logging.getLogger(__name__)


def sources_html(answer: Answer, turn: int) -> str:
    """Each citation with its source and position, the supporting span highlighted; ids
    are the turn's own, so that an older answer's [n] still finds its passage."""
    if not answer.citations:
        title = "<h3>Not found in the documents</h3><p>Closest passages:</p>"
    else:
        title = "<h3>Sources</h3>"
    parts = [f"<div class='qa-turn'><p class='qa-asked'>{html.escape(answer.question)}</p>{title}"]
    for c in answer.citations or answer.passages:
        text = c.passage or c.quote
        lo, hi = c.start - c.passage_start, c.end - c.passage_start
        if answer.citations and c.passage:
            body = f"{html.escape(text[:lo])}<mark>{html.escape(text[lo:hi])}</mark>"
            body += html.escape(text[hi:])
        else:
            body = html.escape(text)
        parts.append(
            f"<div class='qa-source' id='qa-source-{turn}-{c.n}'><b>[{c.n}]</b> "
            f"<code>{html.escape(c.source)}:{c.start}-{c.end}</code>"
            + (f" <span class='qa-where'>{html.escape(c.where)}</span>" if c.where else "")
            + f"<p>{body}</p></div>"
        )
    return "\n".join(parts) + "</div>"


def index_summary(answerer: Answerer) -> str:
    held = answerer.store.summary()
    files = "".join(f"<li><code>{html.escape(n)}</code></li>" for n in held.files)
    return (
        f"<p><b>{len(held.files)}</b> files, <b>{held.chunks}</b> chunks, embedding model "
        f"<code>{html.escape(held.model)}</code></p><ul>{files}</ul>"
    )


def _stream(
    answerer: Answerer, message: str, history: list[str], turns: Turns
) -> Iterator[str | Answer]:
    """The model's tokens as they come, then the checked Answer (errors raised here)."""
    tokens: queue.Queue[str | None] = queue.Queue()
    result: dict[str, Answer | Exception] = {}

    def work() -> None:
        try:
            with turns.turn():  # the API's requests and this page's take turns
                result["answer"] = answerer.ask(message, on_token=tokens.put, history=history)
        except Exception as e:  # raised again in the page's thread
            result["error"] = e
        finally:
            tokens.put(None)

    threading.Thread(target=work, daemon=True).start()
    while (token := tokens.get()) is not None:
        yield token
    if "error" in result:
        raise result["error"]
    yield result["answer"]


def build(
    answerer: Answerer,
    corpus: Path,
    turns: Turns | None = None,
    door: Door | None = None,
    sync=None,
) -> gr.Blocks:
    """The page; ``door`` says who may ask, upload and save tests (none: anyone may);
    ``sync``: the watched folder's ``SyncState`` (qa serve --watch)."""
    lock = threading.Lock()  # one ingestion at a time
    turns = turns or Turns()
    door = door or Door(Users(None), Audit(None))

    def respond(
        message: str,
        chat: list[dict],
        history: list[str],
        panels: list[str],
        answers: dict,
        request: gr.Request,
    ):
        """Stream the answer into the chat; then its sources on top of the panel, and the
        state line says it is done ("Answer N ready"), which is what tests wait for."""
        if not message.strip():
            yield chat, gr.skip(), history, "", panels, gr.skip(), answers
            return
        asked_before = [m["content"] for m in chat if m["role"] == "user"]
        turn = sum(m["role"] == "assistant" for m in chat) + 1
        chat = [*chat, {"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        began = time.perf_counter()
        busy = f"Answering question {turn}…"
        try:
            door.asked(door.page_user(request, Action.ASK), message, client(request), "page")
            for item in _stream(answerer, message, history, turns):
                if isinstance(item, str):
                    chat[-1]["content"] += item
                    yield chat, gr.skip(), history, "", panels, busy, answers
                    continue
                streamed = chat[-1]["content"].strip()
                note = MODE_NOTES[item.mode] if item.answer != streamed else ""
                shown = linked(item.answer, f"#qa-source-{turn}-{{n}}")
                chat[-1]["content"] = shown + (f"\n\n*{note}*" if note else "")
                panels = [sources_html(item, turn), *panels]
                done = f"Answer {turn} ready ({time.perf_counter() - began:.1f} s)"
                # Kept by its message's place in the chat, to be saved as a test from there.
                answers = {**answers, len(chat) - 1: (replace(item, grounding=None), asked_before)}
                # The answer rides along: its names resolve "he" or "it" in the next question.
                history = [*history, f"{message} {item.answer}"]
                yield chat, "\n".join(panels), history, "", panels, done, answers
        except QAError as e:
            chat[-1]["content"] = f"⚠️ {e}"
            yield chat, gr.skip(), history, "", panels, f"Answer {turn} failed", answers
        except Exception:  # a bug: the page says so in a line, the log has the traceback
            log.exception("answering %r failed", message)
            chat[-1]["content"] = "⚠️ Something went wrong while answering (see the server log)."
            yield chat, gr.skip(), history, "", panels, f"Answer {turn} failed", answers

    def save(item: dict, request: gr.Request) -> str:
        try:
            user = door.page_user(request, Action.SAVE_TEST)
            saved = append(answerer.settings.eval_file, item)
        except QAError as e:
            return f"⚠️ {e}"
        door.audit.record("save-test", user.name, client(request), test=saved)
        shown = ", ".join(f"{k}: {v}" for k, v in item.items() if k in ("expect", "answerable"))
        return f"Saved as test {saved} in {answerer.settings.eval_file} ({shown})."

    def feedback(answers: dict, data: gr.LikeData, request: gr.Request):
        """👍 saves the answer as a test as it stands; 👎 asks for the right answer."""
        index = data.index if isinstance(data.index, int) else data.index[0]
        if index not in answers:
            return gr.skip(), None, gr.update(visible=False)
        answer, before = answers[index]
        if data.liked:
            try:
                saved = save(entry(answer, history=before), request)
                return saved, None, gr.update(visible=False)
            except QAError as e:
                return f"⚠️ {e}", None, gr.update(visible=False)
        ask = "What is the right answer? Leave it empty if the documents do not say."
        return ask, answers[index], gr.update(visible=True)

    def save_correction(pending: tuple | None, right: str, request: gr.Request):
        if pending is None:
            return gr.skip(), None, gr.update(visible=False), ""
        answer, before = pending
        return save(entry(answer, right, before), request), None, gr.update(visible=False), ""

    def upload(
        files: list[str] | None,
        request: gr.Request,
        progress=gr.Progress(),  # noqa: B008 (Gradio injects it)
    ) -> tuple[str, str, None]:
        if not files:
            return "", index_summary(answerer), None
        try:
            user = door.page_user(request, Action.UPLOAD)
            with lock, turns.turn():  # no API answer reads the index while it is written
                _, report = uploads.add(
                    [(Path(f).name, Path(f)) for f in files],
                    corpus,
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

    with gr.Blocks(title="docqa") as app:
        gr.Markdown("## docqa: ask your documents")
        history = gr.State([])
        talk = gr.State([])  # the chat as the server has it (qa.interfaces.line)
        line = gr.State(Line())  # questions sent while another is answered
        panels = gr.State([])  # each answer's sources, newest first
        answers = gr.State({})  # chat message index -> (its Answer, the questions before)
        pending = gr.State(None)  # the answer a 👎 is correcting
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Chat", height=520, elem_id="qa-chat")
                box = gr.Textbox(
                    placeholder="Ask a question about the documents",
                    show_label=False,
                    elem_id="qa-question",
                    submit_btn=True,
                )
                state = gr.Markdown("Ready.", elem_id="qa-state")
                waiting = gr.HTML(elem_id="qa-waiting")
                saved = gr.Markdown(elem_id="qa-saved")
                with gr.Row(visible=False) as correcting:
                    right = gr.Textbox(
                        show_label=False, placeholder="The right answer", elem_id="qa-right"
                    )
                    fix = gr.Button("Save as test", elem_id="qa-save-right", scale=0)
            with gr.Column(scale=2):
                sources = gr.HTML(EMPTY, elem_id="qa-sources")
        with gr.Accordion("Documents", open=False):
            summary = gr.HTML(index_summary(answerer), elem_id="qa-index")
            files = gr.File(
                label=f"Add documents ({', '.join(UPLOAD_TYPES)})",
                file_count="multiple",
                file_types=UPLOAD_TYPES,
                elem_id="qa-upload",
            )
            status = gr.Markdown(elem_id="qa-upload-status")
        if sync is not None:  # the folder's sync, looked at every 2 s
            synced = gr.Markdown(sync.line(), elem_id="qa-sync")
            gr.Timer(2).tick(
                lambda: (sync.line(), index_summary(answerer)), None, [synced, summary], queue=False
            )
        # Sent questions wait in line; typing goes on while an answer streams.
        box.submit(send, [box, line], [box, waiting], queue=False, trigger_mode="multiple").then(
            answering(respond),
            [line, talk, history, panels, answers],
            [chat, sources, history, panels, state, answers, talk, waiting],
            concurrency_id="model",  # answers and uploads: one at a time, in one queue
            trigger_mode="multiple",
        )
        # For programs (gradio_client): /respond takes the question and the chat, as before.
        gr.Button(visible=False).click(
            respond,
            [box, chat, history, panels, answers],
            [chat, sources, history, box, panels, state, answers],
            api_name="respond",
            concurrency_id="model",
        )
        # Saving an answer as a regression test: 👍 as it stands, 👎 with the right answer.
        chat.like(feedback, [answers], [saved, pending, correcting])
        fix.click(save_correction, [pending, right], [saved, pending, correcting, right])
        files.upload(upload, [files], [status, summary, files], concurrency_id="model")
        # Who is signed in, and the upload box only for those who may upload.
        app.load(door.greeting, None, [state, files], queue=False)
    return app
