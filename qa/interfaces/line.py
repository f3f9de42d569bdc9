"""The chat page's line of questions: a question sent while another is answered waits its
turn and says so, and the question box is never written by an answer (what is being typed
stays).

Sending takes the question out of the box at once (an unqueued step) into the session's
``Line``; a queued step then answers the first question in line. The conversation is read
from server-side state when that step starts, not from the browser when it was sent, so a
question that waited sees the answers given before it.
"""

from __future__ import annotations

import html
import threading
from collections import deque
from collections.abc import Callable, Iterator

import gradio as gr


class Line:
    """The questions of one page session that wait for an answer, oldest first."""

    def __init__(self) -> None:
        self._waiting: deque[str] = deque()
        self._lock = threading.Lock()
        self.answering = False

    def __deepcopy__(self, _memo: dict) -> Line:  # Gradio copies a State's value per session
        return Line()

    def add(self, question: str) -> None:
        with self._lock:
            self._waiting.append(question)

    def take(self) -> str | None:
        with self._lock:
            return self._waiting.popleft() if self._waiting else None

    def shown(self) -> str:
        """What the page says about the line ("" when nobody waits)."""
        with self._lock:
            waiting = list(self._waiting)
        if not waiting:
            return ""
        items = "".join(f"<li>{html.escape(q)}</li>" for q in waiting)
        return f"<p>⏳ Waiting in line ({len(waiting)}), answered in turn:</p><ol>{items}</ol>"


def send(question: str, line: Line):
    """The unqueued step: the question leaves the box for the line (the box is cleared once,
    here, because its question was sent)."""
    if not question.strip():
        return gr.skip(), gr.skip()
    line.add(question)
    return "", line.shown()


def answering(respond: Callable[..., Iterator[tuple]]):
    """The queued step around the page's ``respond``: answers the first question in line into
    the server-side conversation (one step per question sent). ``respond``'s question-box
    output (its fourth) is dropped, so typing is never reset."""

    def answer_next(
        line: Line,
        talk: list,
        history: list,
        panels: list,
        answers: dict,
        current: object,
        request: gr.Request,
    ) -> Iterator[tuple]:
        question = line.take()
        if question is None:
            return
        for chat, *outputs in respond(question, talk, history, panels, answers, current, request):
            del outputs[2]  # the question box
            yield chat, *outputs, chat, line.shown()  # the line, as it is now

    return answer_next
