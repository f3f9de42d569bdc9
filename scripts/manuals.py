"""Build the manuals dev set's corpus and check its questions against the text docqa reads.

    python scripts/manuals.py build DEST      copy eval/manuals/pages.txt's files into DEST
    python scripts/manuals.py check DEST      every `support` of eval/manuals/questions.yaml
                                              must occur verbatim in the text docqa extracts

`make manuals` runs both, then ingests DEST and runs `qa eval` on it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.documents.loaders import FileLoader, supported  # noqa: E402
from qa.evaluation.questions import load_questions  # noqa: E402

PAGES = ROOT / "eval" / "manuals" / "pages.txt"
QUESTIONS = ROOT / "eval" / "manuals" / "questions.yaml"


def build(dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    for line in PAGES.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            folder, path = line.split()
            (dest / folder).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, dest / folder)
    print(f"built {dest}", file=sys.stderr)


def check(dest: Path) -> int:
    """Count the supports that no document's extracted text holds (whitespace aside)."""
    texts = [
        " ".join(part.text.split())
        for path in sorted(dest.rglob("*"))
        if path.is_file() and supported(path)
        for part in FileLoader(path, path.name).parts()
    ]
    questions, _ = load_questions(QUESTIONS)
    wanted = {q.id: " ".join(q.support.split()) for q in questions if q.support}
    missing = [q for q in questions if q.id in wanted and not any(wanted[q.id] in t for t in texts)]
    for q in missing:
        print(f"{q.id}: support not found verbatim: {q.support!r}", file=sys.stderr)
    answerable = sum(q.answerable for q in questions)
    print(
        f"{len(questions)} questions ({answerable} answerable), "
        f"{len(missing)} supports not found in {len(texts)} parts",
        file=sys.stderr,
    )
    return len(missing)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in {"build", "check"}:
        sys.exit(__doc__)
    target = Path(sys.argv[2])
    if sys.argv[1] == "build":
        build(target)
    else:
        sys.exit(1 if check(target) else 0)
