"""`qa eval`'s report for the terminal: a line per question, the totals, a row per group."""

from __future__ import annotations

from typing import Any

from qa.text import printable

SUMMARY_ROWS = [
    ("answerable questions", "answerable"),
    ("correct", "correct"),
    ("correct and cited", "cited"),
    ("wrong", "wrong"),
    ("declined (answerable)", "declined_answerable"),
    ("unanswerable questions", "unanswerable"),
    ("declined (unanswerable)", "declined_unanswerable"),
    ("latency p50 (s)", "p50_s"),
    ("latency p95 (s)", "p95_s"),
]


def table(report: dict[str, Any]) -> str:
    """Per-question lines, for the terminal."""
    lines = [f"{'id':<8} {'pass':<5} {'mode':<10} {'s':>6}  reason / answer"]
    for r in report["questions"]:
        answer = " ".join(r["answer"].split())
        lines.append(
            f"{r['id']:<8} {'ok' if r['passed'] else 'FAIL':<5} {r['mode']:<10} "
            f"{r['latency_s']:>6.1f}  {r['reason']}: {answer[:90]}"
        )
    return "\n".join(lines)


GROUP_COLUMNS = [
    ("answerable", "answerable"),
    ("cited", "cited"),
    ("wrong", "wrong"),
    ("declined", "declined_answerable"),
    ("unanswerable", "unanswerable"),
    ("declined", "declined_unanswerable"),
]


def by_group(report: dict[str, Any]) -> str:
    """A row per group (document kind, SQuAD article): answerable questions correct and cited,
    wrong and declined; unanswerable ones declined."""
    groups = {**report.get("groups", {}), "all": report["summary"]}
    width = max(len(printable(g)) for g in groups) + 2
    lines = [f"{'':<{width}}" + "".join(f"{label:>13}" for label, _ in GROUP_COLUMNS)]
    for name, s in groups.items():
        cells = [str(s[key]) for _, key in GROUP_COLUMNS]
        cells[1] += f" ({s['cited_rate']:.0%})"
        cells[5] += f" ({s['decline_rate']:.0%})"
        lines.append(f"{printable(name):<{width}}" + "".join(f"{c:>13}" for c in cells))
    return "\n".join(lines)


def totals(columns: dict[str, dict[str, Any]]) -> str:
    """Summary rows with one column per named report (e.g. plain vs grounded)."""
    names = list(columns)
    lines = [f"{'':<26}" + "".join(f"{n:>12}" for n in names)]
    for label, key in SUMMARY_ROWS:
        lines.append(f"{label:<26}" + "".join(f"{columns[n]['summary'][key]:>12}" for n in names))
    return "\n".join(lines)


def selective(report: dict[str, Any]) -> str:
    """Selective answering: how much is answered, how often rightly, and the curve's area."""
    s = report.get("selective")
    if not s:
        return ""
    return (
        f"answered {s['answered']:.0%} of questions, {s['accuracy']:.0%} of them rightly; "
        f"area under the risk-coverage curve {s['aurc']:.3f} (lower is better)"
    )


CALIBRATION_COLUMNS = [
    ("answered", "answered"),
    ("right", "accuracy"),
    ("cited", "cited_rate"),
    ("wrong", "wrong_rate"),
    ("declined-u", "decline_rate"),
    ("AURC", "aurc"),
]


def calibration(report: dict[str, Any]) -> str:
    """`qa calibrate`'s held-out figures, calibrated against the rules, per group and in all:
    answered (share of all questions), right (share of answers), cited / wrong (share of
    answerable questions), declined-u (share of unanswerable ones declined)."""
    rows = {**report["groups"], "all": report}
    width = max(len(printable(g)) for g in rows) + 2
    head = f"{'':<{width}}{'':<11}" + "".join(f"{label:>11}" for label, _ in CALIBRATION_COLUMNS)
    lines = [f"held-out figures ({report['held_out']}), risk target {report['risk']:.0%}", head]
    for name, r in rows.items():
        for kind in ("rules", "calibrated"):
            cells = [f"{r[kind][key]:.3f}" for _, key in CALIBRATION_COLUMNS]
            label = printable(name) if kind == "rules" else ""
            lines.append(f"{label:<{width}}{kind:<11}" + "".join(f"{c:>11}" for c in cells))
    return "\n".join(lines)


def plot(curve: list[tuple[float, float]], path, title: str = "", points=None) -> None:
    """The risk-coverage curve as a PNG: share answered against share of answers wrong;
    ``points``: other decisions' (coverage, risk) by name, marked beside it."""
    import matplotlib

    matplotlib.use("Agg")  # no display
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=120)
    ax.plot([c for c, _ in curve], [r for _, r in curve], label="calibrated, by threshold")
    for name, (coverage, risk) in (points or {}).items():
        ax.plot([coverage], [risk], "o", label=name)
    if points:
        ax.legend(loc="upper left")
    ax.set(xlabel="coverage (share of questions answered)", ylabel="risk (share of answers wrong)")
    ax.set(xlim=(0, 1), ylim=(0, 1), title=title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def junit(report: dict[str, Any], name: str, regressed: set[str] = frozenset()) -> str:
    """JUnit XML, one test case per question: what CI systems show as a list of tests.
    A failure says why (regressed, wrong, declined, not cited) and gives the answer."""
    from xml.etree import ElementTree as ET

    results = report["questions"]
    failed = [r for r in results if not r["passed"]]
    suite = ET.Element(
        "testsuite",
        name=name,
        tests=str(len(results)),
        failures=str(len(failed)),
        time=f"{sum(r['latency_s'] for r in results):.3f}",
    )
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{name}.{r['group']}" if r.get("group") else name,
            name=f"{r['id']}: {r['question']}",
            time=f"{r['latency_s']:.3f}",
        )
        if not r["passed"]:
            why = _why(r, regressed)
            failure = ET.SubElement(case, "failure", message=why, type=why.split(":")[0])
            failure.text = f"answer: {r['answer']}\ndraft: {r.get('draft', '')}"
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def markdown(report: dict[str, Any], name: str, regressed: set[str] = frozenset()) -> str:
    """A summary fit for a CI job's page: the totals, then each failing question."""
    s = report["summary"]
    lines = [
        f"### qa eval: {name}",
        "",
        "| | |",
        "|---|---|",
        f"| answerable: correct and cited | {s['cited']} / {s['answerable']} "
        f"({s['cited_rate']:.0%}) |",
        f"| answerable: wrong | {s['wrong']} |",
        f"| answerable: declined | {s['declined_answerable']} |",
        f"| unanswerable: declined | {s['declined_unanswerable']} / {s['unanswerable']} "
        f"({s['decline_rate']:.0%}) |",
        f"| latency p50 / p95 | {s['p50_s']} / {s['p95_s']} s |",
    ]
    failed = [r for r in report["questions"] if not r["passed"]]
    if failed:
        lines += ["", "| id | question | why | answer |", "|---|---|---|---|"]
        for r in failed:
            why = _why(r, regressed).replace("regressed:", "**regressed**:")
            cells = [r["id"], r["question"], why, " ".join(r["answer"].split())]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _why(result: dict[str, Any], regressed: set[str]) -> str:
    if result["id"] in regressed:
        return f"regressed: {result['reason']}"
    if result.get("stale"):
        return f"stale (its support is no longer in the documents): {result['reason']}"
    return result["reason"]
