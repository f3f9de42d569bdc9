"""The chat page's Gradio Blocks, around the same ``Answerer`` the CLI uses.

Each browser session keeps its own history (``gr.State``), and each answer is kept in the
session's conversation (``qa.interfaces.sidebar``: listed, reopened after a restart, asking
the collection chosen); the models are shared and answer one question at a time, the
others wait in Gradio's queue, which shows their place.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path

import gradio as gr

from qa.answering.answer import Answer, change_note
from qa.answering.chain import Answerer
from qa.errors import QAError
from qa.interfaces.api import Turns
from qa.interfaces.audit import Audit
from qa.interfaces.auth import Door, client
from qa.interfaces.collections import Collections
from qa.interfaces.conversations import Conversations
from qa.interfaces.documents_panel import Documents
from qa.interfaces.line import Line, answering, send
from qa.interfaces.page_actions import Actions
from qa.interfaces.sidebar import DELETE, Current, Sidebar
from qa.interfaces.sources import EMPTY, answer_message, sources_html
from qa.interfaces.users import Action, Users

log = logging.getLogger(__name__)


def _stream(
    answerer: Answerer,
    message: str,
    history: list[str],
    turns: Turns,
    asked: Callable[[], None] = lambda: None,
) -> Iterator[str | Answer]:
    """The model's tokens as they come, then the checked Answer (errors raised here);
    ``asked`` (the door's count and audit line) once the question has its turn."""
    tokens: queue.Queue[str | None] = queue.Queue()
    result: dict[str, Answer | Exception] = {}

    def work() -> None:
        try:
            with turns.turn():  # the API's requests and this page's take turns
                asked()
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
    syncs: dict | None = None,
    collections: Collections | None = None,
) -> gr.Blocks:
    """The page; ``door`` says who may ask, upload and save tests (none: anyone may);
    ``syncs``: each watched folder's ``SyncState`` by collection (qa serve --watch);
    ``collections``: those the page may ask (default: the index's; the served one is chosen
    first; its corpus folder is ``answerer.settings.corpus``, ``corpus``)."""
    turns = turns or Turns()
    door = door or Door(Users(None), Audit(None))
    collections = collections or Collections(answerer)
    actions = Actions(collections, door)
    documents = Documents(collections, turns, door, syncs or {})
    kept = Sidebar(Conversations.beside(answerer.settings.index), door, collections)
    served = answerer.settings.collection

    def respond(
        message: str,
        chat: list[dict],
        history: list[str],
        panels: list[str],
        answers: dict,
        current: Current,
        request: gr.Request,
    ):
        """Stream the answer into the chat; then its sources on top of the panel, and the
        state line says it is done ("Answer N ready"), which is what tests wait for; the
        answer is kept in the session's conversation."""
        if not message.strip():
            yield chat, gr.skip(), history, "", panels, gr.skip(), answers
            return
        asked_before = [m["content"] for m in chat if m["role"] == "user"]
        turn = sum(m["role"] == "assistant" for m in chat) + 1
        chat = [*chat, {"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        began = time.perf_counter()
        busy = f"Answering question {turn}…"
        # Where this answer is kept, whatever is reopened meanwhile.
        began_in, asking = replace(current), replace(current)
        try:
            user = door.page_user(request, Action.ASK)
            asker = collections.get(asking.collection, user)
            counted = partial(door.asked, user, message, client(request), "page")
            for item in _stream(asker, message, history, turns, counted):
                if isinstance(item, str):
                    chat[-1]["content"] += item
                    yield chat, gr.skip(), history, "", panels, busy, answers
                    continue
                streamed = chat[-1]["content"].strip()
                note = change_note(item.mode, item.answer, streamed)
                chat[-1]["content"] = answer_message(item, turn, note)
                panels = [sources_html(item, turn), *panels]
                done = f"Answer {turn} ready ({time.perf_counter() - began:.1f} s)"
                # Kept by its message's place in the chat, to be saved as a test from there.
                answers = {**answers, len(chat) - 1: (replace(item, grounding=None), asked_before)}
                # The answer rides along: its names resolve "he" or "it" in the next question.
                history = [*history, f"{message} {item.answer}"]
                try:
                    kept.keep(asking, user.name, item)
                except QAError as e:  # the answer is shown all the same
                    done += f" · not kept: {e}"
                if current == began_in:  # the session goes on in it (begun by its first answer)
                    current.conversation = asking.conversation
                yield chat, "\n".join(panels), history, "", panels, done, answers
        except QAError as e:
            chat[-1]["content"] = f"⚠️ {e}"
            yield chat, gr.skip(), history, "", panels, f"Answer {turn} failed", answers
        except Exception:  # a bug: the page says so in a line, the log has the traceback
            log.exception("answering %r failed", message)
            chat[-1]["content"] = "⚠️ Something went wrong while answering (see the server log)."
            yield chat, gr.skip(), history, "", panels, f"Answer {turn} failed", answers

    with gr.Blocks(title="docqa") as app:
        current = gr.State(Current(served))  # this session's conversation and collection
        with gr.Sidebar(elem_id="qa-sidebar"):
            gr.Markdown("### Conversations")
            new = gr.Button("New conversation", elem_id="qa-new", size="sm")
            listing = gr.Radio([], show_label=False, elem_id="qa-conversations")
            with gr.Accordion("This conversation", open=False, elem_id="qa-this"):
                title = gr.Textbox(label="Title", elem_id="qa-title")
                with gr.Row():
                    rename = gr.Button("Rename", elem_id="qa-rename", size="sm")
                    delete = gr.Button(DELETE, elem_id="qa-delete", size="sm", variant="stop")
                export = gr.Button("Export as Markdown", elem_id="qa-export", size="sm")
                exported = gr.File(visible=False, show_label=False, elem_id="qa-exported")
        with gr.Row(equal_height=True):
            gr.Markdown("## docqa: ask your documents")
            collection = gr.Dropdown(
                [served], value=served, label="Collection", elem_id="qa-collection", scale=0
            )
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
        panel = documents.build(current)  # the chosen collection's documents
        # Sent questions wait in line; typing goes on while an answer streams.
        box.submit(send, [box, line], [box, waiting], queue=False, trigger_mode="multiple").then(
            answering(respond),
            [line, talk, history, panels, answers, current],
            [chat, sources, history, panels, state, answers, talk, waiting],
            concurrency_id="model",  # answers and uploads: one at a time, in one queue
            trigger_mode="multiple",
        ).then(kept.refreshed, [current], [listing, title], queue=False)
        # For programs (gradio_client): /respond takes the question and the chat, as before.
        gr.Button(visible=False).click(
            respond,
            [box, chat, history, panels, answers, current],
            [chat, sources, history, box, panels, state, answers],
            api_name="respond",
            concurrency_id="model",
        )
        # Saving an answer as a regression test: 👍 as it stands, 👎 with the right answer.
        chat.like(actions.feedback, [answers, current], [saved, pending, correcting])
        fix.click(
            actions.save_correction, [pending, right, current], [saved, pending, correcting, right]
        )
        # Kept conversations: reopened, begun afresh (in the collection chosen), renamed,
        # deleted, exported.
        shown = [chat, sources, history, panels, answers, talk]
        # The documents panel and the Delete button follow the conversation shown.
        armed = gr.State(None)  # the conversation a first click on Delete asked about
        for begun in (
            listing.input(
                kept.reopen, [listing, current], [*shown, collection, title, state], queue=False
            ),
            *(
                begin(
                    kept.fresh, [collection, current], [*shown, listing, title, state], queue=False
                )
                for begin in (collection.input, new.click)
            ),
        ):
            begun.then(lambda: (None, DELETE), None, [armed, delete], queue=False)
            begun.then(documents.shown, [current], panel.outputs, queue=False)
        rename.click(kept.rename, [title, current], [listing, state], queue=False)
        delete.click(
            kept.delete,
            [armed, current],
            [*shown, listing, title, state, armed, delete],
            queue=False,
        )
        export.click(kept.export, [current], [exported, state], queue=False)
        # Who is signed in, and the upload box only for those who may upload; their
        # conversations; the collections.
        app.load(door.greeting, None, [state, panel.files], queue=False)
        app.load(documents.rights, None, [panel.manage], queue=False)
        app.load(documents.shown, [current], panel.outputs, queue=False)
        app.load(kept.listing, [current], [listing], queue=False)
        app.load(kept.choices, [current], [collection], queue=False)
    return app
