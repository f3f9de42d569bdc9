"""The transfer protocol's runner (scripts/transfer.py): its counts, its table, its corpora."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from qa.evaluation.questions import Question, load_questions

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def transfer():
    sys.path.insert(0, str(ROOT / "scripts"))  # a script, and it imports its sibling, manuals
    yield importlib.import_module("transfer")
    sys.path.remove(str(ROOT / "scripts"))


def row(answerable=True, draft_right=False, declined=False, correct=False, cited=False, s=1.0):
    return {
        "answerable": answerable,
        "draft_right": draft_right,
        "declined": declined,
        "correct": correct,
        "cited": cited,
        "latency_s": s,
    }


def test_counts_tell_right_drafts_declined_from_wrong_answers(transfer) -> None:
    rows = [
        row(draft_right=True, correct=True, cited=True, s=1.0),  # right, given and cited
        row(draft_right=True, declined=True, s=2.0),  # a right draft the checks threw away
        row(declined=True, s=3.0),  # a wrong draft declined: neither
        row(s=4.0),  # answered wrongly
        row(draft_right=True, s=4.5),  # a right draft replaced by a wrong quote: wrong too
        row(answerable=False, declined=True, s=5.0),
        row(answerable=False, s=6.0),
    ]
    assert transfer.counts(rows) == {
        "answerable": 5,
        "drafts_right": 3,
        "correct_cited": 1,
        "right_drafts_declined": 1,
        "right_drafts_replaced": 1,
        "wrong": 2,
        "unanswerable": 2,
        "unanswerable_declined": 1,
        "p50_s": 4.0,
    }


def test_table_has_a_row_per_corpus_and_all_together(transfer) -> None:
    results = {
        "a": {
            "counts": transfer.counts([row(draft_right=True, declined=True)]),
            "questions": [row(draft_right=True, declined=True)],
        },
        "b": {
            "counts": transfer.counts([row(answerable=False)]),
            "questions": [row(answerable=False)],
        },
    }
    lines = transfer.table(results).splitlines()
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| a", "| b", "| all"]
    assert "| 1/1 (100%) |" in lines[2]  # a's right draft, declined
    assert "| 0/1 (0%) |" in lines[4]  # all together: b's unanswerable question answered


def test_table_gives_the_held_out_questions_and_a_halved_corpus_by_half(transfer) -> None:
    def numbered(id_: str, **kw) -> dict:
        return row(**kw) | {"id": id_}

    halved = [numbered("p01", draft_right=True, declined=True), numbered("p02"), numbered("pu04")]
    results = {
        "apache": {"counts": transfer.counts([row()]), "questions": [numbered("a1")]},
        "pydocs": {"counts": transfer.counts(halved), "questions": halved},
    }
    lines = transfer.table(results).splitlines()
    names = [line.split(" | ")[0] for line in lines[2:]]
    assert names == [
        "| apache",
        "| pydocs",
        "| pydocs odd (dev)",
        "| pydocs even (held out)",
        "| held out",
        "| all",
    ]
    assert "| 1/1 (100%) |" in lines[4]  # the odd half: p01's right draft, declined
    assert lines[6].startswith("| held out | 0/3 (0%) |")  # apache's one and p02 and pu04


def test_draft_right_reads_the_draft_not_the_answer(transfer) -> None:
    q = Question("x", "What is the default?", [["60"]])
    assert transfer.draft_right(q, {"draft": "The default is 60 seconds [1].", "answer": ""})
    assert not transfer.draft_right(q, {"draft": "The documents do not say.", "answer": "60"})
    no = Question("y", "Is it on by default?", [["not", "no,"]])
    assert not transfer.draft_right(no, {"draft": "The documents do not say.", "answer": ""})
    assert transfer.draft_right(no, {"draft": "It is not on by default [1].", "answer": ""})


def test_spread_takes_n_evenly_and_keeps_order(transfer) -> None:
    assert transfer.spread(list(range(10)), 5) == [0, 2, 4, 6, 8]
    assert transfer.spread([1, 2], 5) == [1, 2]


def test_every_corpus_has_its_questions(transfer) -> None:
    """Each corpus's question file parses, every answerable question of a manual has a
    support quote to check, and a manual's group selects questions of both kinds."""
    for corpus in transfer.corpora(ROOT / "tests" / "data" / "missing.json"):
        if corpus.name == "squad":
            continue  # the shared SQuAD file lives outside the repository
        questions, _ = load_questions(corpus.questions)
        mine = [q for q in questions if not corpus.group or q.group == corpus.group]
        assert any(q.answerable for q in mine) and any(not q.answerable for q in mine)
        if corpus.pages:
            assert all(q.support for q in mine if q.answerable), corpus.name
