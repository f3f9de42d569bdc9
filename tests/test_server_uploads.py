"""What reaches the corpus, and how the API refuses what does not, on a real `qa serve` on
127.0.0.1 (real Chroma and MiniLM, the scripted model of tests/fake_llm.py) driven by real
clients (httpx, gradio_client): the page takes only files uploaded to it, bodies are capped
by what they are, refusals name the file and keep the API's error shape, and deleting a
document touches that document alone."""

from __future__ import annotations

import httpx
import pytest

from tests import fake_llm
from tests.servers import article_copy, scripted_env, serve, stop

KEY = "uploads-test-key"
ERROR = {"message", "code"}


@pytest.fixture(scope="module")
def team(tmp_path_factory, article_index):
    """The server (files of 1 MB at most, 2 an upload), its folder, an editor's and an
    admin's token, and a secret file on the server's disk outside everything it serves."""
    from qa.interfaces.users import Role, Users

    base = article_copy(article_index, tmp_path_factory.mktemp("uploads"))
    users = Users(base / "users.json")
    tokens = {}
    for name, role in (("ed", Role.EDITOR), ("ada", Role.ADMIN)):
        users.add(name, role, f"{name}-password")
        tokens[name] = users.issue_token(name)
    secret = base / "private" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("The vault code is 4711.\n")
    llm, llm_url = fake_llm.start(0.0)
    uploaded = base / "gradio"  # Gradio's upload folder
    env = scripted_env(
        base,
        llm_url,
        QA_API_KEY=KEY,
        QA_MAX_UPLOAD_MB="1",
        QA_MAX_UPLOAD_FILES="2",
        GRADIO_TEMP_DIR=str(uploaded),
    )
    proc, url = serve(base, env, base / "server.log")
    yield {"url": url, "base": base, "tokens": tokens, "secret": secret, "uploaded": uploaded}
    stop(proc)
    llm.shutdown()


def bearer(token: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def corpus(team) -> list[str]:
    return sorted(p.name for p in (team["base"] / "corpus").iterdir())


def indexed(team) -> dict[str, int]:
    return httpx.get(f"{team['url']}/api/status", headers=bearer()).json()["files"]


def page_event(team, api_name: str, data: list, user: str) -> tuple[str, str]:
    """Gradio's own API for a page event, called by ``user`` as any client may call it, with
    a FileData path of its choosing (gradio_client would upload the file from its own
    machine first): (the final event, its data)."""
    url, headers = f"{team['url']}/gradio_api/call/{api_name}", bearer(team["tokens"][user])
    started = httpx.post(url, json={"data": data}, headers=headers)
    assert started.status_code == 200, started.text
    with httpx.stream(
        "GET", f"{url}/{started.json()['event_id']}", headers=headers, timeout=120
    ) as s:
        lines = [line for line in s.iter_lines() if line]
    return lines[-2].removeprefix("event: "), lines[-1].removeprefix("data: ")


def test_the_page_takes_only_files_uploaded_to_it(team, tmp_path):
    """A path of the server's own disk sent as an upload (or as a new version) is refused
    and nothing is copied or indexed; a file uploaded to the page is added as before."""
    from gradio_client import Client, handle_file

    before, held = corpus(team), indexed(team)
    outside = {"path": str(team["secret"]), "meta": {"_type": "gradio.FileData"}}
    event, said = page_event(team, "upload", [[outside]], "ed")
    assert event == "error" and "not uploaded by a user" in said, said
    # Nor through Gradio's upload folder: a link in it, or a way out of it with "..".
    link = team["uploaded"] / "planted" / "notes.txt"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(team["secret"])
    climbing = team["uploaded"] / "planted" / ".." / ".." / "private" / "secret.txt"
    for path in (link, climbing):
        event, said = page_event(team, "upload", [[dict(outside, path=str(path))]], "ed")
        assert event == "error" and "not uploaded by a user" in said, said
    new_version = [outside, "newsweek-iran-border-defense.txt", None]
    event, said = page_event(team, "replace", new_version, "ada")
    assert event == "error" and "not uploaded by a user" in said, said
    assert corpus(team) == before and indexed(team) == held
    article = team["base"] / "corpus" / "newsweek-iran-border-defense.txt"
    assert "4711" not in article.read_text()

    doc = tmp_path / "pier-notes.txt"
    doc.write_text("The harbour master of the north pier is Ola Brandt.\n")
    editor = Client(team["url"], verbose=False, headers=bearer(team["tokens"]["ed"]))
    said, *_ = editor.predict([handle_file(str(doc))], api_name="/upload")
    assert "files: 1 added" in said and corpus(team) == sorted([*before, "pier-notes.txt"])
    gone = httpx.delete(f"{team['url']}/api/documents/pier-notes.txt", headers=bearer())
    assert gone.status_code == 200 and corpus(team) == before
