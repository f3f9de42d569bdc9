"""A user's mistakes get one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from qa.cli import main

QA = [sys.executable, "-m", "qa.cli"]


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


def test_missing_path_and_unknown_flag():
    result = CliRunner().invoke(main, ["ingest", "no/such/folder"])
    assert result.exit_code == 2 and "no such file or directory: no/such/folder" in result.output
    result = CliRunner().invoke(main, ["ask", "--frobnicate", "x"])
    assert result.exit_code == 2 and "No such option" in result.output and "Usage:" in result.output


def test_bad_setting_value(monkeypatch):
    monkeypatch.setenv("QA_K", "many")
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 2 and "QA_K/--k: bad value 'many'" in result.output


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


def test_symlink_loop_is_not_followed(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Golf is played on a course of eighteen holes.\n")
    (docs / "loop").symlink_to(docs, target_is_directory=True)
    result = CliRunner().invoke(main, ["ingest", str(docs), "--index", str(tmp_path / "index")])
    assert result.exit_code == 0, result.output
    assert "1 added" in result.output
