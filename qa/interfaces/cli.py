"""The ``qa`` command line: ingest, ask, eval, calibrate, generate, status, serve, mcp, users.

Options that are settings are generated from ``qa.config`` (each with its ``QA_*``
variable); domain errors become one line on stderr and an exit code here, and only here.
"""

from __future__ import annotations

import gc
import json
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import click

from qa.errors import FailedError, QAError
from qa.interfaces.accounts import users
from qa.interfaces.catalog import collections
from qa.interfaces.generating import generate
from qa.interfaces.ingesting import ingest
from qa.interfaces.measure import calibrate, eval_
from qa.interfaces.options import (
    ANSWER,
    SERVE,
    STORE,
    Group,
    settings_from,
    settings_options,
)
from qa.text import counted, printable


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log more detail on stderr.")
def main(verbose: bool) -> None:
    """docqa: answers from your documents, with the exact passages they come from."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(message)s", stream=sys.stderr
    )


def _ask_plain(answerer, question: str, history: list[str]):
    """Stream the model's draft to stdout, then the checked answer if it differs, then sources."""
    streamed: list[str] = []

    def show(token: str) -> None:
        streamed.append(token)
        click.echo(token, nl=False)

    answer = answerer.ask(question, on_token=show, history=history)
    _print_answer(answer, "".join(streamed))
    return answer


def _print_answer(answer, streamed: str) -> None:
    if answer.answer != streamed.strip():
        if streamed:
            click.echo()
            from qa.answering.answer import change_note

            click.echo(f"[{change_note(answer.mode, answer.answer, streamed)}]", err=True)
        click.echo(answer.answer)
    else:
        click.echo()
    shown = answer.citations or answer.passages
    if shown:
        click.echo("\nSources:" if answer.citations else "\nClosest passages:")
    for c in shown:
        quote = " ".join(c.quote.split())
        where = f" ({c.where})" if c.where else ""
        click.echo(f'  [{c.n}] {c.source}:{c.start}-{c.end}{where}  "{quote}"')


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (JSON Lines with -).")
@click.option("--history", multiple=True, help="An earlier question of the conversation (repeat).")
@click.option(
    "--save", is_flag=True, help="Save the answer, as it stands, as a test in QA_EVAL_FILE."
)
@settings_options(*ANSWER, "eval_file")
def ask(question: str, as_json: bool, history: tuple[str, ...], save: bool, **values: Any) -> None:
    """Answer QUESTION from the indexed documents, citing the passages.

    With QUESTION "-", read one question per line from stdin and answer each in turn,
    loading the models once.
    """
    from qa.interfaces.asking import answerer_for

    settings = settings_from(values)
    answerer = answerer_for(settings)
    questions = (line for line in sys.stdin if line.strip()) if question == "-" else [question]
    failed = False
    for q in questions:
        try:
            if as_json:
                answer = answerer.ask(q, history=list(history))
                click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
            else:
                answer = _ask_plain(answerer, q, list(history))
        except QAError as e:
            if question != "-":
                raise
            # One bad line of a batch is said where its answer would be; the rest go on.
            failed = True
            if as_json:
                click.echo(json.dumps({"question": q.strip(), "error": str(e)}, ensure_ascii=False))
            else:
                click.echo(e.show(), err=True)
            continue
        if save:
            # Imported only to save: they import the answer chain, which `answerer_for`
            # imports once the model has begun to load.
            from qa.evaluation.questions import eval_file_of
            from qa.evaluation.savetest import append, entry

            where = eval_file_of(settings)  # the collection's own questions
            saved = append(
                where, {**entry(answer), **({"history": list(history)} if history else {})}
            )
            click.echo(f"saved as test {saved} in {where}", err=True)
    if failed:  # each failed question was answered with its error
        raise FailedError([])
    # Only exit is left (the answers are out, a saved test closed): the collector's passes
    # there need not walk what they left, as they do not walk what was loaded (asking.py).
    gc.freeze()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=7860, show_default=True, help="Port to listen on.")
@click.option("--share", is_flag=True, help="Ask Gradio for a public share link (off by default).")
@click.option(
    "--insecure",
    is_flag=True,
    help="Serve beyond 127.0.0.1 (or --share) with no key and no users: open to anyone.",
)
@click.option(
    "--watch", is_flag=True, help="Keep the index in sync with the corpus folder as it changes."
)
@settings_options(*ANSWER, "corpus", "eval_file", *SERVE)
def serve(host: str, port: int, share: bool, insecure: bool, watch: bool, **values: Any) -> None:
    """Serve the chat page at http://HOST:PORT/ and the HTTP API (/api/ask, /api/status,
    OpenAI-compatible /v1/chat/completions, /api/documents) on the index.

    With QA_API_KEY or users (qa users add), everything but /login and /health needs a
    sign-in or a token; without either, only 127.0.0.1 is served unless --insecure."""
    from qa.interfaces import server

    server.serve(
        settings_from(values), host=host, port=port, share=share, insecure=insecure, watch=watch
    )


@main.command()
@settings_options("corpus", *STORE, "chunk_size", "chunk_overlap", "watch_debounce", "watch_scan")
def watch(**values: Any) -> None:
    """Keep the index in sync with the corpus folder: files added, changed, moved or removed
    are indexed (or removed) once the folder is quiet. Runs until interrupted. With
    --collection NAME, the folder qa ingest FOLDER --collection NAME indexed it from."""
    import time

    from qa.index.watch import Watcher
    from qa.interfaces.collections import folder_of

    settings = settings_from(values)
    folder = folder_of(settings)
    watcher = Watcher(
        folder, settings, debounce=settings.watch_debounce, scan_every=settings.watch_scan
    ).start()
    click.echo(f"watching {folder} for collection {settings.collection} (Ctrl-C to stop)", err=True)
    seen = 0
    try:
        while True:
            time.sleep(0.5)
            if watcher.state.syncs > seen:
                seen = watcher.state.syncs
                click.echo(watcher.state.last, err=True)
    finally:
        watcher.stop()


@main.command()
@settings_options(*ANSWER)
def mcp(**values: Any) -> None:
    """Serve the documents to assistants and IDEs over the Model Context Protocol on stdin
    and stdout: tools ask, search and list_documents (of --collection, or of another of the
    index's collections named by their collection argument), and each indexed document as a
    resource (docqa://documents/PATH). `qa serve` serves the same at /mcp over HTTP."""
    from qa.interfaces.assistants import serve_stdio

    serve_stdio(settings_from(values))


@main.command()
@settings_options(*STORE)
def status(**values: Any) -> None:
    """Show what the index holds: files, chunks, embedding model, and any inconsistency."""
    from qa.index.store import Store
    from qa.models.layouts import describe_layout
    from qa.models.tuning import describe

    store = Store(settings_from(values))
    held = store.summary()
    click.echo(f"index: {held.where} (collection {held.collection})")
    click.echo(f"embedding model: {held.model}")
    click.echo(f"documents embedded: {describe(store.settings)}")
    click.echo(f"model weights: {describe_layout(store.settings)}")
    click.echo(f"files: {len(held.files)}  chunks: {held.chunks}")
    if held.files:
        kinds = Counter(Path(name).suffix.lower() or "(none)" for name in held.files)
        click.echo("types: " + ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items())))
    for name, chunks in held.files.items():
        click.echo(
            f"  {printable(name)}: {counted(chunks, 'chunk')}"
            + ("  [incomplete]" if name in held.incomplete else "")
        )
    problems = []
    if held.incomplete:
        problems.append(
            f"inconsistent: {len(held.incomplete)} file(s) partly indexed; run qa ingest to repair"
        )
    if counts := store.mismatch():
        problems.append(
            f"inconsistent: the lexical index holds {counts[0]} chunks, the vectors {counts[1]};"
            " run qa ingest to repair"
        )
    if problems:
        raise FailedError(problems)


main.add_command(ingest)
main.add_command(eval_)
main.add_command(users)
main.add_command(calibrate)
main.add_command(generate)
main.add_command(collections)

if __name__ == "__main__":
    main()
