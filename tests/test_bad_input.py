"""Input that once crashed or passed silently: one clear line and an exit status instead."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.config import load_settings
from qa.errors import UsageError
from qa.index.store import Store
from qa.interfaces.cli import main


def ingest(*args: str):
    return CliRunner().invoke(main, ["ingest", *args])


def test_a_name_that_is_not_utf8_is_skipped_and_the_rest_indexed(tmp_path: Path):
    """Chroma cannot store such a name: the file is skipped, not the whole folder."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / os.fsdecode(b"caf\xe9-latin1.txt")).write_text("The llama is called Pedro.\n")
    (folder / "normal.txt").write_text("The owl is called Hedwig.\n")
    index = tmp_path / "index"
    result = ingest(str(folder), "--index", str(index))
    assert result.exit_code == 0, result.output
    assert "skipped docs/caf\\xe9-latin1.txt: its name is not valid UTF-8: rename it" in (
        result.output
    )
    assert "1 added" in result.output and "1 skipped" in result.output
    settings = load_settings({"index": index}, environ={})
    assert set(Store(settings).sources()) == {"docs/normal.txt"}


def test_an_index_that_is_a_file_is_refused(tmp_path: Path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("The owl is called Hedwig.\n")
    (tmp_path / "regular").write_text("not a folder\n")
    result = ingest(str(folder), "--index", "regular")
    assert result.exit_code == 2
    assert result.output.endswith("error: --index regular is a file, not a folder\n")
    result = ingest(str(folder), "--index", "regular/sub")
    assert result.exit_code == 2
    assert result.output.endswith("error: --index regular/sub: cannot make it (Not a directory)\n")
    with pytest.raises(UsageError, match="is a file, not a folder"):  # any caller, not only ingest
        Store(load_settings({"index": "regular"}, environ={}), create=True)


CHUNK_SIZE = "QA_CHUNK_SIZE/--chunk-size"
SIZE = f"{CHUNK_SIZE}: bad value"
OVERLAP = "QA_CHUNK_OVERLAP/--chunk-overlap"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--chunk-size", "0"], f"{SIZE} 0: must be at least 1"),
        (["--chunk-size", "-5"], f"{SIZE} -5: must be at least 1"),
        (["--chunk-overlap", "700"], f"{OVERLAP} 700 must be less than {CHUNK_SIZE} 600"),
        (
            ["--chunk-size", "50", "--chunk-overlap", "60"],
            f"{OVERLAP} 60 must be less than {CHUNK_SIZE} 50",
        ),
    ],
)
def test_bad_chunk_settings_are_usage_errors(tmp_path: Path, args: list[str], said: str):
    (tmp_path / "a.txt").write_text("The owl is called Hedwig.\n")
    result = ingest("a.txt", "--index", "index", *args)
    assert result.exit_code == 2 and result.output.endswith(f"error: {said}\n"), result.output
    assert not (tmp_path / "index").exists()


def test_bad_settings_from_the_environment_are_refused_the_same_way(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text("The owl is called Hedwig.\n")
    monkeypatch.setenv("QA_CHUNK_SIZE", "0")
    result = ingest("a.txt", "--index", "index")
    assert result.exit_code == 2
    assert result.output == f"error: {SIZE} 0: must be at least 1\n"
    # Size and overlap are checked as they end up: a flag may mend the environment.
    environ = {"QA_CHUNK_OVERLAP": "700"}
    assert load_settings({"chunk_size": 1000}, environ=environ).chunk_overlap == 700
    with pytest.raises(UsageError, match="must be less than QA_CHUNK_SIZE/--chunk-size 600"):
        load_settings(environ=environ)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["-k", "0"], "QA_K/--k: bad value 0: must be at least 1"),
        (["-k", "-1"], "QA_K/--k: bad value -1: must be at least 1"),
        (["--max-tokens", "0"], "QA_MAX_TOKENS/--max-tokens: bad value 0: must be at least 1"),
    ],
)
def test_no_passages_or_no_tokens_are_usage_errors(args: list[str], said: str):
    """Refused before any model or index is opened (there is none here)."""
    result = CliRunner().invoke(main, ["ask", "Who is Pedro?", "--index", "none", *args])
    assert result.exit_code == 2 and result.output == f"error: {said}\n"


def test_a_file_named_on_its_own_that_is_skipped_fails_the_run(tmp_path: Path):
    """A script that names a file learns it was not indexed; in a folder, skipping one
    unreadable file is the normal case."""
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "corrupt.docx").write_bytes(os.urandom(2000))
    (tmp_path / "good.txt").write_text("The owl is called Hedwig.\n")
    skipped = "skipped bad/corrupt.docx: unreadable Word document"
    result = ingest("bad/corrupt.docx", "good.txt", "--index", "index")
    assert result.exit_code == 1 and skipped in result.output
    assert "1 added" in result.output and "1 skipped" in result.output
    result = ingest("bad", "--index", "index")
    assert result.exit_code == 0 and skipped in result.output
    result = ingest("--dry-run", "bad/corrupt.docx", "--index", "index")
    assert result.exit_code == 0 and "dry run, documents unread: " in result.output


def test_names_are_listed_as_spelt_on_one_line():
    from qa.text import printable

    assert printable("we ird\nname\t\u202e.txt") == "we ird\\nname\\t\\u202e.txt"
    assert printable("café › notes.txt") == "café › notes.txt"


def test_a_file_of_a_type_not_read_named_on_its_own_is_said_and_fails(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.xyz").write_text("The owl is called Hedwig.\n")
    result = ingest("notes.xyz", "--index", "index")
    assert result.exit_code == 1
    assert "skipped notes.xyz: not a type docqa reads (.xyz)" in result.output


def test_links_are_indexed_where_they_are_and_link_loops_skipped(tmp_path: Path):
    """A link to a file outside the folder was indexed under its target's name, so removing
    the link left it cited; a link loop stopped the whole ingest with a traceback."""
    from qa.errors import NoDocumentError
    from qa.interfaces.uploads import document

    folder, outside = tmp_path / "docs", tmp_path / "outside"
    folder.mkdir()
    outside.mkdir()
    (outside / "arch.txt").write_text("The archivist of Dunmore is Petra Sol.\n")
    (folder / "garden.txt").write_text("The gardener of Dunmore is Leo Fink.\n")
    (folder / "arch-link.txt").symlink_to(outside / "arch.txt")
    (folder / "x1.txt").symlink_to("x2.txt")
    (folder / "x2.txt").symlink_to("x1.txt")
    (folder / "away").symlink_to(outside)
    index = tmp_path / "index"
    result = ingest(str(folder), "--index", str(index))
    assert result.exit_code == 0 and "2 added" in result.output, result.output
    store = Store(load_settings({"index": index}, environ={}))
    assert set(store.sources()) == {"docs/garden.txt", "docs/arch-link.txt"}
    # The API's documents: the link is one (deleting it removes the link, not its target);
    # nothing through a linked folder or outside the folder is.
    assert document(folder, "arch-link.txt") == folder / "arch-link.txt"
    for name in ("away/arch.txt", "../outside/arch.txt", "x1.txt"):
        with pytest.raises(NoDocumentError):
            document(folder, name)
    (folder / "arch-link.txt").unlink()
    result = ingest(str(folder), "--index", str(index))
    assert result.exit_code == 0 and "1 removed" in result.output, result.output
    assert set(store.sources()) == {"docs/garden.txt"} and (outside / "arch.txt").exists()


@pytest.mark.parametrize("name", ["my docs", "a/b", "ab", "-dash", "with..dot", "x" * 300])
def test_a_collection_name_chroma_cannot_hold_is_one_line(tmp_path: Path, name: str):
    """Chroma refused such names with a traceback (or the file system, a name too long)."""
    (tmp_path / "a.txt").write_text("The owl is called Hedwig.\n")
    result = ingest(
        str(tmp_path / "a.txt"), "--index", str(tmp_path / "index"), "--collection", name
    )
    assert result.exit_code == 2 and "use 3-63 letters, digits" in result.output, result.output
    assert result.output.count("\n") == 1 and not (tmp_path / "index").exists()


def test_one_bad_line_of_a_plain_batch_is_said_and_the_rest_answered(tmp_path: Path, monkeypatch):
    """`qa ask -` without --json stopped at a question too long, the rest unanswered (with
    --json it went on): both now say the error and go on, and exit 1 at the end."""
    from tests import fake_llm

    (tmp_path / "a.txt").write_text("The owl of the tower is called Hedwig.\n")
    index = str(tmp_path / "index")
    assert ingest(str(tmp_path / "a.txt"), "--index", index).exit_code == 0
    llm, url = fake_llm.start(0.0, echoing=True)
    for name, value in {"QA_LLM": "openai", "QA_LLM_BASE_URL": url, "QA_LLM_MODEL": "stub"}.items():
        monkeypatch.setenv(name, value)
    try:
        batch = (
            "What is the owl called?\n" + "x " * 1500 + "\nWhat is the owl of the tower called?\n"
        )
        result = CliRunner().invoke(main, ["ask", "-", "--index", index, "--no-judge"], input=batch)
    finally:
        llm.shutdown()
    assert result.exit_code == 1, result.output
    assert "error: the question is longer than" in result.stderr
    assert result.stdout.count("Hedwig [1].") == 2, result.stdout


def test_a_folder_reached_through_a_link_is_not_indexed_twice(tmp_path: Path):
    """Names were once made with links followed: the same files, indexed again through the
    folder's link, replace their old names rather than join them."""
    real = tmp_path / "real-docs"
    real.mkdir()
    (real / "a.txt").write_text("The owl is called Hedwig.\n")
    (tmp_path / "docs").symlink_to(real, target_is_directory=True)
    index = str(tmp_path / "index")
    assert ingest(str(real), "--index", index).exit_code == 0  # named as links followed
    result = ingest("docs", "--index", index)
    assert result.exit_code == 0 and "1 added" in result.output and "1 removed" in result.output
    store = Store(load_settings({"index": index}, environ={}))
    assert set(store.sources()) == {"docs/a.txt"}
