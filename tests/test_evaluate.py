"""Scoring, the regression gate and SQuAD question sets."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml
from click.testing import CliRunner

from qa.answering.answer import Answer, Citation
from qa.config import load_settings
from qa.evaluation.evaluate import (
    documents,
    machine,
    matches,
    normalise,
    own_baseline,
    regressions,
    score,
    squad_normalise,
    summarise,
)
from qa.evaluation.questions import Question, load_questions
from qa.evaluation.report import by_group
from qa.interfaces.cli import main

ROOT = Path(__file__).resolve().parent.parent


def answer(text: str, declined: bool = False, quotes: tuple[str, ...] = ()) -> Answer:
    citations = [Citation(i + 1, "x", 0, len(q), q) for i, q in enumerate(quotes)]
    return Answer("", text, declined, citations, {"total_s": 1.0})


Q = Question(
    "q1", "Who founded the club?", [["Ada Byron", "Ada Lovelace"], ["1840"]], support="founded in"
)


def test_matching_is_case_and_space_insensitive():
    assert matches("ADA   byron did, in 1840", Q.expect)
    assert not matches("Ada Byron did", Q.expect)  # every group must match


def test_scores_for_hand_made_answers():
    good = score(
        Q,
        answer(
            "Ada Byron founded it in 1840 [1].", quotes=("It was founded in 1840 by Ada Byron.",)
        ),
    )
    assert good.passed and good.correct and good.cited
    uncited = score(
        Q, answer("Ada Byron founded it in 1840 [1].", quotes=("The club meets on Tuesdays.",))
    )
    assert uncited.correct and not uncited.cited and not uncited.passed
    assert uncited.reason == "correct, but no citation holds the answer"
    wrong = score(Q, answer("Charles Babbage founded it in 1840 [1]."))
    assert not wrong.correct and wrong.reason == "wrong answer"
    declined = score(Q, answer("The documents do not say.", declined=True))
    assert not declined.passed and declined.reason == "declined an answerable question"
    unanswerable = Question("u1", "Who paid?", answerable=False)
    assert score(unanswerable, answer("The documents do not say.", declined=True)).passed
    assert not score(unanswerable, answer("Ada paid [1].")).passed


def test_squad_normalisation():
    assert squad_normalise("The  Eiffel-Tower!") == "eiffeltower"
    assert matches("It was built by the Agnes Pellow.", [["Agnes Pellow"]], squad=True)


def test_groups_are_read_and_reported_apart(tmp_path: Path):
    path = tmp_path / "q.yaml"
    path.write_text(
        "- {id: a, group: pdf, q: 'Who?', expect: [[Ada]]}\n"
        "- {id: b, group: html, q: 'When?', expect: [['1840']]}\n"
        "- {id: c, q: 'Where?', answerable: false}\n"
    )
    questions, _ = load_questions(path)
    assert [q.group for q in questions] == ["pdf", "html", ""]
    results = [
        score(questions[0], answer("Ada [1]", quotes=("Ada",))),
        score(questions[1], answer("No")),
    ]
    report = {"summary": summarise(results), "groups": {}, "questions": []}
    report["groups"] = {g: summarise([r for r in results if r.group == g]) for g in ("html", "pdf")}
    lines = by_group(report).splitlines()
    assert lines[1].split()[:3] == ["html", "1", "0"] and lines[2].split()[:3] == ["pdf", "1", "1"]
    assert lines[-1].startswith("all")
    # A group named with a line break stays on its row, escaped.
    report["groups"] = {"pdf\nx": report["groups"]["pdf"]}
    assert by_group(report).splitlines()[1].startswith("pdf\\nx ")


def test_regressions_are_named_and_stale_evidence_is_apart():
    base = {"questions": [{"id": i, "passed": i != "b"} for i in "abc"]}
    now = {
        "questions": [
            {"id": "a", "passed": False},
            {"id": "b", "passed": False},
            {"id": "c", "passed": False, "stale": True},
        ]
    }
    assert regressions(now, base) == (["a"], ["c"])


def test_documents_are_rebuilt_from_overlapping_chunks():
    from langchain_core.documents import Document

    text = "The lamp was lit in 1871. Its keeper was Ada Byron. She kept it for forty years."
    chunks = [
        Document(page_content=text[s:e], metadata={"source": "a.txt", "start": s})
        for s, e in ((0, 40), (30, 70), (60, len(text)))
    ]
    assert documents(chunks) == [normalise(text)]


def test_question_file_is_valid():
    questions, docs = load_questions(ROOT / "eval_questions.yaml")
    answerable = [q for q in questions if q.answerable]
    assert len(answerable) >= 40 and len(questions) - len(answerable) >= 12 and not docs


def test_bad_question_file(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: x\n  q: Who?\n")
    result = CliRunner().invoke(main, ["eval", str(bad)])
    assert result.exit_code == 2 and "x is answerable but has no expect" in result.output


@pytest.mark.slow
def test_gate_fails_with_a_broken_retriever(article_index: Path, monkeypatch):
    """A retriever that finds nothing: questions that passed in the committed baseline now
    fail."""
    from qa.retrieval.retrieve import Evidence

    monkeypatch.chdir(article_index)
    monkeypatch.setattr("qa.answering.chain.Answerer.retrieve", lambda self, q: Evidence([]))
    baseline = json.loads((ROOT / "eval" / "baseline.json").read_text())
    passed = [r["id"] for r in baseline["questions"] if r["passed"] and r["answerable"]][:3]
    # The first one's document "changed": its support is no longer there, so it is stale.
    entries = yaml.safe_load((ROOT / "eval_questions.yaml").read_text())
    for e in entries:
        if e["id"] == passed[0]:
            e["support"] = "a sentence that no document holds"
    (article_index / "q.yaml").write_text(yaml.safe_dump(entries))
    # Made on another machine: the failure says so, since greedy decodes differ across CPUs.
    baseline["machine"] = {"cpu": "Another CPU 9000", "llama_cpp": "CPU : AVX2 = 1"}
    (article_index / "baseline.json").write_text(json.dumps(baseline))
    args = ["eval", "q.yaml", "--only", ",".join(passed)]
    args += ["--index", str(article_index / "index"), "--baseline", "baseline.json"]
    result = CliRunner().invoke(
        main, [*args, "--junit", "out/junit.xml", "--markdown", "out/summary.md"]
    )
    assert result.exit_code == 1
    assert f"regressed since the baseline: {', '.join(passed[1:])}" in result.output
    here = machine(load_settings({"index": article_index / "index"}))
    own = own_baseline(Path("baseline.json"), here)
    assert f"baseline.json was not made on this machine ({here['cpu']})" in result.output
    assert f"--update-baseline --baseline {own}" in result.output
    assert f"the tests need a look): {passed[0]}" in result.output
    # The reports CI systems read say the same, question by question.
    suite = ElementTree.parse(article_index / "out" / "junit.xml").getroot()
    assert suite.tag == "testsuite" and suite.get("tests") == suite.get("failures") == "3"
    cases = suite.findall("testcase")
    assert [c.get("name").split(":")[0] for c in cases] == passed
    why = [c.find("failure").get("message") for c in cases]
    assert why[0].startswith("stale") and all(w.startswith("regressed: ") for w in why[1:])
    summary = (article_index / "out" / "summary.md").read_text()
    assert "| answerable: correct and cited | 0 / 3 (0%) |" in summary
    assert all(f"| {q} |" in summary for q in passed) and summary.count("**regressed**") == 2
    # This machine's own baseline (here: one where they failed too) is the one the gate reads.
    assert CliRunner().invoke(main, [*args[:-1], str(own), "--update-baseline"]).exit_code == 0
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0 and "regressed" not in result.output, result.output


@pytest.mark.slow
def test_squad_file_is_indexed_and_scored(tmp_path: Path):
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        main, ["eval", str(ROOT / "tests" / "data" / "squad_small.json"), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    s = report["summary"]
    assert s["answerable"] == 4 and s["unanswerable"] == 2
    assert s["correct"] >= 3, report["questions"]  # the facts are short and plainly stated
    assert not (tmp_path / ".qa_index").exists()  # a temporary index, not the user's
    # Reported per article too: the SQuAD title is each question's group.
    assert report["groups"] == {"Kestrel Point Lighthouse": s}
    assert "Kestrel Point Lighthouse" in result.output.split("latency p95")[-1]


def test_a_baseline_named_before_the_layout_was_keyed_serves_repacked_weights(tmp_path: Path):
    """Baselines made before the weights' layout was part of the machine were all made with
    the weights repacked: such a machine still finds its own; one loading them as stored
    does not (its greedy decodes differ)."""
    machine_then = {"cpu": "Some CPU", "llama_cpp": "CPU : AVX2 = 1"}
    legacy = own_baseline(tmp_path / "baseline.json", machine_then)
    legacy.write_text("{}")
    repacked = own_baseline(tmp_path / "baseline.json", {**machine_then, "weights": "repacked"})
    stored = own_baseline(tmp_path / "baseline.json", {**machine_then, "weights": "as-stored"})
    assert repacked == legacy and stored != legacy and not stored.exists()
