"""The checks' reading of a question's kind and of an answer's written form (issue #34's
transfer fixes: each developed on the dev corpora and kept only where it cost no held-out
corpus, docs/transfer.md). Pure functions: no index, no model."""

from __future__ import annotations

from qa.grounding.kinds import answers_the_kind_asked, asks_a_number, names_one
from qa.grounding.support import best_span
from qa.retrieval.retrieve import Passage
from qa.sentences import sentences
from qa.text import stated


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


def test_a_qualified_name_in_the_question_asks_about_its_parts():
    # "calendar.date" stems whole to "calendar.d": the constant's page is about "calendar".
    text = "calendar.MAXYEAR\n\nThe largest year a date can hold.\n\nMAXYEAR is 9999."
    page = _page(text, "calendar — Dates › Constants")
    question = "What is the latest year a calendar.date can hold?"
    assert best_span("The latest year a calendar.date can hold is 9999.", page, question).supported
    assert not best_span("The latest year a calendar.date can hold is 9000.", page, question).can


def test_a_quote_answers_a_question_for_a_name_only_where_it_names_one():
    question = "Which index kind is the only one that can enforce uniqueness?"
    assert not names_one(question, "Indexes can also enforce the uniqueness of a value.")
    assert not names_one(question, "Options control whether an index enforces uniqueness.")
    assert names_one(question, "Only B-tree indexes can be declared unique.")
    assert not names_one("Which command takes --depth?", "The --depth option limits history.")
    assert names_one("Which command takes --depth?", "The Fetch command takes --depth.")
    assert not names_one("Who opened the bridge?", "The bridge was opened in spring.")
    assert names_one("Who opened the bridge?", "Mayor Olsen opened the bridge.")
    # Other questions may be answered in plain words.
    assert names_one("Why was the bridge closed?", "It was closed for repairs.")


def test_a_word_quoted_on_its_own_is_a_name_though_the_question_uses_the_word():
    page = _page(
        "Once a reader is made, the usual case is to listen for the 'row' event.\n\n"
        "Each row ends at a newline.",
        "Readers",
    )
    question = "Which reader event do I listen to, to get each row?"
    assert best_span("Listen to the 'row' event.", page, question).supported
    # Unquoted, the claim only restates the question's words: it answers nothing.
    assert not best_span("Listen to the row event.", page, question).can
    # A quoted name the window does not hold is not supported.
    assert not best_span("Listen to the 'data' event.", page, question).can
