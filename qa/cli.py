"""The ``qa`` command line: ingest, ask, eval, status, serve.

Options that are settings are generated from ``qa.config`` (each with its ``QA_*``
variable); domain errors become one line on stderr and an exit code here, and only here.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from qa.config import Settings, describe, env_name, load_settings
from qa.errors import QAError


class Group(click.Group):
    """Turns a domain error into one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QAError as e:
            click.echo(e.show(), err=True)
            ctx.exit(e.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


_TYPES = {"int": int, "float": float, "bool": bool, "Path": click.Path(path_type=Path), "str": str}


def settings_options(*names: str):
    """Add a flag for each named setting, documented from the settings object."""
    table = {name: rest for name, *rest in describe()}

    def decorate(fn):
        for name in reversed(names):
            type_name, help_text, default, short = table[name]
            flag = f"--{name.replace('_', '-')}"
            decls = [short] if short else [flag]
            if type_name == "bool":
                decls = [f"{flag}/--no-{name.replace('_', '-')}"]
            fn = click.option(
                *decls,
                name,
                type=_TYPES[type_name],
                default=None,
                envvar=env_name(name),
                show_envvar=True,
                help=f"{help_text} [default: {default}]" if default != "" else help_text,
            )(fn)
        return fn

    return decorate


def _settings(values: dict[str, Any]) -> Settings:
    names = {name for name, *_ in describe()}
    return load_settings({k: v for k, v in values.items() if k in names})


STORE = ("index", "collection", "chroma_url", "embed_model")
MODEL = ("llm", "llm_model", "llm_path", "llm_base_url", "llm_api_key", "llm_timeout", "threads")
ANSWER = (*STORE, *MODEL, "k", "passage_chars", "max_tokens", "grounding", "judge", "followups")


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log more detail on stderr.")
def main(verbose: bool) -> None:
    """docqa: answers from your documents, with the exact passages they come from."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(message)s", stream=sys.stderr
    )


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print what would change; change nothing.")
@settings_options("corpus", *STORE, "chunk_size", "chunk_overlap")
def ingest(paths: tuple[Path, ...], dry_run: bool, **values: Any) -> None:
    """Index PATHS (files or folders; default: the corpus folder) into the index.

    The index is synced to PATHS: new files are added, changed ones replaced, files that
    are gone removed. Unreadable files are skipped with a line on stderr.
    """
    from tqdm import tqdm

    from qa.ingest import ingest as run

    settings = _settings(values)
    bar = tqdm(desc="ingest", unit="B", unit_scale=True, file=sys.stderr, leave=False)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    with bar:
        report = run(list(paths) or [settings.corpus], settings, dry_run=dry_run, progress=progress)
    for name, reason in report.skipped:
        click.echo(f"skipped {name}: {reason}", err=True)
    if dry_run:
        for verb, names in (
            ("add", report.added),
            ("update", report.updated),
            ("remove", report.removed),
        ):
            for name in names:
                click.echo(f"would {verb} {name}")
    click.echo(("dry run: " if dry_run else "") + report.summary(), err=True)


def _ask_plain(answerer, question: str, history: list[str]) -> None:
    """Stream the model's draft to stdout, then the checked answer if it differs, then sources."""
    streamed: list[str] = []

    def show(token: str) -> None:
        streamed.append(token)
        click.echo(token, nl=False)

    _print_answer(answerer.ask(question, on_token=show, history=history), "".join(streamed))


def _print_answer(answer, streamed: str) -> None:
    if answer.answer != streamed.strip():
        if streamed:
            click.echo()
            from qa.chain import MODE_NOTES

            click.echo(f"[{MODE_NOTES[answer.grounding['mode']]}]", err=True)
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
@settings_options(*ANSWER)
def ask(question: str, as_json: bool, history: tuple[str, ...], **values: Any) -> None:
    """Answer QUESTION from the indexed documents, citing the passages.

    With QUESTION "-", read one question per line from stdin and answer each in turn,
    loading the models once.
    """
    from qa.chain import Answerer

    answerer = Answerer(_settings(values))
    questions = (line for line in sys.stdin if line.strip()) if question == "-" else [question]
    failed = False
    for q in questions:
        if as_json:
            try:
                out = answerer.ask(q, history=list(history)).to_json()
            except QAError as e:
                if question != "-":
                    raise
                out, failed = {"question": q.strip(), "error": str(e)}, True
            click.echo(json.dumps(out, ensure_ascii=False))
            continue
        _ask_plain(answerer, q, list(history))
    if failed:
        sys.exit(1)


@main.command("eval")
@click.argument("file", default="eval_questions.yaml", type=click.Path(path_type=Path))
@click.option(
    "--json", "json_out", type=click.Path(path_type=Path), help="Write the JSON report here."
)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path),
    help="A saved report: exit 1 on any question that passed there and fails now.",
)
@click.option("--update-baseline", is_flag=True, help="Save this run's report as the --baseline.")
@click.option(
    "--compare", is_flag=True, help="Also run the plain chain (no grounding) and show both."
)
@click.option("--only", help="Comma-separated question ids to run.")
@settings_options(*ANSWER, "eval_min_cited", "eval_min_declined")
def eval_(
    file: Path,
    json_out: Path | None,
    baseline: Path | None,
    update_baseline: bool,
    compare: bool,
    only: str | None,
    **values: Any,
) -> None:
    """Score answers to the questions in FILE (YAML, or SQuAD v2.0 JSON) and gate regressions.

    Prints a line per question and the totals; exits 1 when a question that passed in
    --baseline fails now, or a total falls below its QA_EVAL_MIN_* threshold.
    """
    from contextlib import nullcontext

    from tqdm import tqdm

    from qa import evaluate
    from qa.report import by_group, table, totals

    settings = _settings(values)
    if update_baseline and not baseline:
        raise click.UsageError("--update-baseline needs --baseline FILE")
    questions, docs = evaluate.load_questions(file)
    if only:
        wanted = set(only.split(","))
        questions = [q for q in questions if q.id in wanted]
    variants = {"plain": False, "grounded": True} if compare else {"": settings.grounding}
    reports = {}
    with evaluate.squad_index(docs, settings) if docs else nullcontext(settings) as scoped:
        for name, grounding in variants.items():
            reports[name or "score"] = evaluate.run(
                questions,
                scoped.with_overrides(grounding=grounding),
                progress=lambda qs, name=name: tqdm(
                    qs, desc=f"eval {name}".strip(), unit="q", file=sys.stderr, leave=False
                ),
            )
    report = list(reports.values())[-1]
    click.echo(table(report))
    click.echo()
    click.echo(totals(reports))
    if report["groups"]:
        click.echo()
        click.echo(by_group(report))
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(reports if compare else report, indent=1))
    failures = evaluate.below_thresholds(report["summary"], settings)
    if baseline and update_baseline:
        baseline.parent.mkdir(parents=True, exist_ok=True)
        baseline.write_text(json.dumps(report, indent=1))
        click.echo(f"baseline saved to {baseline}", err=True)
    elif baseline:
        if not baseline.is_file():
            raise click.UsageError(f"no baseline at {baseline} (create it with --update-baseline)")
        regressed = evaluate.regressions(report, json.loads(baseline.read_text()))
        if regressed:
            failures.append(f"regressed since the baseline: {', '.join(regressed)}")
    for failure in failures:
        click.echo(f"eval failed: {failure}", err=True)
    if failures:
        sys.exit(1)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=7860, show_default=True, help="Port to listen on.")
@click.option("--share", is_flag=True, help="Ask Gradio for a public share link (off by default).")
@settings_options(*ANSWER)
def serve(host: str, port: int, share: bool, **values: Any) -> None:
    """Open the chat page at http://HOST:PORT on the index."""
    from qa.web import serve as run

    run(_settings(values), host=host, port=port, share=share)


@main.command()
@settings_options(*STORE)
def status(**values: Any) -> None:
    """Show what the index holds: files, chunks, embedding model, and any inconsistency."""
    from qa.store import Store

    store = Store(_settings(values))
    sources = store.sources()
    broken = [name for name, s in sources.items() if not s.complete]
    click.echo(f"index: {store.where} (collection {store.settings.collection})")
    click.echo(f"embedding model: {store.model}")
    click.echo(f"files: {len(sources)}  chunks: {sum(len(s.ids) for s in sources.values())}")
    for name in sorted(sources):
        click.echo(
            f"  {name}: {len(sources[name].ids)} chunks"
            + ("  [incomplete]" if name in broken else "")
        )
    if broken:
        click.echo(
            f"inconsistent: {len(broken)} file(s) partly indexed; run qa ingest to repair", err=True
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
