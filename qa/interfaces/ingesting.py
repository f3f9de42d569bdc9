"""``qa ingest``: a folder or files synced into the index (the work is in ``qa.index.ingest``),
with progress on stderr, the skipped files named, and ``--calibrate`` to fit the index's own
decision on questions made from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from qa.errors import FailedError
from qa.interfaces.generating import make_questions
from qa.interfaces.measure import fit_decision
from qa.interfaces.options import STORE, settings_from, settings_options
from qa.progress import bar as progress_bar
from qa.text import printable


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print what would change; change nothing.")
@click.option(
    "--calibrate",
    "then_calibrate",
    is_flag=True,
    help="Then make questions from the index (qa generate) and fit its own decision on them "
    "(qa calibrate --generated): the model answers each; half an hour or more on 2 cores.",
)
@settings_options(
    "corpus", *STORE, "chunk_size", "chunk_overlap", "ocr", "ocr_page_seconds", "ocr_languages"
)
def ingest(paths: tuple[Path, ...], dry_run: bool, then_calibrate: bool, **values: Any) -> None:
    """Index PATHS (files or folders; default: the corpus folder) into the index.

    The index is synced to PATHS: new files are added, changed ones replaced, files that
    are gone removed. Unreadable files are skipped with a line on stderr (and exit 1 where
    such a file was named on its own).
    """
    import qa

    settings = settings_from(values)
    bar = progress_bar(desc="ingest", unit="B", unit_scale=True)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    with bar:
        report = qa.ingest(
            list(paths) or [settings.corpus], settings, dry_run=dry_run, progress=progress
        )
    if not dry_run and len(paths) == 1 and paths[0].is_dir():
        from qa.interfaces.collections import remember

        remember(settings, paths[0])  # the collection's folder, for the server's documents API
    for name, reason in report.skipped:
        click.echo(f"skipped {printable(name)}: {reason}", err=True)
    if dry_run:
        for verb, names in (
            ("add", report.added),
            ("update", report.updated),
            ("remove", report.removed),
        ):
            for name in names:
                click.echo(f"would {verb} {printable(name)}")
    # A dry run reads no document, so one it would add may yet be skipped as unreadable.
    click.echo(("dry run, documents unread: " if dry_run else "") + report.summary(), err=True)
    if report.skipped_of(paths):  # a file asked for by name is not indexed: said above why
        raise FailedError([])
    if then_calibrate and not dry_run:
        fit_decision(settings, make_questions(settings, None), generated=True)
