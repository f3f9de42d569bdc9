"""What a collection keeps of its own, on a real index: who may ask it (`qa collections
allow/deny/open`, read from the index's collections.json by the server at each request),
its eval file and its calibrated decision. The server's side of the limits is tested end
to end in tests/test_auth.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.config import load_settings
from qa.interfaces.cli import main
from qa.interfaces.collections import folder_of, limited_to, may_ask
from qa.interfaces.users import ANYONE, Role, User


@pytest.fixture
def index(tmp_path: Path, article_index: Path) -> Path:
    shutil.copytree(article_index / "index", tmp_path / "index")
    return tmp_path / "index"


def qa(*args: str) -> str:
    done = CliRunner().invoke(main, list(args))
    assert done.exit_code == 0, done.output
    return done.output


def test_a_collection_is_limited_opened_and_listed(index: Path):
    settings = load_settings({"index": index}, environ={})
    rita, ed, ada = User("rita", Role.READER), User("ed", Role.EDITOR), User("ada", Role.ADMIN)
    assert may_ask(settings, "docqa", rita) and limited_to(settings, "docqa") is None
    qa("collections", "allow", "docqa", "ed", "rita", "--index", str(index))
    qa("collections", "deny", "docqa", "rita", "--index", str(index))
    assert limited_to(settings, "docqa") == ["ed"]
    assert not may_ask(settings, "docqa", rita) and may_ask(settings, "docqa", ed)
    assert may_ask(settings, "docqa", ada) and may_ask(settings, "docqa", ANYONE)
    assert not may_ask(settings, "docqa", None)
    assert "docqa\t1 file\t" in qa("collections", "--index", str(index))
    assert "\tonly: ed" in qa("collections", "--index", str(index))
    qa("collections", "open", "docqa", "--index", str(index))
    assert may_ask(settings, "docqa", rita)
    refused = CliRunner().invoke(main, ["collections", "allow", "no", "ed", "--index", str(index)])
    assert refused.exit_code != 0 and "no collection 'no'" in refused.output


def test_an_older_record_of_folders_still_reads(index: Path, tmp_path: Path):
    """collections.json once mapped a name to its folder alone."""
    (index / "collections.json").write_text(json.dumps({"docqa": str(tmp_path / "docs")}))
    settings = load_settings({"index": index}, environ={})
    assert folder_of(settings) == tmp_path / "docs"
    assert limited_to(settings, "docqa") is None
    qa("collections", "allow", "docqa", "ed", "--index", str(index))
    assert folder_of(settings) == tmp_path / "docs" and limited_to(settings, "docqa") == ["ed"]


def test_a_collection_has_its_own_questions_and_decision(tmp_path: Path):
    from qa.evaluation.questions import eval_file_of
    from qa.grounding.decision import Decision, load_decision, own_path, shipped
    from qa.interfaces.measure import default_questions

    default = load_settings({"index": tmp_path / "index"}, environ={})
    ferries = default.with_overrides(collection="ferries")
    assert eval_file_of(default) == Path("eval_questions.yaml")
    assert eval_file_of(ferries) == Path("eval_questions-ferries.yaml")
    assert default_questions(ferries) == Path("eval_questions.yaml")  # none of its own yet
    Path("eval_questions-ferries.yaml").write_text("[]\n")  # the test runs in tmp_path
    assert default_questions(ferries) == Path("eval_questions-ferries.yaml")
    assert default_questions(default) == Path("eval_questions.yaml")
    # qa calibrate --collection ferries saves here; the default collection does not read it.
    assert own_path(ferries) == tmp_path / "index" / "decision-ferries.json"
    Decision.load(shipped()).save(own_path(ferries))
    assert load_decision(ferries) == Decision.load(shipped())
    assert load_decision(default) is None  # auto: no fit of its own, the rules
