"""A user's mistakes get one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.interfaces.cli import main
from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent

QA = [sys.executable, "-m", "qa"]


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    return subprocess.run(
        [*QA, *args], capture_output=True, text=True, input=stdin, env=env, timeout=300
    )


def test_ask_without_an_index(tmp_path: Path):
    proc = run("ask", "Who is there?", "--index", str(tmp_path / "nothing"))
    assert proc.returncode == 2
    assert (
        proc.stderr.strip() == f'error: no index at {tmp_path / "nothing"}: run "qa ingest" first'
    )
    assert proc.stdout == ""


def test_an_error_while_the_model_loads_is_still_shown(article_index: Path):
    # The model starts loading before the index opens, and llama.cpp mutes the process
    # while it loads: a missing collection, found meanwhile, must still reach stderr.
    index = str(article_index / "index")
    proc = run("ask", "Who is there?", "--index", index, "--collection", "nosuch")
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        == f"error: no index at {index} (collection 'nosuch'): run \"qa ingest\" first"
    )
    assert proc.stdout == ""


def test_missing_path_and_unknown_flag():
    result = CliRunner().invoke(main, ["ingest", "no/such/folder"])
    assert result.exit_code == 2 and "no such file or directory: no/such/folder" in result.output
    result = CliRunner().invoke(main, ["ask", "--frobnicate", "x"])
    assert result.exit_code == 2 and "No such option" in result.output and "Usage:" in result.output


def test_bad_setting_value(monkeypatch):
    monkeypatch.setenv("QA_K", "many")
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 2 and "QA_K/--k: bad value 'many'" in result.output
    monkeypatch.delenv("QA_K")
    result = CliRunner().invoke(main, ["ask", "x", "--retrieval", "sparse"])
    assert result.exit_code == 2
    assert (
        result.output
        == "error: QA_RETRIEVAL/--retrieval: bad value 'sparse': choose hybrid or dense\n"
    )


def test_empty_question(article_index: Path):
    result = CliRunner().invoke(main, ["ask", "   ", "--index", str(article_index / "index")])
    assert result.exit_code == 2
    assert result.output.strip().endswith("error: the question is empty")


def test_oversized_and_control_character_questions(article_index: Path):
    index = ["--index", str(article_index / "index")]
    result = CliRunner().invoke(main, ["ask", "x" * 100_000, *index])
    assert result.exit_code == 2
    assert result.output.strip().endswith("error: the question is longer than 2000 characters")
    result = CliRunner().invoke(main, ["ask", "\x00\x07\x1b", *index])
    assert result.exit_code == 2 and result.output.strip().endswith("the question is empty")
    # A byte that is not UTF-8 (read by Python as a lone surrogate) was dropped unseen.
    result = CliRunner().invoke(main, ["ask", os.fsdecode(b"Who keeps the caf\xe9?"), *index])
    assert result.exit_code == 2 and result.output.strip().endswith("is not valid UTF-8")


def test_symlink_loop_is_not_followed(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Golf is played on a course of eighteen holes.\n")
    (docs / "loop").symlink_to(docs, target_is_directory=True)
    result = CliRunner().invoke(main, ["ingest", str(docs), "--index", str(tmp_path / "index")])
    assert result.exit_code == 0, result.output
    assert "1 added" in result.output


class _Failing(BaseHTTPRequestHandler):
    """An OpenAI-compatible server that answers every request with ``status``: 404 (no such
    model, as vLLM and Ollama say it) or 500 (broken)."""

    status = 404

    def do_POST(self) -> None:
        said = b"model not found" if self.status == 404 else b"the server broke"
        body = b'{"error": {"message": "%s", "type": "server_error"}}' % said
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.mark.parametrize("status", [404, 500])
def test_server_failures_are_one_line_in_eval_and_ask(article_index: Path, monkeypatch, status):
    """The backend translates its errors itself: `qa eval` (warm-up, answers, the judge) and
    `qa ask` print one line, whether the server is down, lacks the model or fails."""
    monkeypatch.chdir(article_index)
    server = HTTPServer(("127.0.0.1", 0), type("Failing", (_Failing,), {"status": status}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("QA_LLM", "openai")
    monkeypatch.setenv("QA_LLM_MODEL", "no-such-model")
    monkeypatch.setenv("QA_INDEX", str(article_index / "index"))
    try:
        for base in (
            f"http://127.0.0.1:{server.server_port}/v1",
            f"http://127.0.0.1:{free_port()}/v1",
        ):
            monkeypatch.setenv("QA_LLM_BASE_URL", base)
            for args in (
                ["eval", str(ROOT / "eval_questions.yaml"), "--only", "q01"],
                ["ask", "Who?"],
            ):
                result = CliRunner().invoke(main, args)
                lines = result.output.strip().splitlines()
                assert result.exit_code == 3, result.output
                assert "Traceback" not in result.output
                assert lines[-1] in {
                    f"error: cannot reach the LLM server at {base} (is it running?)",
                    f"error: the LLM server at {base} has no model 'no-such-model'",
                    f"error: the LLM server at {base} answered 500: the server broke",
                }
    finally:
        server.shutdown()
