"""The chat page's kept conversations (``qa.interfaces.conversations``): the sidebar that
lists the signed-in user's conversations, the latest first; a click reopens one with its
answers and their cited sources, as a fresh answer shows them; rename, delete, export as
Markdown; and the collection chooser, since a conversation asks one collection.

A page session's ``Current`` says which conversation its next answer goes to (none until
its first answer is kept) and which collection it asks.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from qa.answering.answer import Answer, change_note
from qa.errors import ForbiddenError, NotSignedInError, QAError
from qa.grounding.ground import Mode
from qa.interfaces.auth import Door
from qa.interfaces.conversations import Conversation, Conversations, markdown
from qa.interfaces.sources import EMPTY, answer_message, sources_html
from qa.interfaces.users import Action


@dataclass
class Current:
    """The page session's conversation and collection (changed in place, as Gradio keeps a
    State's value per session)."""

    collection: str
    conversation: str | None = None


DELETE, CONFIRM = "Delete", "Click again to delete"  # a Delete button's two labels

# What the page shows of a conversation: the chat, the sources panel, the history its
# follow-ups are asked with, each answer's sources (newest first), the answers by their
# message's place (for 👍/👎), and the chat as the question line has it.
View = tuple[list[dict], str, list[str], list[str], dict, list[dict]]
BLANK: View = ([], EMPTY, [], [], {}, [])


def view(conversation: Conversation) -> View:
    """A kept conversation as the page shows it, each answer with its sources and its note."""
    chat: list[dict] = []
    panels: list[str] = []
    answers: dict = {}
    asked: list[str] = []
    for turn, kept in enumerate(conversation.turns, 1):
        answer = kept.checked
        # Noted, as when it was given, where checking changed the model's draft.
        checked = kept.answer.get("grounding") or {}
        known = checked.get("mode") in set(Mode)
        draft = checked.get("draft") or ""
        note = change_note(Mode(checked["mode"]), answer.answer, draft) if known else ""
        chat += [
            {"role": "user", "content": kept.question},
            {"role": "assistant", "content": answer_message(answer, turn, note)},
        ]
        panels.insert(0, sources_html(answer, turn))
        answers[len(chat) - 1] = (answer, list(asked))
        asked.append(kept.question)
    return chat, "\n".join(panels) or EMPTY, conversation.history, panels, answers, chat


class Sidebar:
    """The handlers of the sidebar and the collection chooser, for the user behind each event."""

    def __init__(self, kept: Conversations, door: Door, collections) -> None:
        self.kept, self.door, self.collections = kept, door, collections
        self.exports: Path | None = None

    def owner(self, request: gr.Request) -> str:
        return self.door.page_user(request, Action.ASK).owner

    def readable(self, conversation: str, request: gr.Request) -> Conversation:
        """The user's conversation, if they may still ask its collection (its quotes are
        from it)."""
        user = self.door.page_user(request, Action.ASK)
        kept = self.kept.get(conversation, user.owner)
        if kept.collection not in self.collections.names(user):
            raise ForbiddenError(
                user.name, user.role.value, f"ask the collection {kept.collection!r}"
            )
        return kept

    def keep(self, current: Current, name: str, answer: Answer) -> None:
        """Save a fresh answer of user ``name`` in the session's conversation (started by its
        first, owned by the user: ``User.owner``)."""
        if current.conversation is None:
            if (user := self.door.named(name)) is None:
                raise NotSignedInError(f"{name} is no longer a user")
            made = self.kept.start(user.owner, current.collection, answer.question)
            current.conversation = made.id
        self.kept.add(current.conversation, answer.question, answer.to_json())

    def listing(self, current: Current, request: gr.Request):
        """The user's conversations for the sidebar, the session's own selected."""
        return self.refreshed(current, request)[0]

    def refreshed(self, current: Current, request: gr.Request):
        """The sidebar's list, and the title of the session's conversation (after an answer,
        which may have begun it)."""
        try:
            found = self.kept.list(self.owner(request))
        except QAError:
            return gr.update(choices=[], value=None), gr.skip()
        titles = {c.id: c.title for c in found}
        listed = gr.update(choices=[(t, i) for i, t in titles.items()], value=current.conversation)
        return listed, titles.get(current.conversation or "", "")

    def choices(self, current: Current, request: gr.Request):
        """The collections the user may ask (only those), the session's chosen; one they may
        not ask (the served one, limited) gives way to the first they may."""
        try:
            names = self.collections.names(self.door.page_user(request, Action.ASK))
        except QAError:
            names = []
        if current.collection not in names and names:
            current.collection = names[0]
        value = current.collection if current.collection in names else None
        return gr.update(choices=names, value=value)

    def reopen(self, chosen: str | None, current: Current, request: gr.Request):
        """The chosen conversation on the page, asking its collection again."""
        if not chosen:
            return *(gr.skip() for _ in BLANK), gr.skip(), gr.skip(), gr.skip()
        try:
            conversation = self.readable(chosen, request)
        except QAError as e:
            return *(gr.skip() for _ in BLANK), gr.skip(), gr.skip(), f"⚠️ {e}"
        current.conversation, current.collection = conversation.id, conversation.collection
        count = len(conversation.turns)
        shown = f"Reopened: {conversation.title} ({count} answer{'s' * (count != 1)})"
        return *view(conversation), conversation.collection, conversation.title, shown

    def fresh(self, collection: str | None, current: Current):
        """A new conversation (asking ``collection``, else the same one as before)."""
        current.conversation = None
        current.collection = collection or current.collection
        ready = f"New conversation, asking collection {current.collection}."
        return *BLANK, gr.update(value=None), "", ready

    def rename(self, title: str, current: Current, request: gr.Request):
        if current.conversation is None:
            return gr.skip(), "Nothing to rename yet: ask a question first."
        try:
            self.kept.rename(current.conversation, self.owner(request), title)
        except QAError as e:
            return gr.skip(), f"⚠️ {e}"
        return self.listing(current, request), "Renamed."

    def delete(self, armed: str | None, current: Current, request: gr.Request):
        """The session's conversation deleted at the second click (``armed``: the one the
        first click asked about); the page then starts afresh."""
        skip = tuple(gr.skip() for _ in (*BLANK, "listing", "title"))
        if current.conversation is None:
            return *skip, "Nothing to delete yet: ask a question first.", None, DELETE
        try:
            if armed != current.conversation:  # the first click asks
                title = self.kept.get(current.conversation, self.owner(request)).title
                ask = f"Delete the conversation “{title}”? Click Delete again."
                return *skip, ask, current.conversation, CONFIRM
            self.kept.delete(current.conversation, self.owner(request))
        except QAError as e:
            return *skip, f"⚠️ {e}", None, DELETE
        current.conversation = None
        return *BLANK, self.listing(current, request), "", "Deleted.", None, DELETE

    def export(self, current: Current, request: gr.Request):
        """The conversation as a Markdown file to download."""
        if current.conversation is None:
            return gr.update(visible=False), "Nothing to export yet: ask a question first."
        try:
            conversation = self.readable(current.conversation, request)
        except QAError as e:
            return gr.update(visible=False), f"⚠️ {e}"
        if self.exports is None:  # one private folder, each conversation's file rewritten
            self.exports = Path(tempfile.mkdtemp(prefix="qa-exports-"))
        path = self.exports / f"conversation-{conversation.id}.md"
        path.write_text(markdown(conversation), encoding="utf-8")
        return gr.update(value=str(path), visible=True), "Exported."
