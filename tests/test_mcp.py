"""MCP end to end with the SDK's own client: `python -m qa mcp` over stdio (the real bundled
model: a cited answer), and the streamable HTTP transport at /mcp of a real `qa serve` with a
key and users (refused without them; the model there is the scripted one, tests/fake_llm.py,
whose reply is the first sentence of passage [1], cited); a second collection, limited to
one user, is asked by name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from tests import fake_llm
from tests.servers import ROOT, article_copy, scripted_env, serve, stop

KEY = "mcp-test-key"
QUESTION = "Who is the spokesperson of Iran's Foreign Ministry?"
TOOLS = {"ask", "search", "list_documents"}
FERRY = "The ferry to Lindholm leaves from quay 4 at seven in the morning."
TOKENS: dict[str, str] = {}  # the users' API tokens, by name


@pytest.fixture(scope="module")
def folder(tmp_path_factory, article_index) -> Path:
    return article_copy(article_index, tmp_path_factory.mktemp("mcp"))


@pytest.fixture(scope="module")
def server(folder):
    from qa.interfaces.users import Role, Users

    llm, llm_url = fake_llm.start(0.1, echoing=True)
    env = scripted_env(folder, llm_url, QA_API_KEY=KEY)
    # A second collection from its own folder, limited to ed: rita (a reader too) may not.
    (folder / "ferries").mkdir()
    (folder / "ferries" / "ferry-notes.txt").write_text(FERRY + "\n")
    for command in (
        ["ingest", "ferries", "--collection", "ferries"],
        ["collections", "allow", "ferries", "ed"],
    ):
        run_qa = [sys.executable, "-m", "qa", *command]
        subprocess.run(run_qa, cwd=folder, env=env, check=True, timeout=300, capture_output=True)
    users = Users(folder / "users.json")
    for name in ("ed", "rita"):
        users.add(name, Role.READER, f"{name}-password")
        TOKENS[name] = users.issue_token(name)
    proc, url = serve(folder, env, folder / "server.log")
    yield url
    stop(proc)
    llm.shutdown()


def run(session):
    """Run ``session(client)`` against a client connected by ``connect()``, synchronously."""
    return anyio.run(session)


def http_client(url: str, token: str | None):
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = streamable_http_client(
        f"{url}/mcp", http_client=httpx2.AsyncClient(headers=headers, timeout=120)
    )
    return Client(transport)


def check_citations(citations: list[dict], folder: Path) -> None:
    """Each citation's quote is its source's text from start to end."""
    from qa.interfaces.assistants import document_text

    assert citations
    cwd = os.getcwd()
    os.chdir(folder)  # sources are named relative to where the server runs
    try:
        for c in citations:
            assert document_text(c["source"])[c["start"] : c["end"]] == c["quote"], c
    finally:
        os.chdir(cwd)


def test_http_needs_the_key(server):
    import httpx

    async def session():
        async with http_client(server, None) as client:
            await client.list_tools()

    with pytest.raises(Exception):  # noqa: B017 (the SDK fails in its own way; the 401 is checked below)
        run(session)
    reply = httpx.post(f"{server}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert reply.status_code == 401


def test_http_tools_resources_and_an_answer(server, folder):
    async def session():
        async with http_client(server, KEY) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            docs = await client.call_tool("list_documents", {})
            found = await client.call_tool("search", {"query": "spokesperson foreign ministry"})
            listed = docs.structured_content["result"]
            text = await client.read_resource(listed[0]["uri"])
            asked = await client.call_tool("ask", {"question": QUESTION})
            # k out of range was clamped without a word (0 and -5 gave one passage).
            bad = [await client.call_tool("search", {"query": "x", "k": k}) for k in (0, 21)]
            return tools, listed, found, text, asked, bad

    tools, listed, found, text, asked, bad = run(session)
    assert all(b.is_error and "k" in b.content[0].text for b in bad), bad
    assert tools >= TOOLS
    assert [d["source"] for d in listed] == ["corpus/newsweek-iran-border-defense.txt"]
    passages = found.structured_content["result"]
    check_citations(passages, folder)
    assert any("Khatibzadeh" in p["passage"] for p in passages)
    whole = (folder / listed[0]["source"]).read_text()
    assert text.contents[0].text == whole
    answer = asked.structured_content
    assert set(answer) >= {"question", "answer", "declined", "citations", "timings", "grounding"}
    assert answer["question"] == QUESTION


def test_http_asks_another_collection_by_name_within_its_limit(server, folder):
    question = "Where does the ferry to Lindholm leave from?"
    ferries = {"collection": "ferries"}

    async def session(token: str):
        async with http_client(server, token) as client:
            docs = await client.call_tool("list_documents", ferries)
            found = await client.call_tool("search", {"query": "ferry quay", **ferries})
            asked = await client.call_tool("ask", {"question": question, **ferries})
            served = await client.call_tool("ask", {"question": question})
            text = None
            if not docs.is_error:
                text = await client.read_resource(docs.structured_content["result"][0]["uri"])
            return docs, found, asked, served, text

    docs, found, asked, served, text = run(lambda: session(TOKENS["ed"]))
    listed = docs.structured_content["result"]
    assert [d["source"] for d in listed] == ["ferries/ferry-notes.txt"]
    assert listed[0]["uri"] == "docqa://collections/ferries/documents/ferries/ferry-notes.txt"
    assert text.contents[0].text == FERRY + "\n"
    passages = found.structured_content["result"]
    assert {p["source"] for p in passages} == {"ferries/ferry-notes.txt"}
    check_citations(passages, folder)
    answer = asked.structured_content
    assert {c["source"] for c in answer["citations"]} == {"ferries/ferry-notes.txt"}
    check_citations(answer["citations"], folder)
    # Without a collection, the served one: the other's document is not cited there.
    assert "ferries/ferry-notes.txt" not in {
        c["source"] for c in served.structured_content["citations"]
    }
    # rita may not ask it: an MCP tool error that says why, not an answer; the served
    # collection still answers her.
    docs, found, asked, served, _ = run(lambda: session(TOKENS["rita"]))
    for refused in (docs, found, asked):
        assert refused.is_error and refused.structured_content is None
        assert "may not ask the collection 'ferries'" in refused.content[0].text
    assert not served.is_error and served.structured_content["question"] == question

    async def read_refused() -> str:
        from mcp import MCPError

        async with http_client(server, TOKENS["rita"]) as client:
            try:
                await client.read_resource(listed[0]["uri"])
            except MCPError as e:  # the server's error, as the SDK raises it
                return str(e)
        return "read"

    assert "may not ask the collection 'ferries'" in run(read_refused)


@pytest.mark.slow
def test_stdio_with_the_real_model_gives_a_cited_answer(folder):
    from mcp import Client, StdioServerParameters

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("QA_LLM", "QA_LLM_BASE_URL", "QA_LLM_MODEL"):
        env.pop(name, None)
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "qa", "mcp", "--index", str(folder / "index"), "--collection", "docqa"],
        env=env,
        cwd=str(folder),
    )

    async def session():
        async with Client(params, read_timeout_seconds=300) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            return tools, await client.call_tool("ask", {"question": QUESTION})

    tools, asked = run(session)
    assert tools >= TOOLS
    answer = asked.structured_content
    assert not answer["declined"] and "Khatibzadeh" in answer["answer"]
    check_citations(answer["citations"], folder)
