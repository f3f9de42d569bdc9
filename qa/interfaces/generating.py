"""``qa generate``: a question set made from the index's own documents (the work is in
``qa.evaluation.generate``; ``qa calibrate --generated`` fits on what it writes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from qa.config import Settings
from qa.interfaces.options import ANSWER, settings_from, settings_options
from qa.progress import bar as progress_bar


@click.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Where to write the questions [default: generated-COLLECTION.yaml in the index].",
)
@click.option(
    "--count", default=150, show_default=True, help="Questions to make (a third unanswerable)."
)
@click.option("--seed", default=0, show_default=True, help="Seed of the sampling.")
@click.option("--minutes", default=10.0, show_default=True, help="Stop after this long.")
@click.option(
    "--round-trip/--no-round-trip",
    default=True,
    show_default=True,
    help="Keep only questions the model, given their sentence alone, answers with the span: "
    "surer labels, about twice the time.",
)
@settings_options(*ANSWER)
def generate(
    out: Path | None, count: int, seed: int, minutes: float, round_trip: bool, **values: Any
) -> None:
    """Write a question set from the index's own documents (eval_questions.yaml form, marked
    generated): answerable questions the model writes about sentences spread over the
    documents, each answer checked verbatim in its source, and unanswerable ones that look
    answerable, checked against the whole index. Run it with `qa eval`, or fit the index's
    decision on it with `qa calibrate --generated`."""
    make_questions(settings_from(values), out, count, seed, minutes, round_trip)


def make_questions(
    settings: Settings,
    out: Path | None,
    count: int = 150,
    seed: int = 0,
    minutes: float = 10.0,
    round_trip: bool = True,
) -> Path:
    """What `qa generate` does; the file written."""
    import os

    from qa.answering.chain import Answerer
    from qa.evaluation.generate import Generated, Generator, generated_path, header, save

    out = out or generated_path(settings)
    answerer = Answerer(settings)
    answerer.warm_up()  # the model loaded first: loading mutes stderr, where the bar goes
    load = os.getloadavg()[0]
    with progress_bar(total=count, desc="generate", unit="q") as bar:

        def tick(made: Generated) -> None:
            bar.update(1)
            bar.set_postfix_str(
                f"{made.answerable} answerable, {len(made.questions) - made.answerable}"
                f" unanswerable, {sum(made.rejected.values())} rejected"
            )

        made = Generator(answerer, seed, round_trip).run(count, minutes, tick)
    loads = f"{load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    lines = [*header(made, settings, seed), f"Load average (1 min): {loads}."]
    save(made, out, lines)
    for line in lines:
        click.echo(line, err=True)
    click.echo(f"wrote {len(made.questions)} questions to {out}", err=True)
    return out
