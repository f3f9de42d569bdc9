"""Follow-up questions made to stand alone before retrieval.

By rule (the default, measured better on the eval's follow-ups): a question that leans on
the previous one (a pronoun, or no name of its own) gets that question's names carried over.
Or by the LLM, with the ``REWRITE`` prompt (``QA_FOLLOWUPS=llm``).
"""

from __future__ import annotations

import re

from langchain_core.prompts import ChatPromptTemplate

from qa.text import STOPWORDS, key_terms

_REFERS = re.compile(
    r"\b(he|she|it|they|him|her|his|hers|its|their|them|that|this|these|those|there)\b", re.I
)


def standalone(question: str, history: list[str]) -> str:
    """Make a follow-up stand alone: when it leans on an earlier question (a pronoun, or no
    name of its own), carry over the names the previous question used."""
    if not history or not (_REFERS.search(question) or not key_terms(question)):
        return question
    own = key_terms(question)
    names = [
        w
        for w in dict.fromkeys(_NAME.findall(history[-1]))
        if w.lower() not in own and w.lower() not in STOPWORDS
    ]
    return f"{question}{_ABOUT}{', '.join(names)})" if names else question


def own_question(question: str) -> str:
    """The question without the names ``standalone`` carried over."""
    return question.split(_ABOUT, 1)[0]


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

_ABOUT = " (about "
_NAME = re.compile(r"\b[A-Z][\w'’.-]*[\w]|\b\d[\w.,]*")
