"""End to end with the real bundled LLM, MiniLM and Chroma: cited answers from the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.interfaces.cli import main

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent

# (question, the fact the answer and a citation's quote must both hold)
FACTUAL = [
    ("Which missile system was fired during the Guardians of Velayat Sky-99 exercise?", "Tabas"),
    ("Who is the spokesperson of Iran's Foreign Ministry?", "Khatibzadeh"),
    ("Which two Gulf monarchies normalized ties with Israel?", "Bahrain"),
    ("Which Iranian president warned about a regional war?", "Rouhani"),
]


def ask_json(index: Path, question: str) -> dict:
    result = CliRunner().invoke(main, ["ask", question, "--json", "--index", str(index)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(("question", "fact"), FACTUAL)
def test_answer_holds_the_fact_and_cites_it(
    article_index: Path, monkeypatch, question: str, fact: str
):
    monkeypatch.chdir(article_index)
    out = ask_json(article_index / "index", question)
    assert not out["declined"] and fact in out["answer"]
    assert any(fact in c["quote"] for c in out["citations"])
    for c in out["citations"]:
        source = Path(c["source"]).read_text()
        assert source[c["start"] : c["end"]] == c["quote"]


def test_unanswered_question_is_declined(article_index: Path, monkeypatch):
    monkeypatch.chdir(article_index)
    out = ask_json(
        article_index / "index", "How many people belong to Iran's ethnic Azeri community?"
    )
    assert out["declined"] and out["citations"] == []


def test_plain_mode_streams_then_lists_sources(article_index: Path, monkeypatch):
    monkeypatch.chdir(article_index)
    result = CliRunner().invoke(
        main,
        [
            "ask",
            "Who is the spokesperson of Iran's Foreign Ministry?",
            "--index",
            str(article_index / "index"),
        ],
    )
    assert result.exit_code == 0
    answer, _, sources = result.stdout.partition("\nSources:\n")
    assert "Khatibzadeh" in answer and "[1] corpus/newsweek-iran-border-defense.txt:" in sources


def test_batch_mode_reads_stdin_and_writes_json_lines(article_index: Path):
    questions = [
        "Who is the spokesperson of Iran's Foreign Ministry?",
        "",
        "   ",
        "Who commands the Revolutionary Guard Ground Forces?",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QA_INDEX": str(article_index / "index")}
    proc = subprocess.run(
        [sys.executable, "-m", "qa", "ask", "-", "--json"],
        cwd=article_index,
        input="\n".join(questions) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["question"] for o in lines] == [questions[0], questions[3]]
    assert "Khatibzadeh" in lines[0]["answer"] and "Pakpour" in lines[1]["answer"]


def test_an_answer_saved_as_a_test_passes_in_eval(article_index: Path, monkeypatch, tmp_path):
    """`qa ask --save` appends the answer as a test; `qa eval` of that file passes it."""
    monkeypatch.chdir(article_index)
    tests = tmp_path / "saved.yaml"
    tests.write_text("# saved from the shell\n")
    index = ["--index", str(article_index / "index"), "--eval-file", str(tests)]
    result = CliRunner().invoke(main, ["ask", FACTUAL[1][0], "--save", *index])
    assert result.exit_code == 0 and f"saved as test s01 in {tests}" in result.output
    text = tests.read_text()
    assert text.startswith("# saved from the shell\n") and "Khatibzadeh" in text
    report = tmp_path / "report.json"
    result = CliRunner().invoke(
        main, ["eval", str(tests), "--index", str(article_index / "index"), "--json", str(report)]
    )
    assert result.exit_code == 0 and json.loads(report.read_text())["summary"]["cited"] == 1


def test_a_question_is_read_as_in_a_fresh_process_whatever_came_before():
    """In one process (`qa eval`, a chat) the model reads each prompt on from the primed
    prefix alone. Reused, the passages an earlier question shared would leave only the rest
    of the prompt to read, in other batches, and that rounding can change a greedy answer.
    The next-token scores of a prompt are the same bit for bit before and after another."""
    import llama_cpp
    import numpy as np

    from qa.answering.prompts import PREFIX, PROMPT
    from qa.config import load_settings
    from qa.models.llms import LlamaCppChat, load_llm

    llm = load_llm(load_settings(environ={}))
    assert isinstance(llm, LlamaCppChat)
    llm.prime(PREFIX)
    passages = (
        "[1] The harbour office of Velta commands the northern base, which guards the pass.\n"
        "[2] Its officers train each spring on the coast near Ostria."
    )

    def scores(question: str, max_tokens: int = 1) -> np.ndarray:
        prompt = PROMPT.format_messages(passages=passages, question=question)
        llm.invoke(prompt, max_tokens=max_tokens)
        logits = llama_cpp.llama_get_logits_ith(llm.llama._ctx.ctx, -1)
        return np.ctypeslib.as_array(logits, shape=(llm.llama.n_vocab(),)).copy()

    first = scores("Who commands the northern base?")
    scores("Where do the officers train?", max_tokens=40)  # the same passages
    assert np.array_equal(scores("Who commands the northern base?"), first)


def test_the_model_tells_how_sure_it_was_of_each_token_it_chose():
    """An answer's tokens come with their log-probabilities, read while the model chooses
    them: they spell the answer exactly, a name copied from the passage is near certain, and
    reading them changes nothing the model says."""
    from llama_cpp import Llama

    from qa.answering.prompts import PREFIX, PROMPT
    from qa.config import load_settings
    from qa.models.llms import LlamaCppChat, chat_messages, load_llm

    llm = load_llm(load_settings(environ={}))
    assert isinstance(llm, LlamaCppChat)
    llm.prime(PREFIX)
    passages = "[1] The harbour office of Velta commands the northern base, which guards the pass."
    prompt = PROMPT.format_messages(passages=passages, question="Who commands the northern base?")
    said = llm.invoke(prompt)
    tokens = said.response_metadata["logprobs"]["content"]
    assert "".join(t["token"] for t in tokens) == said.content
    assert all(t["logprob"] <= 0 for t in tokens)
    assert "Velta" in said.content
    velta = next(i for i, t in enumerate(tokens) if "V" in t["token"])
    assert tokens[velta]["logprob"] > -0.7  # copied from the passage: P > 0.5
    llm.prime(PREFIX)
    plain = Llama.create_chat_completion(
        llm.llama, chat_messages(prompt), max_tokens=llm.max_tokens, temperature=0.0
    )
    assert plain["choices"][0]["message"]["content"] == said.content
