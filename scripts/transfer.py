"""The transfer protocol (docs/transfer.md): every corpus's questions on its own index, one table.

    python scripts/transfer.py [--only NAME,...] [--limit N] [--work DIR] [--json FILE] [--fresh]
                               [--signals]

Corpora: the article (eval_questions.yaml on corpus/), SQuAD dev-sample (its nine articles as one
index), the manuals dev set split per manual (postgresql, git, r: eval/manuals/, one index each)
and the new manuals (apache, bash, pydocs, node, valgrind: eval/transfer/). Each index is built
under --work and reused while its files are unchanged (`qa ingest` only redoes what changed);
the questions go through `qa eval`'s own code (qa.evaluation.evaluate.run), the model's drafts
and the judge's verdicts kept per prompt (scripts/memo.py) unless --fresh. Prints, per corpus,
per half of pydocs (odd-numbered questions dev, even-numbered held out), for the held-out
questions and all together: drafts right, correct and cited, right drafts declined, wrong,
unanswerable declined, p50 seconds; and writes every answer to --json (with --signals, each
candidate's signals too: what scripts/transfer_fit.py fits a decision on). `make transfer` runs
it (not in CI: the SQuAD part takes an hour on 2 cores; TRANSFER_ARGS="--only apache,bash" runs
two corpora).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import manuals  # noqa: E402
from memo import Memo, remembering  # noqa: E402

from qa.config import load_settings  # noqa: E402
from qa.evaluation import evaluate  # noqa: E402
from qa.evaluation.questions import Question, load_questions  # noqa: E402

SQUAD = ROOT.parent / "shared" / "squad-dev" / "dev-sample.json"
NEW_PAGES = ROOT / "eval" / "transfer" / "pages.txt"
# Manuals with a pages list of their own (eval/transfer/NAME-pages.txt, NAME.yaml).
MANUALS = ("pydocs", "node", "valgrind")


@dataclass(frozen=True)
class Corpus:
    """A folder of documents, indexed on its own, and the questions asked of it."""

    name: str
    questions: Path
    group: str = ""  # only the questions of this group (a manual of eval/manuals)
    pages: Path | None = None  # a pages list (scripts/manuals.py) the documents come from
    folder: Path | None = None  # or a folder indexed as it is


def corpora(squad: Path) -> list[Corpus]:
    dev = ROOT / "eval" / "manuals"
    new = ROOT / "eval" / "transfer"
    return [
        Corpus("article", ROOT / "eval_questions.yaml", folder=ROOT / "corpus"),
        Corpus("squad", squad),
        *(Corpus(m, dev / "questions.yaml", m, manuals.PAGES) for m in ("postgresql", "git", "r")),
        *(Corpus(m, new / f"{m}.yaml", m, NEW_PAGES) for m in ("apache", "bash")),
        *(Corpus(m, new / f"{m}.yaml", m, new / f"{m}-pages.txt") for m in MANUALS),
    ]


def documents(corpus: Corpus, docs: dict[str, str], work: Path) -> Path:
    """The folder to index: the corpus's own, or one written under ``work`` (a manual's pages
    copied, SQuAD's articles one text file each, as `qa eval` writes them)."""
    if corpus.folder:
        return corpus.folder
    dest = work / "docs"
    if corpus.pages:
        manuals.build(dest, corpus.pages, {corpus.group})
    else:
        dest.mkdir(parents=True, exist_ok=True)
        for i, (title, text) in enumerate(docs.items()):
            safe = re.sub(r"[^\w.-]+", "_", title)[:80] or "article"
            target = dest / f"{i:03d}-{safe}.txt"
            if not target.is_file() or target.read_text() != text:  # unchanged: not re-indexed
                target.write_text(text)
    return dest


def spread(items: list, n: int) -> list:
    """``n`` of ``items`` spread evenly over them, in order (all of them if there are fewer)."""
    if len(items) <= n:
        return items
    return [items[i * len(items) // n] for i in range(n)]


def draft_right(q: Question, result: dict) -> bool:
    """Whether the model's draft, before any check, holds the expected answer (a draft that
    declines is not right, though "do not say" holds a yes/no question's "not")."""
    from qa.answering.format import is_decline

    draft = result["draft"]
    return q.answerable and not is_decline(draft) and evaluate.matches(draft, q.expect, q.squad)


def counts(rows: list[dict]) -> dict:
    """The table's figures for a set of scored answers (each with its ``draft_right``)."""
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    return {
        "answerable": len(ans),
        "drafts_right": sum(r["draft_right"] for r in ans),
        "correct_cited": sum(r["cited"] for r in ans),
        "right_drafts_declined": sum(r["draft_right"] and r["declined"] for r in ans),
        # and those the checks replaced by a quote that does not hold the answer (JSON only)
        "right_drafts_replaced": sum(
            r["draft_right"] and not r["declined"] and not r["correct"] for r in ans
        ),
        "wrong": sum(not r["declined"] and not r["correct"] for r in ans),
        "unanswerable": len(una),
        "unanswerable_declined": sum(r["declined"] for r in una),
        "p50_s": round(median(r["latency_s"] for r in rows), 2) if rows else 0.0,
    }


def run(
    corpus: Corpus, work: Path, limit: int = 0, memo: bool = True, signals: bool = False
) -> dict:
    """Index the corpus under ``work`` (reused where unchanged) and answer its questions (with
    ``limit``, that many answerable and unanswerable ones spread over the file: a quick look;
    with ``signals``, every candidate's signals kept in its row, the judge asked about all)."""
    from tqdm import tqdm

    from qa.index.ingest import ingest

    questions, docs = load_questions(corpus.questions)
    if corpus.group:
        questions = [q for q in questions if q.group == corpus.group]
    if limit:
        questions = spread([q for q in questions if q.answerable], limit) + spread(
            [q for q in questions if not q.answerable], limit
        )
    settings = load_settings().with_overrides(index=work / "index", chroma_url="")
    started = time.monotonic()
    ingest([documents(corpus, docs, work)], settings)
    indexed = time.monotonic() - started
    answerer = None
    if memo or signals:  # --fresh --signals: the signals kept, nothing read from the memo
        kept = Memo(work / "memo.jsonl" if memo else None, settings)
        answerer = remembering(settings, kept, signals)
    report = evaluate.run(
        questions,
        settings,
        answerer=answerer,
        progress=lambda qs: tqdm(qs, desc=corpus.name, unit="q", file=sys.stderr, leave=False),
    )
    rows = report["questions"]
    for q, row in zip(questions, rows, strict=True):
        row["draft_right"] = draft_right(q, row)
    if signals:
        for q, row, grounded in zip(questions, rows, answerer.weighed, strict=True):
            cand = grounded.candidate if grounded else None
            row["signals"] = grounded.signals if grounded else {}
            row["candidate"] = str(cand.kind) if cand else ""
            row["candidate_correct"] = bool(
                cand and q.answerable and evaluate.matches(cand.answer, q.expect, q.squad)
            )
    return {
        "corpus": asdict(corpus),
        "counts": counts(rows),
        "index_s": round(indexed, 1),
        "answer_s": round(time.monotonic() - started - indexed, 1),
        "settings": report["settings"],
        "machine": report["machine"],
        "questions": rows,
    }


# Held out (docs/transfer.md, "The rule"): never read question by question, only these rows.
HELD_OUT = ("apache", "bash", "valgrind")
# Corpora whose odd-numbered questions are a dev half (read once) and even-numbered held out.
HALVED = ("pydocs",)


def odd(row: dict) -> bool:
    """Whether a question is of the odd-numbered half ("p03", "pu11")."""
    return int(re.sub(r"\D", "", row["id"]) or 0) % 2 == 1


def table(results: dict[str, dict]) -> str:
    """One Markdown row per corpus, one per half of a halved corpus, one for the held-out
    questions and one for all together; shares of the answerable (right drafts declined: of
    the right drafts; unanswerable declined: of the unanswerable)."""

    def cell(n: int, of: int) -> str:
        return f"{n}/{of} ({n / of:.0%})" if of else "-"

    head = (
        "| corpus | drafts right | correct and cited | right drafts declined | wrong "
        "| unanswerable declined | p50 s |\n|---|---|---|---|---|---|---|"
    )
    everything = [row for r in results.values() for row in r["questions"]]
    rows = [(n, r["counts"]) for n, r in results.items()]
    held = [row for n in HELD_OUT if n in results for row in results[n]["questions"]]
    for n in (n for n in HALVED if n in results):
        qs = results[n]["questions"]
        held += [row for row in qs if not odd(row)]
        rows.append((f"{n} odd (dev)", counts([row for row in qs if odd(row)])))
        rows.append((f"{n} even (held out)", counts([row for row in qs if not odd(row)])))
    if held:
        rows.append(("held out", counts(held)))
    lines = [head]
    for name, c in [*rows, ("all", counts(everything))]:
        a = c["answerable"]
        lines.append(
            f"| {name} | {cell(c['drafts_right'], a)} | {cell(c['correct_cited'], a)} "
            f"| {cell(c['right_drafts_declined'], c['drafts_right'])} | {cell(c['wrong'], a)} "
            f"| {cell(c['unanswerable_declined'], c['unanswerable'])} | {c['p50_s']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated corpus names (default: all)")
    parser.add_argument("--squad", type=Path, default=SQUAD, help="SQuAD v2.0 JSON")
    parser.add_argument("--work", type=Path, default=ROOT / ".transfer", help="indexes go here")
    parser.add_argument("--limit", type=int, default=0, help="N questions of each kind, a look")
    parser.add_argument("--json", type=Path, help="write every answer here [WORK/last.json]")
    parser.add_argument(
        "--fresh", action="store_true", help="ask the model again (no kept drafts or verdicts)"
    )
    parser.add_argument(
        "--signals", action="store_true", help="keep every candidate's signals (judge asks all)"
    )
    args = parser.parse_args()
    chosen = corpora(args.squad)
    if args.only:
        wanted = args.only.split(",")
        unknown = set(wanted) - {c.name for c in chosen}
        if unknown:
            parser.error(f"no such corpus: {', '.join(sorted(unknown))}")
        chosen = [c for c in chosen if c.name in wanted]
    out = args.json or args.work / "last.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    results = {}
    for corpus in chosen:
        results[corpus.name] = took = run(
            corpus, args.work / corpus.name, args.limit, not args.fresh, args.signals
        )
        out.write_text(json.dumps(results, indent=1, default=str))  # each corpus as it is done
        print(
            f"{corpus.name}: indexed in {took['index_s']} s, answered in {took['answer_s']} s; "
            f"answers written to {out}",
            file=sys.stderr,
        )
    print(table(results))


if __name__ == "__main__":
    main()
