"""`qa generate`: answer spans and their checks, unanswerable questions checked against the
whole index (fast: a real lexical index, no model), and one run with the real bundled model."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from langchain_core.documents import Document

from qa.evaluation.generate import Generated, Generator, save
from qa.evaluation.questions import load_questions
from qa.evaluation.spans import (
    SpanKind,
    Target,
    expected,
    not_a_question,
    question_text,
    specific,
    targets,
)
from qa.evaluation.unanswerable import (
    Change,
    Pools,
    candidates,
    co_occurs,
    nearby,
    negated,
    negation_held,
    unanswerable,
)
from qa.grounding.decision import operating_point
from qa.index.lexical import Lexical, terms

# An invented text, about no real document.
TEXTS = [
    "The Lumen Bridge was designed by Clara Veld in 1932. It spans the river Ost.",
    "Clara Veld also built two railway stations in Norden.",
    "The Harbour Museum in Norden holds 4,000 maps. Its director is Ivo Brandt.",
    "The museum never lends its maps to other cities.",
]


@pytest.fixture
def lexical(tmp_path: Path) -> Lexical:
    index = Lexical(tmp_path / "lexical.sqlite3")
    with index.transaction():
        index.add(
            [
                Document(
                    page_content=t,
                    metadata={"source": "a.txt", "start": i * 100, "end": i * 100 + len(t)},
                    id=f"c{i}",
                )
                for i, t in enumerate(TEXTS)
            ]
        )
    return index


def kinds(sentence: str) -> dict[str, str]:
    return {t.text: t.kind for t in targets(sentence)}


def test_spans_are_names_numbers_with_units_identifiers_versions_and_noun_phrases():
    found = kinds("Since version 2.4 the limit of read.fwf is 70 characters; see --depth.")
    assert found == {
        "2.4": SpanKind.VERSION,
        "read.fwf": SpanKind.CODE,
        "--depth": SpanKind.CODE,
        "70 characters": SpanKind.NUMBER,
        "limit": SpanKind.PHRASE,
    }
    found = kinds(
        "In Norden, Major General Ivo Brandt and Clara Veld met the Bank of Ost on October 3."
    )
    assert {"Major General Ivo Brandt", "Clara Veld", "Bank of Ost", "October 3"} <= set(found)
    assert "Norden, Major General Ivo Brandt" not in found  # a comma ends a name
    assert "In" not in found
    sentence = "He met Yerevan's envoy."
    (name,) = targets(sentence)
    assert name.text == "Yerevan" and sentence[name.start : name.end] == name.text


def test_spans_with_no_one_answer_are_left_out_before_the_model_is_asked():
    sentence = "The first bridge holds 4,000 maps, room 1 and the museum; Clara Veld drew it."
    df = {"bridg": 40, "first": 30, "map": 2, "room": 2, "museum": 3, "clara": 1, "veld": 1}
    kept = {t.text for t in specific(targets(sentence), lambda w: df.get(w, 0), 100)}
    # "bridge" is in 40% of the chunks, "first" an adjective, "1" a lone digit.
    assert kept == {"4,000 maps", "Clara Veld", "museum"}, kept
    assert "21" not in {t.text for t in targets("Built at 12:06:21 on October 3.")}


def test_expect_is_what_the_question_does_not_already_say():
    name = Target(SpanKind.NAME, 0, 24, "Major General Ivo Brandt")
    assert expected("Which major general directs the museum?", name) == "Ivo Brandt"
    assert expected("What did Ivo Brandt direct?", name) == "Major General"
    assert expected("Who is Major General Ivo Brandt?", name) == ""
    number = Target(SpanKind.NUMBER, 0, 9, "4,000 maps")
    assert expected("How many maps does the museum hold?", number) == "4,000"
    assert expected("Does the museum hold 4,000 maps?", number) == ""
    code = Target(SpanKind.CODE, 0, 7, "--depth")
    assert expected("Which option limits the history?", code) == "--depth"


def test_a_question_must_be_one_and_stand_alone():
    assert question_text('Question: "Who designed the bridge?"\nAnswer: Clara') == (
        "Who designed the bridge?"
    )
    assert not_a_question("Who designed the Lumen Bridge?") == ""
    assert not_a_question("The bridge was designed by whom") == "not a question"
    assert not_a_question("Who?") == "too short or too long"
    assert not_a_question("Who is named in the text as its designer?") == "does not stand alone"
    # A closing pointer at the text is dropped: the question reads the same without it.
    assert question_text("Which maps does the museum hold, as described in the text?") == (
        "Which maps does the museum hold?"
    )


def test_a_swapped_name_is_checked_against_every_chunk(lexical: Lexical):
    around = terms("museum maps")
    assert co_occurs(lexical, around, "Norden")  # chunk 2 holds all three
    assert not co_occurs(lexical, around, "Veld")  # Veld never meets the museum's maps
    assert not co_occurs(lexical, terms("bridge designed"), "4")  # not a term: read the text
    assert co_occurs(lexical, terms("museum maps"), "4,000")
    assert negation_held(lexical, terms("museum lends"))  # "never lends"
    assert not negation_held(lexical, terms("bridge designed"))


def test_unanswerable_questions_are_made_only_where_the_index_never_says(lexical: Lexical):
    pools = Pools()
    for t in TEXTS:
        pools.add(t)
    assert {"Veld", "Norden", "Brandt"} <= pools.names and "4,000" in pools.numbers
    rng = random.Random(0)
    question, sentence = "Who directs the Harbour Museum in Norden?", TEXTS[2]
    made, why = unanswerable(question, sentence, Change.ENTITY, pools, lexical, rng)
    assert made is not None and why == "", why
    assert made.was in {"Harbour", "Museum", "Norden"} and made.now not in sentence
    around = [t for t in terms(question) if t not in terms(made.was)]
    assert not lexical.holding([*around[:1], *terms(made.now)]) or made.change == Change.ENTITY
    made, why = unanswerable(question, sentence, Change.NUMBER, pools, lexical, rng)
    assert made is None and "nothing to change" in why
    made, _ = unanswerable(
        "Who designed the Lumen Bridge?", TEXTS[0], Change.NEGATION, pools, lexical, rng
    )
    assert made is not None and made.q == "Who did not design the Lumen Bridge?"
    made, why = unanswerable(
        "What does the museum lend to cities?", TEXTS[3], Change.NEGATION, pools, lexical, rng
    )
    assert made is None and why == "negation: the documents hold one"


def test_a_swapped_word_is_one_the_documents_use_on_the_question_s_subject(lexical: Lexical):
    # Beside "museum": Norden, Harbour, Ivo, Brandt, maps; never Lumen or Ost (the bridge's).
    near = nearby(lexical, terms("museum"), ["Norden", "Brandt", "Lumen", "Ost"], random.Random(0))
    assert sorted(near) == ["Brandt", "Norden"]


def test_swaps_keep_a_possessive_and_leave_initials_and_bare_nouns_alone():
    found = {
        w: c
        for c, w, _ in candidates(
            "What is Brandt's role in the U. S. museum?", Pools(), random.Random(0)
        )
    }
    assert found == {"Brandt": Change.ENTITY}  # "role" and "museum" follow no determiner
    found = {
        w: c
        for c, w, _ in candidates("Who is the director of 4,000 maps?", Pools(), random.Random(0))
    }
    assert found == {"director": Change.ATTRIBUTE, "4,000": Change.NUMBER}
    found = {w for c, w, _ in candidates("Which special map does the museum hold?", Pools(), None)}
    assert found == {"museum"}  # not "special", an adjective too: the question stays answerable
    changed = [
        next(iter(o)) for c, w, o in candidates("Who paid 4,000?", Pools(), random.Random(0))
    ]
    assert changed[0] in {"8,000", "12,000"}
    # Every candidate read before the first is tried, as ``unanswerable`` does: the number's
    # replacements are still the number's, not made from the question's last word.
    found = list(candidates("How many floats did 4,000 people buy?", Pools(), random.Random(0)))
    assert next(o for c, w, o in found if c == Change.NUMBER)[0] in {"8,000", "12,000"}


def test_negated_forms():
    assert negated("Who designed the Lumen Bridge?") == "Who did not design the Lumen Bridge?"
    assert negated("What is the river called?") == "What is the river not called?"
    assert negated("What was the bridge built from?") == "What was the bridge not built from?"
    assert negated("Which company was founded in 1990?") == "Which company was not founded in 1990?"
    assert negated("What can the tool read?") == "What can the tool not read?"
    assert negated("What has the council approved?") == "What has the council not approved?"
    assert negated("What is the capital of Veldia?") == "What is not the capital of Veldia?"
    assert negated("Which city does Clara Veld visit?") == "Which city does Clara Veld not visit?"
    assert negated("When did Harbour Guard Ivo Brandt visit?") == (
        "When did Harbour Guard Ivo Brandt not visit?"  # "Guard" is a name here, not a verb
    )
    assert negated("What does the test command sort using?") == (
        "What does the test command not sort using?"  # "test" and "command" are the subject's
    )
    assert negated("When was the Lumen Bridge built?") == ""  # not "When was not the ..."
    assert negated("What is the name of the bridge built by Veld?") == (
        "What is not the name of the bridge built by Veld?"  # "built" is the bridge's
    )
    assert negated("Which capitals were conducting talks?") == (
        "Which capitals were not conducting talks?"
    )
    assert negated("Bridge?") == ""


def test_generated_sets_load_as_any_other(tmp_path: Path):
    out = Generated(
        [
            {
                "id": "g001",
                "q": "Who designed the Lumen Bridge?",
                "expect": [["Clara Veld"]],
                "support": TEXTS[0].split(". ")[0] + ".",
                "answerable": True,
                "group": "a.txt",
                "generated": True,
                "kind": "name",
                "passage": {"source": "a.txt", "start": 0, "end": 51, "answer": [32, 42]},
                "model": "m",
            },
            {"id": "u001", "q": "Who designed the Ost Bridge?", "answerable": False},
        ]
    )
    path = tmp_path / "gen.yaml"
    save(out, path, ["a header", "rejected: 2"])
    assert path.read_text().startswith("# a header\n# rejected: 2\n")
    asked, _ = load_questions(path)
    assert [q.id for q in asked] == ["g001", "u001"] and asked[0].expect == [["Clara Veld"]]


def test_weighted_labels_move_the_operating_point():
    p = np.array([0.9, 0.8, 0.7, 0.6])
    right = np.array([True, True, False, True])
    assert operating_point(p, right, 0.25) == 0.6  # one wrong in four given
    assert operating_point(p, right, 0.25, np.array([1, 1, 4, 1])) == 0.8  # the wrong counts 4x


@pytest.mark.slow
def test_generated_questions_hold_their_answers_verbatim(answerer, article_index: Path):
    """The real bundled model writes a handful of questions about the article: each answer is
    verbatim in the source file at its offsets and not in its question; the unanswerable one
    names something the article does not say together."""
    made = Generator(answerer, seed=3).run(count=4, minutes=10)  # bounded for a loaded machine
    assert len(made.questions) == 4 and made.answerable == 3, made.rejected
    for q in made.questions:
        text = (article_index / q["passage"]["source"]).read_text()
        if q["answerable"]:
            start, end = q["passage"]["answer"]
            assert q["expect"][0][0] in text[start:end], q
            assert q["expect"][0][0].lower() not in q["q"].lower(), q
            assert q["support"] == text[q["passage"]["start"] : q["passage"]["end"]]
        else:
            assert q["kind"] in {str(c) for c in Change} and q["q"].endswith("?")
    assert made.llm_calls >= 3 and made.llm_s > 0


def test_calibrate_generated_fits_on_stored_signals_with_saved_labels(tmp_path: Path):
    """`qa calibrate --generated` reads the index's generated set and the labels saved in
    QA_EVAL_FILE, answering none that are stored already (synthetic signals, no model)."""
    from click.testing import CliRunner

    from qa.config import load_settings
    from qa.evaluation.generate import generated_path
    from qa.evaluation.questions import corpus_id
    from qa.evaluation.signals import Row, SignalStore, row_key
    from qa.grounding.decision import SIGNALS, Decision, own_path
    from qa.interfaces.cli import main

    settings = load_settings({"index": tmp_path / "idx", "eval_file": tmp_path / "mine.yaml"})
    made = [
        {"id": f"g{i:03d}", "q": f"Question {i}?", "expect": [["x"]], "generated": True}
        for i in range(60)
    ]
    save(Generated(made), generated_path(settings), ["generated"])
    (tmp_path / "mine.yaml").write_text(
        "- id: q01\n  q: Not saved?\n  expect: [[x]]\n"
        + "".join(f"- id: s{i:02d}\n  q: Saved {i}?\n  expect: [[x]]\n" for i in range(1, 6))
    )
    rng = np.random.default_rng(0)
    store, corpus = SignalStore.of(settings), corpus_id({}, settings)
    for q in [*(m["q"] for m in made), *(f"Saved {i}?" for i in range(1, 6))]:
        right = bool(rng.random() < 0.5)
        signals = {f: float(rng.random()) for f in SIGNALS} | {"judge": 0.8 if right else 0.3}
        store.put(row_key(settings, corpus, q, []), Row("", True, signals, right))
    args = ["calibrate", "--generated", "--index", str(tmp_path / "idx")]
    result = CliRunner().invoke(main, [*args, "--eval-file", str(tmp_path / "mine.yaml")])
    assert result.exit_code == 0, result.output
    assert "5 saved labels join the fit, each counted 4x" in result.output
    assert Decision.load(own_path(settings)).about["questions"] == 65
    result = CliRunner().invoke(main, ["calibrate"])
    assert result.exit_code == 2 and "--generated" in result.output
