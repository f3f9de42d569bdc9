"""Follow-up questions made to stand alone before retrieval.

By rule (the default, measured better on the eval's follow-ups): a question that leans on
the previous one (a pronoun, or no name of its own) gets that question's names carried over.
Or by the LLM, with the ``REWRITE`` prompt (``QA_FOLLOWUPS=llm``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from langchain_core.prompts import ChatPromptTemplate

from qa.text import STOPWORDS, key_terms

_REFERS = re.compile(
    r"\b(he|she|it|they|him|her|his|hers|its|their|them|that|this|these|those|there)\b", re.I
)


@dataclass(frozen=True)
class Asked:
    """A question, with the names a follow-up carries over from the conversation."""

    text: str  # as the user asked it (or as the LLM rewrote it)
    about: tuple[str, ...] = ()

    @property
    def full(self) -> str:
        """What retrieval and the prompt see: "Where did he go? (about Abbas, Araghchi)"."""
        return f"{self.text} (about {', '.join(self.about)})" if self.about else self.text

    @classmethod
    def of(cls, question: str | Asked) -> Asked:
        return question if isinstance(question, Asked) else cls(question)


def standalone(question: str, history: list[str]) -> Asked:
    """Make a follow-up stand alone: when it leans on an earlier question (a pronoun, or no
    name of its own), carry over the names the previous question used."""
    if not history or not (_REFERS.search(question) or not key_terms(question)):
        return Asked(question)
    own = key_terms(question)
    names = [
        w
        for w in dict.fromkeys(_NAME.findall(history[-1]))
        if w.lower() not in own and w.lower() not in STOPWORDS
    ]
    return Asked(question, tuple(names))


REWRITE = ChatPromptTemplate.from_messages(
    [
        (
            "system",
            "Rewrite the user's last question so that it can be understood without the "
            "conversation: replace pronouns with the names they refer to. Reply with the "
            "question only.",
        ),
        ("human", "Conversation:\n{history}\n\nLast question: {question}"),
    ]
)

_NAME = re.compile(r"\b[A-Z][\w'’.-]*[\w]|\b\d[\w.,]*")
