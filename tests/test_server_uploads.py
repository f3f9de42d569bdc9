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


def test_an_upload_may_be_as_large_as_its_files_and_a_question_may_not(team):
    """POST /api/documents takes files up to the upload cap; the other routes 256 KB, counted
    as the body arrives, so a body without a declared length is refused all the same."""
    url = team["url"]
    lines = "".join(f"Pier {i} is kept by harbour master number {i}.\n" for i in range(8000))
    text = lines.encode()[:300_000]
    files = {"files": ("pier-register.txt", text)}
    added = httpx.post(f"{url}/api/documents", files=files, headers=bearer(), timeout=300)
    assert added.status_code == 200 and added.json()["saved"] == ["pier-register.txt"]
    httpx.delete(f"{url}/api/documents/pier-register.txt", headers=bearer(), timeout=300)

    def chunked(size: int):  # a generator body goes out chunked, with no Content-Length
        for _ in range(size // 65536):
            yield b" " * 65536

    headers = {**bearer(), "Content-Type": "application/json"}
    asked = httpx.post(f"{url}/api/ask", content=chunked(1024 * 1024), headers=headers)
    assert asked.status_code == 413, asked.text
    assert asked.json() == {
        "error": {"message": "the request body is larger than 262144 bytes", "code": 413}
    }
    before = corpus(team)
    body = b"--x\r\nContent-Disposition: form-data; name=files; filename=a.txt\r\n\r\n"
    upload = (part for part in (body, *chunked(3 * 1024 * 1024)))
    headers = {**bearer(), "Content-Type": "multipart/form-data; boundary=x"}
    refused = httpx.post(f"{url}/api/documents", content=upload, headers=headers)
    assert refused.status_code == 413 and set(refused.json()["error"]) == ERROR
    assert corpus(team) == before


def test_upload_refusals_name_the_file_in_one_line(team):
    url = team["url"]
    big = {"files": ("big.txt", b"The quay.\n" * 150_000)}  # 1.5 MB, over the 1 MB cap
    refused = httpx.post(f"{url}/api/documents", files=big, headers=bearer(), timeout=120)
    assert refused.status_code == 413
    assert refused.json()["error"]["message"] == "big.txt: larger than 1 MB"
    nameless = {"files": ("", b"A file without a name.\n")}
    refused = httpx.post(f"{url}/api/documents", files=nameless, headers=bearer())
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "a file has no name: send each file with its name"


def test_every_api_error_has_the_documented_shape(team):
    url = team["url"]
    json_headers = {**bearer(), "Content-Type": "application/json"}
    for method, path, status in (
        ("GET", "/api/nonexist", 404),
        ("GET", "/v1/nonexist", 404),
        ("GET", "/api/ask", 405),
        ("PUT", "/api/ask", 405),
    ):
        reply = httpx.request(method, f"{url}{path}", headers=bearer())
        assert reply.status_code == status, (method, path, reply.text)
        assert set(reply.json()) == {"error"} and reply.json()["error"]["code"] == status
    assert httpx.put(f"{url}/api/ask", headers=bearer()).headers["allow"] == "POST"
    for body in (b'{"question": "\xff"}', b"[" * 5000 + b"]" * 5000):
        reply = httpx.post(f"{url}/api/ask", content=body, headers=json_headers)
        assert reply.status_code == 400 and set(reply.json()["error"]) == ERROR, reply.text


def test_deleting_a_document_removes_it_alone(team):
    """A delete takes that document's chunks out of the index and indexes nothing else: a
    file dropped into the folder by hand stays unindexed until a re-index."""
    url = team["url"]
    files = {"files": ("ferry-notes.txt", b"The ferry leaves from quay 4 at seven.\n")}
    added = httpx.post(f"{url}/api/documents", files=files, headers=bearer(), timeout=120)
    assert added.status_code == 200, added.text
    assert "corpus/ferry-notes.txt" in indexed(team)
    (team["base"] / "corpus" / "by-hand.txt").write_text("Dropped in by hand.\n")
    gone = httpx.delete(f"{url}/api/documents/ferry-notes.txt", headers=bearer(), timeout=120)
    assert gone.status_code == 200, gone.text
    assert "1 removed" in gone.json()["index"] and "0 added" in gone.json()["index"]
    held = indexed(team)
    assert "corpus/ferry-notes.txt" not in held and "corpus/by-hand.txt" not in held
    assert "corpus/newsweek-iran-border-defense.txt" in held
    (team["base"] / "corpus" / "by-hand.txt").unlink()
