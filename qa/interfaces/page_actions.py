"""What the chat page does besides answering: answers saved as regression tests (👍 as it
stands, 👎 with the right answer), checked against the signed-in user's role by the door.
(The documents panel is ``qa.interfaces.documents_panel``.)"""

from __future__ import annotations

import gradio as gr

from qa.errors import QAError
from qa.evaluation.questions import eval_file_of
from qa.evaluation.savetest import append, entry
from qa.interfaces.auth import Door, client
from qa.interfaces.collections import Collections
from qa.interfaces.sidebar import Current
from qa.interfaces.users import Action


class Actions:
    """The page's handlers for saved tests, each into the eval file of the collection chosen
    (``qa eval --collection NAME`` reads it)."""

    def __init__(self, collections: Collections, door: Door) -> None:
        self.collections, self.door = collections, door

    def save(self, item: dict, current: Current, request: gr.Request) -> str:
        try:
            user = self.door.page_user(request, Action.SAVE_TEST)
            eval_file = eval_file_of(self.collections.get(current.collection, user).settings)
            saved = append(eval_file, item)
        except QAError as e:
            return f"⚠️ {e}"
        self.door.audit.record("save-test", user.name, client(request), test=saved)
        shown = ", ".join(f"{k}: {v}" for k, v in item.items() if k in ("expect", "answerable"))
        return f"Saved as test {saved} in {eval_file} ({shown})."

    def feedback(self, answers: dict, current: Current, data: gr.LikeData, request: gr.Request):
        """👍 saves the answer as a test as it stands; 👎 asks for the right answer."""
        index = data.index if isinstance(data.index, int) else data.index[0]
        if index not in answers:
            return gr.skip(), None, gr.update(visible=False)
        answer, before = answers[index]
        if data.liked:
            try:
                saved = self.save(entry(answer, history=before), current, request)
                return saved, None, gr.update(visible=False)
            except QAError as e:
                return f"⚠️ {e}", None, gr.update(visible=False)
        ask = "What is the right answer? Leave it empty if the documents do not say."
        return ask, answers[index], gr.update(visible=True)

    def save_correction(
        self, pending: tuple | None, right: str, current: Current, request: gr.Request
    ):
        if pending is None:
            return gr.skip(), None, gr.update(visible=False), ""
        answer, before = pending
        saved = self.save(entry(answer, right, before), current, request)
        return saved, None, gr.update(visible=False), ""
