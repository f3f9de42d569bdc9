"""The checks' reading of a question's kind and of an answer's written form (issue #34's
transfer fixes: each developed on the dev corpora and kept only where it cost no held-out
corpus, docs/transfer.md). Pure functions: no index, no model."""

from __future__ import annotations

from qa.grounding.kinds import answers_the_kind_asked, asks_a_number
from qa.grounding.support import best_span
from qa.retrieval.retrieve import Passage
from qa.text import sentences, stated


def _page(text: str, section: str) -> Passage:
    spans = sentences(text)
    return Passage("guide.html", 0, len(text), text, spans, spans[0], section=section)


def test_the_first_question_word_says_whether_a_number_is_asked():
    assert asks_a_number("How many ferries leave on Sundays?")
    assert asks_a_number("If I pass nothing, how long can each line be?")
    assert asks_a_number("In what year did the bridge open?")
    # A quantity inside what the question is about does not make it ask for one.
    question = "Which class do I use to count how often each word appears?"
    assert not asks_a_number(question)
    assert answers_the_kind_asked(question, "Tally objects count hashable items.")
    assert not answers_the_kind_asked("How many ferries leave?", "Ferries leave from the pier.")


def test_a_character_quoted_on_its_own_is_stated_by_its_name():
    assert "comma" in stated("The separator defaults to ','.")
    assert {"tab", "space"} <= stated("sep='\\t' or pad=\" \"")
    assert "comma" not in stated("Apples, pears and plums.")  # a comma in use names nothing
    page = _page("reader(file, sep=',')\n\nReads the rows of file.", "Tables")
    question = "What separator does reader assume by default?"
    assert best_span("It assumes a comma.", page, question).supported
    assert not best_span("It assumes a semicolon.", page, question).supported


def test_a_claim_may_count_what_its_evidence_gives_as_a_bare_number():
    question = "How many entries does the cache keep?"
    signature = "cache(maxsize=128)"
    assert not answers_the_kind_asked(question, signature)
    assert answers_the_kind_asked(question, signature, "It keeps 128 entries.")
    assert not answers_the_kind_asked(question, signature, "It keeps 128 bytes.")
