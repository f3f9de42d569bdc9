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
