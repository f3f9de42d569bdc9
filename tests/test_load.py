"""Under a bounded load: 20 clients ask over /api/ask on 127.0.0.1 while `qa serve --watch`
syncs a folder of 300 files that are written, changed and removed meanwhile. No request
fails (200, or the documented 429 with Retry-After) and no answer cites a file removed
before its question was asked. The model is the scripted one (tests/fake_llm.py): this is
about the server, the index and the watch, not about what the model says. Run it alone
with `pytest -m load`; it is part of the whole run too."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

import httpx
import pytest

from tests import fake_llm
from tests.servers import article_copy, scripted_env, serve, stop

CLIENTS = 20
FILES = 300
CHANGED = range(0, 60, 2)  # 30 files rewritten while the clients ask
REMOVED = range(1, 61, 2)  # 30 files removed while the clients ask
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]  # 70


def code(i: int) -> str:
    """A word that only note ``i`` holds, so its question finds it first."""
    return SYLLABLES[i % 70] + SYLLABLES[(i // 70) % 70] + "ix"


def note(i: int, version: int = 1) -> str:
    return f"Station {code(i)} logged tide gauge reading {i * 3 + version} in version {version}.\n"


@dataclass
class Asked:
    about: str  # the note the question is about
    sent: float  # time.monotonic() when the question left
    status: int
    retry_after: str | None
    cited: set[str] = field(default_factory=set)


@pytest.mark.load
def test_twenty_clients_ask_while_a_folder_of_300_files_syncs(tmp_path, article_index):
    base = article_copy(article_index, tmp_path / "load")
    llm, llm_url = fake_llm.start(0.05, echoing=True)
    env = scripted_env(base, llm_url, QA_WATCH_DEBOUNCE="1")
    proc, url = serve(base, env, base / "server.log", "--watch")
    corpus = base / "corpus"
    removed_at: dict[str, float] = {}  # source -> when its file was gone
    asked: list[Asked] = []
    stopping = threading.Event()

    def client(seed: int) -> None:
        pick = random.Random(seed)
        with httpx.Client(timeout=300) as c:
            while not stopping.is_set():
                i = pick.randrange(FILES)
                if removed_at and pick.random() < 0.5:  # a removed note, as long as it may
                    i = int(pick.choice(list(removed_at))[-7:-4])  # still be in the index
                sent = time.monotonic()
                reply = c.post(
                    f"{url}/api/ask", json={"question": f"What did station {code(i)} log?"}
                )
                about = f"corpus/note-{i:03}.txt"
                got = Asked(about, sent, reply.status_code, reply.headers.get("retry-after"))
                if reply.status_code == 200:
                    got.cited = {c["source"] for c in reply.json()["citations"]}
                asked.append(got)

    def files() -> set[str]:
        return set(httpx.get(f"{url}/api/status", timeout=300).json()["files"])

    def synced(expected: set[str]) -> None:
        # Generous: the bound only catches a sync that never comes (a shared 2-core
        # machine embeds 300 chunks in tens of seconds), no speed is asserted.
        deadline = time.monotonic() + 240
        while (found := files()) != expected:
            assert time.monotonic() < deadline, sorted(expected ^ found)[:10]
            time.sleep(0.5)

    clients = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    try:
        for t in clients:
            t.start()
        for burst in range(3):  # written in three bursts, while the clients ask
            for i in range(burst * 100, (burst + 1) * 100):
                (corpus / f"note-{i:03}.txt").write_text(note(i))
            time.sleep(0.5)
        names = {f"corpus/note-{i:03}.txt" for i in range(FILES)}
        article = {"corpus/newsweek-iran-border-defense.txt"}
        synced(names | article)
        # Interleaved, while they ask, a little faster than the watch's debounce (1 s): the
        # removed files stay indexed for a few seconds, until the folder is quiet.
        for i, j in zip(CHANGED, REMOVED, strict=True):
            (corpus / f"note-{i:03}.txt").write_text(note(i, 2))
            (corpus / f"note-{j:03}.txt").unlink()
            removed_at[f"corpus/note-{j:03}.txt"] = time.monotonic()
            time.sleep(0.2)
        synced(names - set(removed_at) | article)
        time.sleep(2)  # a few answers more on the synced folder
    finally:
        stopping.set()
        for t in clients:
            t.join()
        stop(proc)
        llm.shutdown()

    failed = [a for a in asked if not (a.status == 200 or (a.status == 429 and a.retry_after))]
    assert not failed, failed[:5]
    stale = [
        (a, source)
        for a in asked
        for source in a.cited
        if source in removed_at and removed_at[source] < a.sent
    ]
    assert not stale, stale[:5]
    notes = [a for a in asked if any(s.startswith("corpus/note-") for s in a.cited)]
    late = [a for a in asked if a.about in removed_at and removed_at[a.about] < a.sent]
    print(f"\n{len(asked)} questions, {len(notes)} citing a synced note, {len(late)} about a note")
    print(f"already removed, {sum(a.status != 200 for a in asked)} not 200")
    assert notes  # the synced files were answered from
