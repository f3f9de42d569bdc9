"""Answers saved as regression tests: an entry appended to the eval file (``QA_EVAL_FILE``)
from the chat page's thumbs or ``qa ask --save``.

A right answer becomes ``expect: [[its key phrase]]`` (the answer's words, found in its
cited quote, that the question did not already say) with ``support`` set to that quote; a
wrong one is saved with the right answer the user gives, or as unanswerable. The entry is
appended as text, so the file's own content and comments stay as they were.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from qa.answering.answer import Answer
from qa.answering.format import unmarked
from qa.errors import UsageError
from qa.evaluation.evaluate import normalise
from qa.retrieval.retrieve import terms


def key_phrase(question: str, answer: str, quote: str) -> str:
    """The longest run of the answer's words that occurs in ``quote`` and says something the
    question did not ("Saeed Khatibzadeh" from "The spokesperson is Saeed Khatibzadeh")."""
    tokens = unmarked(answer).rstrip(".").split()
    asked, held = set(terms(question)), normalise(quote)
    best = ""
    for i in range(len(tokens)):
        for j in range(len(tokens), i, -1):
            phrase = " ".join(tokens[i:j]).strip(".,;:")
            new = set(terms(phrase)) - asked or any(c.isdigit() for c in phrase)
            if len(phrase) > len(best) and new and normalise(phrase) in held:
                best = phrase
                break
    return best


def entry(answer: Answer, right: str | None = None, history: list[str] | None = None) -> dict:
    """The test for ``answer``: as it stands (``right`` None), with the right answer the
    user gave, or unanswerable (``right`` empty: the documents do not say); ``history``:
    the conversation's earlier questions."""
    item: dict = {"q": answer.question, **({"history": history} if history else {})}
    if right is None:
        if answer.declined:
            return {**item, "answerable": False}
        quote = answer.citations[0].quote if answer.citations else ""
        phrase = key_phrase(answer.question, answer.answer, quote)
        if not phrase:
            raise UsageError("no phrase of the answer is in its cited passage to test against")
        return {**item, "expect": [[phrase]], "support": quote}
    if not right.strip():
        return {**item, "answerable": False}
    return {**item, "expect": [[right.strip()]]}


def append(path: Path, item: dict) -> str:
    """Append ``item`` under a new unique id (``s01``, ``s02``, ...); the id."""
    text = path.read_text() if path.exists() else ""
    try:
        held = yaml.safe_load(text) or []
    except yaml.YAMLError as e:
        raise UsageError(f"cannot parse {path}: {e}") from None
    if not isinstance(held, list):
        raise UsageError(f"{path}: expected a list of questions")
    ids = {str(q.get("id")) for q in held if isinstance(q, dict)}
    new_id = next(f"s{n:02d}" for n in range(1, len(ids) + 2) if f"s{n:02d}" not in ids)
    block = yaml.safe_dump([{"id": new_id, **item}], sort_keys=False, allow_unicode=True)
    with path.open("a") as f:
        f.write(("" if not text or text.endswith("\n") else "\n") + block)
    return new_id
