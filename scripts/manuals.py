"""Build manuals' corpora and check their questions against the text docqa reads.

    python scripts/manuals.py build DEST [PAGES]          copy PAGES' files into DEST/<folder>
    python scripts/manuals.py check DEST [QUESTIONS...]   every `support` must occur verbatim
                                                          in the text docqa extracts from DEST

PAGES defaults to eval/manuals/pages.txt (lines `<folder> <file>`), QUESTIONS to
eval/manuals/questions.yaml: the manuals dev set, which `make manuals` builds, checks, ingests
and evaluates. eval/transfer/ holds the new manuals that `make transfer` reads the same way.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.documents.loaders import FileLoader, supported  # noqa: E402
from qa.evaluation.questions import load_questions  # noqa: E402

PAGES = ROOT / "eval" / "manuals" / "pages.txt"
QUESTIONS = ROOT / "eval" / "manuals" / "questions.yaml"


def pages(listing: Path = PAGES) -> list[tuple[str, Path]]:
    """The (folder, file) pairs a pages list names."""
    pairs = []
    for line in listing.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            folder, path = line.split()
            pairs.append((folder, Path(path)))
    return pairs


def build(dest: Path, listing: Path = PAGES, folders: set[str] | None = None) -> None:
    """Copy the listed files into ``dest/<folder>`` (only ``folders``, where given), afresh."""
    if dest.exists():
        shutil.rmtree(dest)
    for folder, path in pages(listing):
        if folders is None or folder in folders:
            (dest / folder).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, dest / folder)
    print(f"built {dest}", file=sys.stderr)


def texts(dest: Path) -> list[str]:
    """The text docqa extracts from every supported file under ``dest``, whitespace normalised."""
    return [
        " ".join(part.text.split())
        for path in sorted(dest.rglob("*"))
        if path.is_file() and supported(path)
        for part in FileLoader(path, path.name).parts()
    ]


def check(dest: Path, files: Sequence[Path] = (QUESTIONS,)) -> int:
    """Count the supports that no document's extracted text holds (whitespace aside)."""
    held = texts(dest)
    missing = 0
    for file in files:
        questions, _ = load_questions(file)
        for q in questions:
            if q.support and not any(" ".join(q.support.split()) in t for t in held):
                print(
                    f"{file.name} {q.id}: support not found verbatim: {q.support!r}",
                    file=sys.stderr,
                )
                missing += 1
        answerable = sum(q.answerable for q in questions)
        print(f"{file.name}: {len(questions)} questions ({answerable} answerable)", file=sys.stderr)
    print(f"{missing} supports not found in {len(held)} parts", file=sys.stderr)
    return missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="copy a pages list's files into DEST")
    b.add_argument("dest", type=Path)
    b.add_argument("pages", type=Path, nargs="?", default=PAGES)
    c = sub.add_parser("check", help="check every support verbatim against DEST's text")
    c.add_argument("dest", type=Path)
    c.add_argument("questions", type=Path, nargs="*", default=[QUESTIONS])
    args = parser.parse_args()
    if args.command == "build":
        build(args.dest, args.pages)
    else:
        sys.exit(1 if check(args.dest, args.questions) else 0)


if __name__ == "__main__":
    main()
