"""The formats dev set: build its documents, check its questions, ask them of each kind and
of the source the kind was made from, and compare.

    python scripts/formats.py build ROOT      ROOT/corpus/KIND: the documents of each kind,
                                              made from real material in Debian's packages
                                              (scripts/formats_build.py); ROOT/source/GROUP:
                                              the material they were made from
    python scripts/formats.py check ROOT      every `support` of eval/formats/questions.yaml
                                              must occur verbatim in the text docqa extracts
                                              from each kind asked it, and from its source
    python scripts/formats.py eval ROOT [NAME...]
                                              ingest each kind (and each source) into an index
                                              of its own, ROOT/index/NAME, and run `qa eval`
                                              on its questions: ROOT/results/NAME.json
    python scripts/formats.py compare ROOT    per kind: correct and cited over the format
                                              against over its source
    python scripts/formats.py speed ROOT      pages a second, reading and chunking apart
                                              from embedding, and OCR (formats_speed.py)
    python scripts/formats.py ingest-speed ROOT [KIND...]
                                              whole `qa ingest` of each kind, pages per CPU
                                              second and a second, and CPU by stage
    python scripts/formats.py spread          per kind: a 95% interval on the difference
                                              format minus source, by resampling the
                                              questions (eval/formats/compare.json's runs)

A question's `group` names the material it is asked of; KINDS says which kinds are made of
which material, so the same questions are asked of every format made from one material and
of the source. Each kind has an index of its own, so that an answer over .odt cites the .odt
and not the .docx made of the same page. `make formats` runs the four steps.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import formats_build as made  # noqa: E402

from qa.documents.loaders import FileLoader, supported  # noqa: E402
from qa.evaluation.questions import load_questions  # noqa: E402

PAGES = ROOT / "eval" / "manuals" / "pages.txt"
QUESTIONS = ROOT / "eval" / "formats" / "questions.yaml"
TABLES = [Path("/usr/share/distro-info/debian.csv"), Path("/usr/share/distro-info/ubuntu.csv")]
SCANS = {"R-intro.pdf": False, "R-data.pdf": True}  # name: spoiled like a poor scan
# kind: the question group (the material) it is made of; each group's source is asked too.
KINDS = {
    "docx": "docx",
    "odt": "docx",
    "rtf": "docx",
    "csv": "csv",
    "scanned": "scanned",
    "pptx": "slides",
    "odp": "slides",
    "xlsx": "sheets",
    "ods": "sheets",
    "epub": "epub",
    "mail": "mail",
}
QA = [sys.executable, "-m", "qa"]


def _manual_pages(folder: str) -> list[Path]:
    lines = [line.split() for line in PAGES.read_text().splitlines()]
    return [Path(p[1]) for p in lines if len(p) == 2 and p[0] == folder]


def build(root: Path) -> None:
    corpus, source = root / "corpus", root / "source"
    for folder in (corpus, source):
        if folder.exists():
            shutil.rmtree(folder)
    for kind in KINDS:
        (corpus / kind).mkdir(parents=True)
    for group in set(KINDS.values()):
        (source / group).mkdir(parents=True)
    made.office(_manual_pages("postgresql"), corpus, source / "docx")
    for table in TABLES:
        shutil.copy(table, corpus / "csv")
        shutil.copy(table, source / "csv" / f"{table.stem}.txt")
    for name, spoil in SCANS.items():
        manual = next(p for p in _manual_pages("r") if p.name == name)
        shutil.copy(manual, source / "scanned")
        with tempfile.TemporaryDirectory() as tmp:
            made.scan(manual, corpus / "scanned" / name, spoil, Path(tmp))
    made.slides(corpus, source / "slides")
    made.sheets(corpus, source / "sheets")
    made.epub(corpus, source / "epub")
    made.mails(corpus, source / "mail")
    print(f"built {corpus} and {source}", file=sys.stderr)


def _texts(folder: Path) -> list[str]:
    return [
        " ".join(part.text.split())
        for path in sorted(folder.rglob("*"))
        if path.is_file() and supported(path)
        for part in FileLoader(path, path.name).parts()
    ]


def check(root: Path) -> int:
    """Count the supports that a kind's extracted text, or its source's, does not hold
    (whitespace aside). The scans are left out: what OCR makes of them is what `qa eval`
    measures; their supports are checked in the PDFs' own text, their source. So is the
    CSV files' source: their supports are rows as the reader writes them, each cell after
    its header ("version: 10, codename: Buster"), which the files as plain text are not."""
    questions, _ = load_questions(QUESTIONS)
    folders = {k: root / "corpus" / k for k in KINDS if k != "scanned"}
    folders |= {f"source {g}": root / "source" / g for g in set(KINDS.values()) if g != "csv"}
    missing = 0
    for name, folder in sorted(folders.items()):
        group = name.split()[-1] if name.startswith("source") else KINDS[name]
        texts = _texts(folder)
        asked = [q for q in questions if q.group == group and q.support]
        for q in asked:
            if not any(" ".join(q.support.split()) in t for t in texts):
                print(f"{name}: {q.id}: support not found verbatim: {q.support!r}")
                missing += 1
        print(f"{name}: {len(asked)} supports checked in {len(texts)} parts", file=sys.stderr)
    print(f"{len(questions)} questions, {missing} supports not found", file=sys.stderr)
    return missing


def _targets(names: list[str]) -> dict[str, tuple[Path, str]]:
    """{name: (folder, question group)}: each kind, and each material's source."""
    every = {k: (Path("corpus") / k, g) for k, g in KINDS.items()}
    every |= {f"source-{g}": (Path("source") / g, g) for g in dict.fromkeys(KINDS.values())}
    unknown = set(names) - set(every)
    if unknown:
        sys.exit(f"unknown kinds: {', '.join(sorted(unknown))} (known: {', '.join(every)})")
    return {n: every[n] for n in names} if names else every


def evaluate(root: Path, names: list[str], eval_args: list[str]) -> None:
    """Ingest each target into its own index and ask it its group's questions, a report
    each, so that a long run interrupted keeps what it finished."""
    questions = yaml.safe_load(QUESTIONS.read_text())
    for folder in ("index", "questions", "results"):
        (root / folder).mkdir(exist_ok=True)
    for name, (folder, group) in _targets(names).items():
        asked = [{**q, "group": name} for q in questions if q.get("group") == group]
        listing = root / "questions" / f"{name}.yaml"
        listing.write_text(yaml.safe_dump(asked, allow_unicode=True, sort_keys=False))
        index = root / "index" / name
        began, load = time.monotonic(), os.getloadavg()[0]
        subprocess.run([*QA, "ingest", str(root / folder), "--index", str(index)], check=True)
        took = {"ingest_s": round(time.monotonic() - began, 1), "load_before": load}
        (root / "results" / f"{name}.ingest.json").write_text(json.dumps(took))
        report = root / "results" / f"{name}.json"
        # qa eval exits 1 under its gate's floors; the report is what is wanted here.
        run = [*QA, "eval", str(listing), "--index", str(index), "--json", str(report)]
        subprocess.run([*run, *eval_args], check=False)


def _rates(report: Path) -> dict | None:
    if not report.is_file():
        return None
    return json.loads(report.read_text())["summary"]


def record(root: Path) -> dict:
    """Every target's summary, the ids it passed, and its ingest time, and the speed
    measured: what eval/formats/compare.json keeps of a run (the full reports stay in
    ROOT/results)."""
    speed = root / "results" / "speed.json"
    kept = {"speed": json.loads(speed.read_text())} if speed.is_file() else {}
    for report in sorted((root / "results").glob("*.json")):
        if report.stem == "speed" or report.stem.endswith(".ingest"):
            continue
        data = json.loads(report.read_text())
        ingest = report.with_name(f"{report.stem}.ingest.json")
        kept[report.stem] = {
            "summary": data["summary"],
            "passed": [q["id"] for q in data["questions"] if q["passed"]],
            "ingest": json.loads(ingest.read_text()) if ingest.is_file() else {},
        }
    return kept


def _passed(report: Path) -> set[str]:
    data = json.loads(report.read_text()) if report.is_file() else {"questions": []}
    return {q["id"] for q in data["questions"] if q["passed"] and q["answerable"]}


def compare(root: Path) -> str:
    """A Markdown table: per kind, correct and cited (of the answerable) and declined (of the
    unanswerable), over the format and over its source, in percent; and the answerable
    questions passed over one only (with 15 questions a question is 7 points, so these say
    whether a difference is a few questions that went either way or a pattern)."""
    rows = [
        "| kind | questions (unanswerable) | correct: format / source | correct and cited: "
        "format / source | difference (points) | passed over the format only / the source "
        "only | declined unanswerable: format / source |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]

    def pct(summary: dict | None, key: str) -> str:
        return f"{100 * summary[key]:.0f}%" if summary else "not run"

    for kind, group in KINDS.items():
        mine, theirs = root / "results" / f"{kind}.json", root / "results" / f"source-{group}.json"
        own, src = _rates(mine), _rates(theirs)
        counts = own or src
        n = f"{counts['answerable']} ({counts['unanswerable']})" if counts else "not run"
        diff = f"{100 * (own['cited_rate'] - src['cited_rate']):+.0f}" if own and src else ""
        split = ""
        if own and src:
            ours, source = _passed(mine), _passed(theirs)
            split = f"{len(ours - source)} / {len(source - ours)}"
        rows.append(
            f"| {kind} | {n} | {pct(own, 'correct_rate')} / {pct(src, 'correct_rate')} | "
            f"{pct(own, 'cited_rate')} / {pct(src, 'cited_rate')} | {diff} | {split} | "
            f"{pct(own, 'decline_rate')} / {pct(src, 'decline_rate')} |"
        )
    return "\n".join(rows)


def speed(root: Path) -> str:
    """Reading and chunking speed per kind, and OCR's; kept in ROOT/results/speed.json."""
    import formats_speed

    kinds = [k for k in KINDS if k != "scanned"]
    speeds = {k: formats_speed.read_speed(root / "corpus" / k) for k in kinds}
    ocr = formats_speed.ocr_speed(root / "corpus" / "scanned" / next(iter(SCANS)))
    (root / "results").mkdir(exist_ok=True)
    report = json.dumps({"read": speeds, "ocr": ocr}, indent=1)
    (root / "results" / "speed.json").write_text(report)
    return formats_speed.table(speeds, ocr)


if __name__ == "__main__":
    command, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if command == "build":
        build(Path(args[0]))
    elif command == "check":
        sys.exit(1 if check(Path(args[0])) else 0)
    elif command == "eval":
        extra = os.environ.get("EVAL_ARGS", "").split()
        evaluate(Path(args[0]), args[1:], extra)
    elif command == "compare":
        print(compare(Path(args[0])))
        # A run of some kinds (FORMATS_KINDS) replaces theirs and keeps the others' runs.
        kept = ROOT / "eval" / "formats" / "compare.json"
        runs = json.loads(kept.read_text()) if kept.is_file() else {}
        kept.write_text(json.dumps(runs | record(Path(args[0])), indent=1) + "\n")
    elif command == "ingest-speed":
        import formats_speed

        for kind in args[1:] or ["docx", "pptx", "xlsx"]:
            folder = Path(args[0]) / "corpus" / kind
            pages = formats_speed.printed_pages(sorted(p for p in folder.iterdir()))
            print(kind, json.dumps(formats_speed.ingest_speed(folder, pages)), flush=True)
    elif command == "spread":
        from formats_spread import spread

        kept = json.loads((ROOT / "eval" / "formats" / "compare.json").read_text())
        print(spread(kept, yaml.safe_load(QUESTIONS.read_text()), KINDS))
    elif command == "speed":
        print(speed(Path(args[0])))
    else:
        sys.exit(__doc__)
