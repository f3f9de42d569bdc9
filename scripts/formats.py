"""Build the formats dev set's corpus and check its questions against the text docqa reads.

    python scripts/formats.py build DEST      the documents of eval/formats, made from real
                                              material in Debian's packages (below)
    python scripts/formats.py check DEST      every `support` of eval/formats/questions.yaml
                                              must occur verbatim in the text docqa extracts

The documents, each kind in a folder of its own:

- docx/: the PostgreSQL pages of the manuals dev set (eval/manuals/pages.txt), their
  navigation taken out, converted to Word by LibreOffice (``soffice --convert-to docx``);
- csv/: Debian's and Ubuntu's release tables (distro-info-data's debian.csv, ubuntu.csv);
- scanned/: the R manuals of the manuals dev set as scans: every page rendered at 300 dpi
  (pdftoppm, greyscale), R-data's turned 1° with noise and specks as a poor scan is, made
  black and white as office scanners keep text, and rebuilt into PDFs of page images only
  (no text layer).

So the docx and scanned questions are the manuals dev set's own, asked of the same text in
another format. `make formats` runs both steps, then ingests DEST and runs `qa eval`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.documents.loaders import FileLoader, supported  # noqa: E402
from qa.evaluation.questions import load_questions  # noqa: E402

PAGES = ROOT / "eval" / "manuals" / "pages.txt"
QUESTIONS = ROOT / "eval" / "formats" / "questions.yaml"
TABLES = [Path("/usr/share/distro-info/debian.csv"), Path("/usr/share/distro-info/ubuntu.csv")]
SCANS = {"R-intro.pdf": False, "R-data.pdf": True}  # name: spoiled like a poor scan


def _manual_pages(folder: str) -> list[Path]:
    lines = [line.split() for line in PAGES.read_text().splitlines()]
    return [Path(p[1]) for p in lines if len(p) == 2 and p[0] == folder]


def _docx(dest: Path, tmp: Path) -> None:
    import lxml.html
    from lxml.cssselect import CSSSelector

    from qa.documents.markup import NAVIGATION

    for page in _manual_pages("postgresql"):
        tree = lxml.html.parse(str(page))
        for element in CSSSelector(NAVIGATION)(tree.getroot()):
            element.drop_tree()
        (tmp / page.name).write_bytes(lxml.html.tostring(tree, encoding="utf-8"))
    pages = sorted(str(p) for p in tmp.glob("*.html"))
    convert = ["soffice", "--headless", "--convert-to", "docx:MS Word 2007 XML"]
    subprocess.run([*convert, "--outdir", str(dest), *pages], check=True, capture_output=True)


def _scan(pdf: Path, out: Path, spoil: bool, tmp: Path) -> None:
    import numpy as np
    from PIL import Image

    stem = tmp / pdf.stem
    subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", str(pdf), str(stem)], check=True)
    images = []
    rng = np.random.default_rng(0)
    for path in sorted(tmp.glob(f"{pdf.stem}-*.png")):
        image = Image.open(path).convert("L")
        if spoil:
            image = image.rotate(1.0, expand=True, fillcolor=255)
            pixels = np.asarray(image, dtype=np.float32) + rng.normal(0, 30, image.size[::-1])
            specks = rng.random(pixels.shape)
            pixels[specks < 0.001], pixels[specks > 0.999] = 0, 255
            image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        # Black and white, as office scanners keep text pages (CCITT G4: 60 KB a page).
        images.append(image.point(lambda v: 255 if v > 160 else 0).convert("1"))
    images[0].save(out, save_all=True, append_images=images[1:], resolution=300.0)


def build(dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    for folder in ("docx", "csv", "scanned"):
        (dest / folder).mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        _docx(dest / "docx", Path(tmp))
    for table in TABLES:
        shutil.copy(table, dest / "csv")
    for name, spoil in SCANS.items():
        with tempfile.TemporaryDirectory() as tmp:
            manual = next(p for p in _manual_pages("r") if p.name == name)
            _scan(manual, dest / "scanned" / name, spoil, Path(tmp))
    print(f"built {dest}", file=sys.stderr)


def check(dest: Path) -> int:
    """Count the supports that no document's extracted text holds (whitespace aside). The
    scans are left out: their questions are the manuals dev set's, whose supports its own
    check finds in the PDFs' text, and what OCR makes of them is what `qa eval` measures."""
    texts = [
        " ".join(part.text.split())
        for path in sorted(dest.rglob("*"))
        if path.is_file() and supported(path) and path.parent.name != "scanned"
        for part in FileLoader(path, path.name).parts()
    ]
    questions, _ = load_questions(QUESTIONS)
    questions = [q for q in questions if q.group != "scanned"]
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
    if sys.argv[1] == "build":
        build(Path(sys.argv[2]))
    else:
        sys.exit(1 if check(Path(sys.argv[2])) else 0)
