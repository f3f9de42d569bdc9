"""The commands that measure answers: ``qa eval`` (score and gate), ``qa calibrate`` (fit
the answer-or-decline decision) and ``qa generate`` (a question set from the index)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from qa.config import Settings
from qa.errors import FailedError, UsageError
from qa.interfaces.options import ANSWER, settings_from, settings_options
from qa.progress import bar

if TYPE_CHECKING:
    from qa.evaluation.questions import Question


@click.command("eval")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option(
    "--json", "json_out", type=click.Path(path_type=Path), help="Write the JSON report here."
)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path),
    help="A saved report: exit 1 on any question that passed there and fails now (this "
    "machine's own, NAME-KEY.json beside it, where there is one).",
)
@click.option("--update-baseline", is_flag=True, help="Save this run's report as the --baseline.")
@click.option(
    "--compare",
    is_flag=True,
    help="Also run the plain chain (dense top-k chunks, no grounding) and show both.",
)
@click.option("--only", help="Comma-separated question ids to run.")
@click.option(
    "--plot", type=click.Path(path_type=Path), help="Draw the risk-coverage curve to this PNG."
)
@click.option("--junit", type=click.Path(path_type=Path), help="Write JUnit XML here (for CI).")
@click.option(
    "--markdown", type=click.Path(path_type=Path), help="Write a Markdown summary here (for CI)."
)
@settings_options(*ANSWER, "eval_file", "eval_min_cited", "eval_min_declined")
def eval_(
    file: Path | None,
    json_out: Path | None,
    baseline: Path | None,
    update_baseline: bool,
    compare: bool,
    only: str | None,
    plot: Path | None,
    junit: Path | None,
    markdown: Path | None,
    **values: Any,
) -> None:
    """Score answers to the questions in FILE (YAML, or SQuAD v2.0 JSON) and gate regressions.

    FILE defaults to eval_questions.yaml; with --collection NAME, to that collection's own
    file where there is one (QA_EVAL_FILE with -NAME before its suffix).

    Prints a line per question and the totals; exits 1 when a question that passed in
    --baseline fails now, or a total falls below its QA_EVAL_MIN_* threshold.
    """
    from contextlib import nullcontext

    from qa.evaluation import evaluate, questions, report

    settings = settings_from(values)
    file = file or default_questions(settings)
    if update_baseline and not baseline:
        raise click.UsageError("--update-baseline needs --baseline FILE")
    asked, docs = questions.load_questions(file)
    if only:
        asked = only_these(asked, only, file)
    plain = {"retrieval": "dense", "grounding": False}
    variants = {"plain": plain, "grounded": {}} if compare else {"": {}}
    runs = {}
    with questions.squad_index(docs, settings) if docs else nullcontext(settings) as scoped:
        for name, changes in variants.items():
            runs[name or "score"] = evaluate.run(
                asked,
                scoped.with_overrides(**changes),
                progress=lambda qs, name=name: bar(qs, desc=f"eval {name}".strip(), unit="q"),
            )
    scored = list(runs.values())[-1]
    click.echo(report.table(scored))
    click.echo()
    click.echo(report.totals(runs))
    if scored["groups"]:
        click.echo()
        click.echo(report.by_group(scored))
    if scored["selective"]:
        click.echo(report.selective(scored))
    if plot and scored["selective"]:
        report.plot(scored["selective"]["curve"], plot, file.name)
    failures = evaluate.below_thresholds(scored["summary"], settings)
    regressed: list[str] = []
    if baseline and update_baseline:
        _write(baseline, json.dumps(scored, indent=1))
        click.echo(f"baseline saved to {baseline}", err=True)
    elif baseline:
        # A greedy decode can differ between CPUs: a baseline made on this machine wins.
        own = evaluate.own_baseline(baseline, scored["machine"])
        baseline = own if own.is_file() else baseline
        if not baseline.is_file():
            raise click.UsageError(f"no baseline at {baseline} (create it with --update-baseline)")
        before = json.loads(baseline.read_text())
        regressed, stale = evaluate.regressions(scored, before)
        if regressed:
            failures.append(f"regressed since the baseline: {', '.join(regressed)}")
        if regressed and before.get("machine") != scored["machine"]:
            click.echo(
                f"eval: {baseline} was not made on this machine ({scored['machine']['cpu']}), "
                f"and greedy decodes can differ between CPUs: if the code did not change, give "
                f"this machine its own with --update-baseline --baseline {own}",
                err=True,
            )
        if stale:
            click.echo(
                f"eval: stale, not regressed (their support is no longer in the documents; "
                f"the tests need a look): {', '.join(stale)}",
                err=True,
            )
    if json_out:
        _write(json_out, json.dumps(runs if compare else scored, indent=1))
    if junit:
        _write(junit, report.junit(scored, file.stem, set(regressed)))
    if markdown:
        _write(markdown, report.markdown(scored, file.name, set(regressed)))
    if failures:
        raise FailedError([f"eval failed: {failure}" for failure in failures])


@click.command()
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option(
    "--generated",
    is_flag=True,
    help="FILE is a set `qa generate` wrote [default: the index's own]; the labels saved "
    "from answers in QA_EVAL_FILE (ids s01, s02, ...) join the fit and count more.",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    help="Where to save the fitted decision [default: beside the index, used from then on].",
)
@click.option("--risk", default=0.05, show_default=True, help="Share of answers allowed wrong.")
@click.option("--json", "json_out", type=click.Path(path_type=Path), help="Write figures here.")
@click.option("--plot", type=click.Path(path_type=Path), help="Draw the held-out curve here.")
@settings_options(*ANSWER, "eval_file")
def calibrate(
    file: Path | None,
    generated: bool,
    output: Path | None,
    risk: float,
    json_out: Path | None,
    plot: Path | None,
    **values,
) -> None:
    """Fit the answer-or-decline decision on the labelled questions in FILE (YAML or SQuAD
    JSON), or with --generated on a set `qa generate` made from the index: answers each
    question once (signals are kept), then fits and reports figures on questions each fit
    did not see."""
    settings = settings_from(values)
    if file is None and not generated:
        raise click.UsageError("give a question FILE, or --generated")
    fit_decision(settings, file, generated, output, risk, json_out, plot)


def fit_decision(
    settings: Settings,
    file: Path | None,
    generated: bool,
    output: Path | None = None,
    risk: float = 0.05,
    json_out: Path | None = None,
    plot: Path | None = None,
) -> None:
    """What `qa calibrate` does (also after `qa ingest --calibrate`)."""
    import numpy as np

    from qa.evaluation import report
    from qa.evaluation.calibrate import USER_WEIGHT, answered, collect, fit_and_measure, saved
    from qa.evaluation.generate import generated_path
    from qa.grounding.decision import own_path

    def answering(qs):
        return bar(qs, desc="answer", unit="q")

    file = file or generated_path(settings)
    rows = collect(file, settings, answering)
    weight = None
    if generated and (labels := saved(settings)):
        mine = [replace(r, group="saved") for r in answered(labels, {}, settings, answering)]
        click.echo(
            f"{len(mine)} saved labels join the fit, each counted {USER_WEIGHT:g}x", err=True
        )
        weight = np.array([1.0] * len(rows) + [USER_WEIGHT] * len(mine))
        rows = rows + mine
    decision, measured = fit_and_measure(rows, file.name, risk, weight)
    # Marked, so that `auto` leaves it to `calibrated` (see qa.grounding.decision.load_decision).
    decision = replace(decision, about={**decision.about, "generated": generated})
    click.echo(report.calibration(measured))
    output = output or own_path(settings)
    decision.save(output)
    click.echo(f"decision saved to {output} (threshold {decision.threshold:.3f})", err=True)
    if json_out:
        _write(json_out, json.dumps(measured, indent=1))
    if plot:
        marks = {
            f"calibrated, risk target {risk:.0%}" if kind == "calibrated" else kind: (
                measured[kind]["answered"],
                1 - measured[kind]["accuracy"],
            )
            for kind in ("rules", "calibrated")
        }
        report.plot(measured["curve"], plot, f"{file.name}, held out", marks)


def only_these(asked: list[Question], only: str, file: Path) -> list[Question]:
    """The questions ``--only`` names; an id the file does not hold is an error, not a
    run of no questions that passes the gate."""
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    if not wanted:
        raise UsageError("--only names no question ids")
    known = [q.id for q in asked]
    if missing := [w for w in wanted if w not in known]:
        ids = "ids" if len(missing) > 1 else "id"
        some = ", ".join(known[:5]) + (", ..." if len(known) > 5 else "")
        raise UsageError(f"no question with {ids} {', '.join(missing)} in {file} (it has {some})")
    return [q for q in asked if q.id in wanted]


def default_questions(settings) -> Path:
    """``qa eval``'s FILE when none is given: the collection's own questions, if it has
    them, else eval_questions.yaml."""
    from qa.evaluation.questions import eval_file_of

    own = eval_file_of(settings)
    default = settings.collection == type(settings).collection
    return own if not default and own.is_file() else Path("eval_questions.yaml")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
