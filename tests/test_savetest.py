"""Answers saved as regression tests (fast: hand-made answers, real files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.answering.answer import Answer, Citation
from qa.errors import UsageError
from qa.evaluation.questions import load_questions
from qa.evaluation.savetest import append, entry, key_phrase

QUOTE = "Foreign Ministry spokesperson Saeed Khatibzadeh said on Monday that talks would resume."


def answered(text: str, quote: str = QUOTE, question: str = "Who is the spokesperson?") -> Answer:
    cite = Citation(1, "a.txt", 0, len(quote), quote)
    return Answer(question, text, False, [cite], {})


def test_key_phrase_is_the_answers_own_words_found_in_the_quote():
    q = "Who is the spokesperson of the Foreign Ministry?"
    assert key_phrase(q, "The spokesperson is Saeed Khatibzadeh [1].", QUOTE) == "Saeed Khatibzadeh"
    assert key_phrase("When would talks resume?", "On Monday [1].", QUOTE) == "On Monday"
    assert key_phrase(q, "It is Ali Rezaei [1].", QUOTE) == ""  # nothing of it is quoted


def test_entries_for_right_corrected_and_unanswerable_answers():
    a = answered("The spokesperson is Saeed Khatibzadeh [1].")
    assert entry(a) == {
        "q": "Who is the spokesperson?",
        "expect": [["Saeed Khatibzadeh"]],
        "support": QUOTE,
    }
    assert entry(a, "Khatibzadeh", ["Who spoke?"])["expect"] == [["Khatibzadeh"]]
    assert entry(a, "Khatibzadeh", ["Who spoke?"])["history"] == ["Who spoke?"]
    assert entry(a, "")["answerable"] is False
    declined = Answer("Who?", "The documents do not say.", True, [], {})
    assert entry(declined) == {"q": "Who?", "answerable": False}
    with pytest.raises(UsageError):
        entry(answered("It is Ali Rezaei [1]."))


def test_append_keeps_the_file_and_gives_a_new_id(tmp_path: Path):
    path = tmp_path / "e.yaml"
    head = "# my tests: keep this comment\n- id: s01\n  q: Old?\n  expect: [[old]]  # note\n"
    path.write_text(head)
    first = append(path, entry(answered("The spokesperson is Saeed Khatibzadeh [1].")))
    second = append(path, {"q": "Cost?", "answerable": False})
    assert (first, second) == ("s02", "s03")
    assert path.read_text().startswith(head)
    questions, _ = load_questions(path)
    assert [q.id for q in questions] == ["s01", "s02", "s03"]
    assert questions[1].expect == [["Saeed Khatibzadeh"]] and not questions[2].answerable
    assert append(tmp_path / "new.yaml", {"q": "X?", "answerable": False}) == "s01"
    (tmp_path / "bad.yaml").write_text("id: not a list\n")
    with pytest.raises(UsageError, match="expected a list"):
        append(tmp_path / "bad.yaml", {"q": "X?"})
