"""The calibrated decision: fitting, its operating point, held-out figures, and grounding
that follows it (fast: synthetic signals and hand-made evidence, no LLM)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from qa.config import load_settings
from qa.errors import UsageError
from qa.evaluation import signals
from qa.evaluation.calibrate import MIN_QUESTIONS, fit_and_measure, held_out, matrix
from qa.evaluation.signals import Row, SignalStore, row_key
from qa.grounding.claims import Draft
from qa.grounding.decision import (
    FEATURES,
    SIGNALS,
    VERSION,
    Decision,
    area,
    fit,
    operating_point,
    risk_coverage,
)
from qa.interfaces.cli import main
from qa.retrieval.retrieve import Evidence, Passage
from qa.sentences import sentences
from qa.text import word_spans, words
from tests.test_grounding import grounded


def rows(n: int, groups: int = 4, seed: int = 0) -> list[Row]:
    """Candidates whose judge P(yes) tells right from wrong, with noise."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        right = bool(rng.random() < 0.6)
        judge = float(np.clip(rng.normal(0.75 if right else 0.35, 0.15), 0, 1))
        signals = {f: float(rng.random()) for f in SIGNALS} | {"judge": judge}
        out.append(Row(f"g{i % groups}", right or bool(rng.random() < 0.5), signals, right))
    return out


def test_fitted_decision_ranks_by_its_signals_and_survives_a_round_trip(tmp_path):
    data = rows(200)
    x = np.array([[r.signals[f] for f in FEATURES] for r in data])
    d = fit(x, np.array([r.right for r in data]), risk=0.1)
    low, high = dict(data[0].signals, judge=0.1), dict(data[0].signals, judge=0.9)
    assert d.probability(low) < 0.5 < d.probability(high)
    d.save(tmp_path / "d.json")
    assert Decision.load(tmp_path / "d.json") == d
    (tmp_path / "bad.json").write_text('{"features": ["nonsense"]}')
    with pytest.raises(UsageError):
        Decision.load(tmp_path / "bad.json")
    old = {**json.loads((tmp_path / "d.json").read_text()), "about": {"version": "0"}}
    (tmp_path / "old.json").write_text(json.dumps(old))
    with pytest.raises(UsageError, match="run qa calibrate again"):
        Decision.load(tmp_path / "old.json")


def test_operating_point_keeps_the_risk_and_answers_the_most():
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    right = np.array([True, True, True, False, True])
    assert operating_point(p, right, risk=0.0) == 0.7  # 3 answers, none wrong
    assert operating_point(p, right, risk=0.2) == 0.5  # 5 answers, 1 wrong
    assert operating_point(p, np.zeros(5, bool), risk=0.05) == 1.0  # nothing keeps to it
    curve = risk_coverage(p, right)
    assert [c for _, c, _ in curve] == [0.2, 0.4, 0.6, 0.8, 1.0]
    assert curve[3][2] == 0.25 and area(curve) == pytest.approx((0 + 0 + 0 + 0.25 + 0.2) / 5)


def test_held_out_figures_come_from_fits_that_did_not_see_the_group():
    data = rows(160)
    p, t, how = held_out(data)
    assert how == "leave-one-group-out" and p.shape == t.shape == (160,)
    decision, report = fit_and_measure(data, "synthetic")
    assert report["calibrated"]["aurc"] < report["rules"]["aurc"]  # "rules" is noise here
    assert set(report["groups"]) == {"g0", "g1", "g2", "g3"}
    assert 0 < decision.threshold < 1


def test_a_tiny_set_is_refused_in_one_line(tmp_path):
    with pytest.raises(UsageError, match=f"needs {MIN_QUESTIONS} questions"):
        fit_and_measure(rows(MIN_QUESTIONS - 1), "tiny.yaml")
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text("- {id: a, q: 'Who?', expect: [[Ada]]}\n")
    result = CliRunner().invoke(main, ["calibrate", str(tiny), "--index", str(tmp_path / "i")])
    assert result.exit_code == 2
    assert result.output == f"error: {tiny}: 1 questions; calibrating needs {MIN_QUESTIONS}\n"


def test_signal_store_keeps_rows_by_key(tmp_path):
    store = SignalStore(tmp_path / "s.sqlite")
    row = rows(1)[0]
    store.put("a", row)
    assert SignalStore(tmp_path / "s.sqlite").get(["a", "b"]) == {"a": row}


@pytest.mark.parametrize("prompt", ["PROMPT", "JUDGE"])
def test_stored_signals_are_not_reused_for_another_prompt(monkeypatch, prompt):
    """Another wording of the answer or judge prompt drafts or judges otherwise: its signals
    are new."""
    settings = load_settings(environ={})
    before = row_key(settings, "corpus", "Who?", [])
    assert row_key(settings, "corpus", "Who?", []) == before
    template = getattr(signals, prompt)
    reworded = template.model_copy(update={"messages": template.messages[:-1]})
    monkeypatch.setattr(signals, prompt, reworded)
    assert row_key(settings, "corpus", "Who?", []) != before


def _evidence(text: str) -> Evidence:
    spans = sentences(text)
    return Evidence([Passage("x.txt", 0, len(text), text, spans, spans[0], n=1)], 0.3, 0.5)


def test_grounding_follows_the_decision_over_the_rules():
    """A bare answer the word rules doubt is given when the calibrated decision, here one
    that heeds only the judge, finds it likely right; declined when the judge doubts it."""
    evidence = _evidence("In 1191 the island was taken by Richard after a short siege.")
    question = "Who took the island in 1191?"
    weights = tuple(1.0 if f == "judge" else 0.0 for f in FEATURES)
    zeros = tuple(0.0 for _ in FEATURES)
    ones = tuple(1.0 for _ in FEATURES)
    only_judge = Decision(FEATURES, zeros, ones, weights, -0.5, 0.5, {"version": VERSION})
    draft = "Richard of England [1]."  # "of England" is not in the sentence
    given = grounded(draft, evidence, question, judge=lambda *a: 0.9, decision=only_judge)
    assert given.mode == "generated" and given.confidence > 0.5
    assert given.support[0][1].text.startswith("In 1191")
    doubted = grounded(
        "Richard of England [1].", evidence, question, judge=lambda *a: 0.1, decision=only_judge
    )
    assert doubted.mode == "declined" and doubted.candidate.kind == "rescued"
    by_rules = grounded(draft, evidence, question, judge=lambda *a: 0.9)
    assert by_rules.mode == "declined" and by_rules.confidence == -1.0


def test_which_decision_answers(tmp_path):
    from qa.config import load_settings
    from qa.grounding.decision import load_decision, own_path, shipped

    settings = load_settings({"index": tmp_path / "index"}, environ={})
    assert load_decision(settings) is None  # auto, and no fit of this index's own: the rules
    chosen = load_decision(settings.with_overrides(decision="calibrated"))
    assert chosen == Decision.load(shipped()) and chosen.about["held_out"]
    data = rows(200)
    x = np.array([[r.signals[f] for f in FEATURES] for r in data])
    own = fit(x, np.array([r.right for r in data]), about={"source": "mine.yaml"})
    own.save(own_path(settings))
    assert load_decision(settings) == own  # qa calibrate's fit takes effect under auto
    assert load_decision(settings.with_overrides(decision="rules")) is None
    assert load_decision(settings.with_overrides(judge=False)) is None
    # A fit on generated questions answers only where asked for: on the article it declined
    # more than the rules.
    made = fit(x, np.array([r.right for r in data]), about={"source": "g.yaml", "generated": True})
    made.save(own_path(settings))
    assert load_decision(settings) is None
    assert load_decision(settings.with_overrides(decision="calibrated")) == made


def test_how_sure_the_model_was_is_read_from_the_tokens_of_its_words():
    """The draft's token log-probabilities give three signals: over all its words, the least
    sure token, and the words the question did not already use; citation markers and
    punctuation are no words. A backend without them gives none, and a fit then reads its
    training mean: the signal moves nothing."""
    tokens = (("R", -0.2), ("ichard", -0.0), (" took", -0.1), (" it", -0.3), (" [", -0.9))
    tokens += (("1", -2.0), ("].", -0.5))
    draft = Draft("Richard took it [1].", tokens)
    assert draft.logprobs() == [-0.2, -0.0, -0.1, -0.3]
    assert draft.logprobs(lambda word: word != "took") == [-0.2, -0.0, -0.3]
    # Words are the question's words (qa.text.words): a name with an apostrophe is one.
    named = Draft("O'Brien left.", (("O", -1.0), ("'", -1.0), ("Brien", -1.0), (" left", -0.2)))
    assert named.logprobs(lambda word: word != "o'brien") == [-0.2]
    said = "O'Brien met U.S. officials."
    assert words(said) == ["o'brien", "met", "u.s", "officials"]
    assert [w for *_, w in word_spans(said)] == words(said)
    evidence = _evidence("In 1191 the island was taken by Richard after a short siege.")
    question = "Who took the island in 1191?"
    sure = grounded(draft, evidence, question, judge=lambda *a: 0.9).signals
    assert sure["sure"] == pytest.approx(-0.15) and sure["least_sure"] == -0.3
    assert sure["sure_new"] == pytest.approx(-0.1)  # "Richard": "took" was asked, "it" says nothing
    unsure = grounded(draft.text, evidence, question, judge=lambda *a: 0.9).signals
    assert not {"sure", "least_sure", "sure_new"} & set(unsure)

    d = Decision(("judge", "sure"), (0.5, -0.5), (1.0, 1.0), (1.0, 1.0), 0.0, 0.5)
    assert d.probability({"judge": 0.7}) == d.probability({"judge": 0.7, "sure": -0.5})
    data = rows(3)
    del data[0].signals["judge"]
    x, _ = matrix(data)
    assert x[0, FEATURES.index("judge")] == np.mean([r.signals["judge"] for r in data[1:]])
