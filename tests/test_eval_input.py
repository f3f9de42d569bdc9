"""Malformed question files are refused with one line naming the entry and the field,
not a traceback, and not read into a question that scores wrongly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.errors import UsageError
from qa.evaluation.questions import Question, load_questions
from qa.interfaces.cli import main

PARAGRAPH = {"context": "Ada lives here.", "qas": [{"id": "s1", "question": "Who?"}]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], 'not SQuAD v2.0 JSON: expected an object with a "data" list'),
        ({"data": [{"title": "x"}]}, "SQuAD article 1 has no paragraphs"),
        ({"data": [{"paragraphs": [{"qas": []}]}]}, "SQuAD article 1, paragraph 1 has no context"),
        (
            {"data": [{"paragraphs": [{"context": "Ada.", "qas": [{"question": "Who?"}]}]}]},
            "SQuAD article 1, paragraph 1, question 1 has no id",
        ),
        (
            {"data": [{"paragraphs": [{**PARAGRAPH, "qas": [{"id": "s1", "question": 5}]}]}]},
            "SQuAD question s1: question must be a string",
        ),
        (
            {"data": [{"paragraphs": [{**PARAGRAPH, "qas": "s1"}]}]},
            "SQuAD article 1, paragraph 1: qas must be a list",
        ),
        (
            {
                "data": [
                    {
                        "paragraphs": [
                            {
                                **PARAGRAPH,
                                "qas": [
                                    {
                                        "id": "s1",
                                        "question": "Who?",
                                        "answers": [{"answer_start": 0}],
                                    }
                                ],
                            }
                        ]
                    }
                ]
            },
            "SQuAD question s1, answer 1 has no text",
        ),
    ],
)
def test_malformed_squad_is_named(tmp_path: Path, data: object, message: str):
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match=f"^{path}: " + message.replace("(", r"\(")):
        load_questions(path)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ("expect: [Zanzibar Quux, Nobody]", "entry e1: expect must be a list of lists of strings"),
        ("expect: Zanzibar", "entry e1: expect must be a list of lists of strings"),
        ("expect: 5", "entry e1: expect must be a list of lists of strings"),
        ("expect: [[Ada], []]", "entry e1: expect must be a list of lists of strings"),
        ("expect: [[Ada, [Byron]]]", "entry e1: expect must be a list of lists of strings"),
        (
            "expect: [[Ada]]\n  history: 'Who is Ada?'",
            "entry e1: history must be a list of questions",
        ),
        ("expect: [[Ada]]\n  answerable: 'false'", "entry e1: answerable must be true or false"),
        ("expect: [[Ada]]\n  support: [a, b]", "entry e1: support must be a string"),
    ],
)
def test_misshapen_yaml_entry_is_named(tmp_path: Path, fields: str, message: str):
    path = tmp_path / "q.yaml"
    path.write_text(f"- id: e1\n  q: Who founded the club?\n  {fields}\n")
    with pytest.raises(UsageError, match=f"^{path}: {message}"):
        load_questions(path)


def test_a_flat_expect_is_shown_its_form(tmp_path: Path):
    path = tmp_path / "q.yaml"
    path.write_text("- {id: e1, q: 'Who?', expect: [Zanzibar Quux, Nobody]}\n")
    result = CliRunner().invoke(main, ["eval", str(path)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: {path}: entry e1: expect must be a list of lists of strings ([[a, b], [c]]); "
        "each inner list is one any-of group"
    ]


def test_an_entry_without_id_is_named_by_its_place(tmp_path: Path):
    path = tmp_path / "q.yaml"
    path.write_text("- {id: a, q: 'Who?', expect: [[Ada]]}\n- {q: 'When?', expect: [['1840']]}\n")
    with pytest.raises(UsageError, match="entry 2 needs at least id and q"):
        load_questions(path)


def test_well_formed_fields_load_as_before(tmp_path: Path):
    path = tmp_path / "q.yaml"
    path.write_text(
        "- {id: a, q: 'When?', expect: [[1840, '1841'], [Ada]], history: ['Who is Ada?'],"
        " support: founded, group: pdf}\n"
        "- {id: 7, q: 'Where?', answerable: false, expect: null, history: null}\n"
    )
    questions, _ = load_questions(path)
    assert questions == [
        Question(
            "a", "When?", [["1840", "1841"], ["Ada"]], "founded", True, ["Who is Ada?"], group="pdf"
        ),
        Question("7", "Where?", [], "", False, []),
    ]


def test_only_an_unknown_id_is_an_error(tmp_path: Path):
    """Before any model loads: a typo in --only ran no questions and passed the gate."""
    path = tmp_path / "q.yaml"
    path.write_text("- {id: a, q: 'Who?', expect: [[Ada]]}\n- {id: b, q: 'When?', expect: [[x]]}\n")
    result = CliRunner().invoke(main, ["eval", str(path), "--only", "a,nope"])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: no question with id nope in {path} (it has a, b)"
    result = CliRunner().invoke(main, ["eval", str(path), "--only", " , "])
    assert result.exit_code == 2 and "--only names no question ids" in result.output
