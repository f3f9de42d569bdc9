"""The door's parts without a server (fast): the users file and its tokens, `qa users`, the
upload checks, the rates and the queue's cap."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.errors import BusyError, RefusedUploadError, TimedOutError, UsageError
from qa.interfaces import uploads
from qa.interfaces.cli import main
from qa.interfaces.limits import Queue, Rate
from qa.interfaces.users import Action, Role, Users

CAPS = uploads.Caps(file_mb=1, files=3, corpus_mb=2)


def test_users_file_keeps_hashes_only_and_checks_in_constant_time_ways(tmp_path):
    users = Users(tmp_path / "users.json")
    users.add("ana", Role.EDITOR, "correct horse")
    token = users.issue_token("ana")
    raw = (tmp_path / "users.json").read_text()
    assert "correct horse" not in raw and token not in raw  # hashes only
    assert (tmp_path / "users.json").stat().st_mode & 0o077 == 0  # the owner's alone
    assert users.by_password("ana", "correct horse").role is Role.EDITOR
    assert users.by_password("ana", "wrong") is None and users.by_password("bob", "x") is None
    assert users.by_token(token).name == "ana" and users.by_token(token + "x") is None
    ana = users.all()["ana"]
    assert ana.can(Action.UPLOAD) and not ana.can(Action.DELETE)
    assert users.revoke_tokens("ana") == 1 and users.by_token(token) is None
    users.remove("ana")
    assert users.all() == {}
    with pytest.raises(UsageError, match="bad user name"):
        users.add("api-key", Role.ADMIN, "x")
    with pytest.raises(UsageError, match="72 bytes"):
        users.add("long", Role.READER, "x" * 73)


def test_qa_users_commands(tmp_path):
    runner = CliRunner()
    file = ["--users", str(tmp_path / "u.json")]
    added = runner.invoke(main, ["users", "add", "rita", *file], input="pw\npw\n")
    assert added.exit_code == 0 and "rita: reader (may ask)" in added.output
    token = runner.invoke(main, ["users", "token", "rita", *file]).stdout.strip()
    assert token.startswith("qa_") and Users(tmp_path / "u.json").by_token(token).name == "rita"
    listed = runner.invoke(main, ["users", "list", *file]).stdout
    assert listed == "rita\treader\t1 token(s)\n"
    assert runner.invoke(main, ["users", "remove", "nobody", *file]).exit_code == 2
    assert runner.invoke(main, ["users", "remove", "rita", *file]).exit_code == 0


@pytest.mark.parametrize(
    ("given", "saved"),
    [
        ("../../etc/cron.d/x.txt", "x.txt"),
        ("C:\\Users\\me\\notes.md", "notes.md"),
        (".bashrc.txt", "bashrc.txt"),
        ("Résumé 2024.PDF", "Résumé 2024.pdf"),
        ("a;rm -rf ~.html", "a_rm -rf _.html"),
    ],
)
def test_upload_names_are_cleaned(given, saved):
    assert uploads.clean_name(given) == saved


@pytest.mark.parametrize("given", ["run.sh", "noext", "..", ".txt", "/"])
def test_unsupported_names_are_refused(given):
    with pytest.raises(RefusedUploadError):
        uploads.clean_name(given)


def test_uploads_are_checked_whole_and_never_replace_or_follow_links(tmp_path):
    corpus, inbox = tmp_path / "corpus", tmp_path / "in"
    corpus.mkdir()
    inbox.mkdir()
    (inbox / "a.txt").write_text("one\n")
    (inbox / "b.pdf").write_bytes(b"text pretending to be a PDF")
    with pytest.raises(RefusedUploadError, match=r"not a \.pdf file"):
        uploads.store_files([("a.txt", inbox / "a.txt"), ("b.pdf", inbox / "b.pdf")], corpus, CAPS)
    (inbox / "c.docx").write_bytes(b"MZ\x90\x00 a program renamed")
    with pytest.raises(RefusedUploadError, match=r"not a \.docx file"):
        uploads.store_files([("c.docx", inbox / "c.docx")], corpus, CAPS)
    assert list(corpus.iterdir()) == []  # a refusal writes nothing, not even the good file
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me\n")
    (corpus / "a.txt").symlink_to(outside)  # planted under the name an upload will want
    stored = uploads.store_files([("a.txt", inbox / "a.txt")], corpus, CAPS)
    assert outside.read_text() == "keep me\n" and stored.saved == [corpus / "a-1.txt"]
    again = uploads.store_files([("a.txt", inbox / "a.txt")], corpus, CAPS)
    assert again.saved == [] and again.same == ["a.txt"]  # the same bytes are not copied twice
    assert not [p for p in corpus.iterdir() if p.name.startswith(".")]  # no temp file left
    with pytest.raises(RefusedUploadError, match="at most 3"):
        uploads.store_files([("a.txt", inbox / "a.txt")] * 4, corpus, CAPS)
    (inbox / "big.txt").write_bytes(b"x" * (CAPS.file_mb * uploads.MB + 1))
    with pytest.raises(RefusedUploadError, match="larger than") as e:
        uploads.store_files([("big.txt", inbox / "big.txt")], corpus, CAPS)
    assert e.value.http_status == 413


def test_the_corpus_cap_and_a_failed_index_leave_the_corpus_as_it_was(tmp_path):
    from qa.config import load_settings

    corpus, inbox = tmp_path / "corpus", tmp_path / "in"
    inbox.mkdir()
    for i in range(3):
        (inbox / f"{i}.txt").write_bytes(b"y" * (CAPS.file_mb * uploads.MB - 10))
    files = [(f"{i}.txt", inbox / f"{i}.txt") for i in range(3)]
    with pytest.raises(RefusedUploadError, match="cap of 2 MB"):
        uploads.store_files(files, corpus, CAPS)
    settings = load_settings({"index": tmp_path / "not-a-dir"}, environ={})
    (tmp_path / "not-a-dir").write_text("an index that cannot be opened")
    (inbox / "ok.txt").write_text("The ridge station logged nine readings.\n")
    with pytest.raises(Exception) as failed:  # whatever the store raises
        uploads.add([("ok.txt", inbox / "ok.txt")], corpus, CAPS, settings)
    assert not isinstance(failed.value, RefusedUploadError)  # it failed indexing, after writing
    assert list(corpus.iterdir()) == []


def test_rates_and_the_queue_cap():
    rate = Rate(2, "questions")
    rate.hit("ana")
    rate.hit("ana")
    rate.hit("bob")  # each user has their own
    with pytest.raises(BusyError, match="2 a minute") as e:
        rate.hit("ana")
    assert e.value.http_status == 429 and 0 < e.value.retry_after <= 60

    queue = Queue(cap=1, timeout=0.3)
    holding, waiting = threading.Event(), threading.Event()

    def hold() -> None:
        with queue.turn():
            holding.set()
            waiting.wait(5)

    threading.Thread(target=hold, daemon=True).start()
    holding.wait(5)
    began = time.perf_counter()
    with pytest.raises(TimedOutError), queue.turn():  # one may wait, then gives up
        pass
    assert time.perf_counter() - began >= 0.3
    queue.others = lambda: 1  # one waiting in the page's queue fills a cap of 1
    with pytest.raises(BusyError, match="busy, 1 waiting"):
        queue.admit()
    waiting.set()


def test_audit_lines_are_json(tmp_path):
    from qa.interfaces.audit import Audit

    audit = Audit(tmp_path / "a.jsonl")
    audit.record("ask", "ana", "127.0.0.1", via="page", question="Who?")
    audit.record("upload", "ed", "10.0.0.2", files=["x.txt"])
    lines = [json.loads(line) for line in Path(tmp_path / "a.jsonl").read_text().splitlines()]
    assert [(x["event"], x["user"], x["from"]) for x in lines] == [
        ("ask", "ana", "127.0.0.1"),
        ("upload", "ed", "10.0.0.2"),
    ]
