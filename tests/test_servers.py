"""Server backends against real servers on 127.0.0.1: llama-cpp-python's OpenAI-compatible
server as the LLM, and `chroma run` as the vector store."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.config import load_settings
from qa.interfaces.cli import main
from tests.servers import free_port, start, stop

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "Who is the spokesperson of Iran's Foreign Ministry?",
    "Which two Gulf monarchies normalized ties with Israel?",
]


@pytest.fixture(scope="module")
def llm_server(tmp_path_factory):
    from qa.models.bundled import DEFAULT_BUNDLED, bundled_path

    gguf = bundled_path(DEFAULT_BUNDLED, load_settings(environ={}).cache_dir)
    port = free_port()
    log = tmp_path_factory.mktemp("llm") / "server.log"
    proc = start(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(gguf),
            "--model_alias",
            "qwen",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--n_threads",
            "2",
        ],
        f"http://127.0.0.1:{port}/v1/models",
        log,
    )
    yield f"http://127.0.0.1:{port}/v1", proc
    stop(proc)


@pytest.fixture
def use_server(monkeypatch, llm_server, article_index):
    monkeypatch.chdir(article_index)
    monkeypatch.setenv("QA_LLM", "openai")
    monkeypatch.setenv("QA_LLM_BASE_URL", llm_server[0])
    monkeypatch.setenv("QA_LLM_MODEL", "qwen")
    monkeypatch.setenv("QA_INDEX", str(article_index / "index"))


def test_openai_backend_gives_a_grounded_cited_answer(use_server):
    result = CliRunner().invoke(main, ["ask", QUESTIONS[0], "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert "Khatibzadeh" in out["answer"] and out["grounding"]["mode"] in {"generated", "quoted"}
    assert any("Khatibzadeh" in c["quote"] for c in out["citations"])


def test_openai_backend_judges_from_the_servers_logprobs(use_server):
    from qa.grounding.ground import MIN_YES
    from qa.grounding.judge import judge_with
    from qa.models.llms import load_llm

    judge = judge_with(load_llm(load_settings()))
    text = "The Ferro Tunnel, dug by the firm Kessel for the town of Marn, opened in 1911."
    right = judge("Which firm dug the Ferro Tunnel?", "Kessel dug the Ferro Tunnel.", text)
    wrong = judge("Which firm dug the Ferro Tunnel?", "Marn dug the Ferro Tunnel.", text)
    assert right >= MIN_YES > wrong
    assert 0 < wrong < right < 1  # odds from the logprobs, not a bare yes or no


def test_openai_backend_drafts_carry_the_models_certainty(use_server):
    from qa.answering.chain import Answerer

    answer = Answerer(load_settings(), record=True).ask(QUESTIONS[0])
    signals = answer.grounding.signals
    assert signals["least_sure"] <= signals["sure"] <= 0  # the draft's token log-probabilities


def test_openai_backend_streams(use_server):
    from qa.answering.chain import Answerer

    tokens: list[str] = []
    answer = Answerer(load_settings()).ask(QUESTIONS[1], on_token=tokens.append)
    assert len(tokens) > 3 and "Bahrain" in "".join(tokens) and "Bahrain" in answer.answer


def test_stopped_server_is_one_line(use_server, monkeypatch):
    # (A server without the model: tests/test_cli_errors.py; llama-cpp-python's server
    # answers any model name with its one model.)
    monkeypatch.setenv("QA_LLM_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("QA_LLM_TIMEOUT", "5")
    result = CliRunner().invoke(main, ["ask", QUESTIONS[0]])
    assert result.exit_code == 3
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("error: cannot reach the LLM server at http://127.0.0.1:")
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("chroma")
    port = free_port()
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    proc = start(
        [chroma, "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
        f"http://127.0.0.1:{port}/api/v2/heartbeat",
        data / "chroma.log",
    )
    yield f"http://127.0.0.1:{port}"
    stop(proc)


def test_chroma_server_gives_the_same_citations(
    chroma_server, article_index, monkeypatch, tmp_path
):
    monkeypatch.chdir(article_index)
    runner = CliRunner()
    server = ["--chroma-url", chroma_server, "--collection", "article"]
    result = runner.invoke(main, ["ingest", "corpus", *server])
    assert result.exit_code == 0, result.output
    again = runner.invoke(main, ["ingest", "corpus", *server])
    assert "1 unchanged" in again.output  # sync works against the server too
    for question in QUESTIONS:
        embedded = json.loads(
            runner.invoke(
                main, ["ask", question, "--json", "--index", str(article_index / "index")]
            ).stdout
        )
        remote = json.loads(runner.invoke(main, ["ask", question, "--json", *server]).stdout)
        assert remote["answer"] == embedded["answer"]
        strip = [
            {k: c[k] for k in ("n", "source", "start", "end", "quote")} for c in remote["citations"]
        ]
        assert strip == [
            {k: c[k] for k in ("n", "source", "start", "end", "quote")}
            for c in embedded["citations"]
        ]


def test_a_replica_without_the_lexical_index_stops_with_one_line(chroma_server, tmp_path):
    """A chat replica on a Chroma server reads the lexical index that qa ingest wrote; where
    there is none it says so, rather than download the whole collection to build one."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The ridge station logged nine readings at dawn.\n")
    server = ["--chroma-url", chroma_server, "--collection", "replica"]
    runner = CliRunner()
    written = runner.invoke(main, ["ingest", str(docs), *server, "--index", str(tmp_path / "i")])
    assert written.exit_code == 0, written.output
    ask = ["ask", "How many readings were logged?", *server]
    elsewhere = runner.invoke(main, [*ask, "--index", str(tmp_path / "none")])
    assert elsewhere.exit_code == 2 and "lexical index" in elsewhere.output
    assert len(elsewhere.output.strip().splitlines()) == 1 and "Traceback" not in elsewhere.output
    shared = runner.invoke(main, [*ask, "--index", str(tmp_path / "i"), "--json"])
    assert shared.exit_code == 0, shared.output
    answer = json.loads(shared.stdout)
    assert not answer["declined"] and answer["citations"][0]["source"].endswith("a.txt")


def test_unreachable_chroma_server_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["status", "--chroma-url", f"http://127.0.0.1:{free_port()}"])
    assert result.exit_code == 3 and result.output.startswith("error: cannot reach Chroma at")
