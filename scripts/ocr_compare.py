"""OCR engines side by side on pages whose true text is known (docs/formats.md has the figures).

Real PDF manual pages (Debian's r-doc-pdf) are rendered with pdftoppm at 300 dpi, clean and
spoiled (a 1° skew, Gaussian noise and specks), and read by Tesseract (Debian's
tesseract-ocr, through its command line as pytesseract does), plain and after a 3x3 median
filter (as docqa reads pages), and by RapidOCR (its ONNX models ship in the
rapidocr-onnxruntime wheel), where each is installed. The character error rate is
the edit distance to pdftotext's text of the same page over its length, both with whitespace
runs made one space, Unicode NFKC and typographic quotes and dashes made ASCII. Speed is
given as wall seconds and as CPU seconds a page (the figure that holds on a shared machine).

    python scripts/ocr_compare.py --json eval/formats/ocr.json

Standalone (no docqa import), so that it runs in a scratch venv holding both engines.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import tempfile
import time
import unicodedata
from pathlib import Path

import numpy as np
from PIL import Image

MANUALS = Path("/usr/share/R/doc/manual")
# Prose pages, tables and code of five manuals (1-based page numbers).
PAGES = [
    ("R-intro.pdf", 10),
    ("R-intro.pdf", 33),
    ("R-data.pdf", 6),
    ("R-data.pdf", 15),
    ("R-admin.pdf", 12),
    ("R-admin.pdf", 20),
    ("R-FAQ.pdf", 5),
    ("R-lang.pdf", 12),
]
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def normal(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return " ".join(text.split())


def distance(a: str, b: str) -> int:
    """Levenshtein distance, a row of the table at a time (insertions by a running minimum)."""
    if not a or not b:
        return len(a) + len(b)
    bs = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    steps = np.arange(len(b) + 1)
    row = steps.copy()
    codes = np.frombuffer(a.encode("utf-32-le"), dtype=np.uint32)
    for i, code in enumerate(codes, 1):
        diag = row[:-1] + (bs != code)
        best = np.minimum(row[1:] + 1, diag)
        new = np.concatenate(([i], best))
        row = np.minimum.accumulate(new - steps) + steps
    return int(row[-1])


def cer(truth: str, read: str) -> float:
    truth, read = normal(truth), normal(read)
    return distance(truth, read) / max(1, len(truth))


def render(pdf: Path, page: int, out: Path) -> Path:
    stem = out / f"{pdf.stem}-{page}"
    subprocess.run(
        ["pdftoppm", "-r", "300", "-gray", "-png", "-f", str(page), "-l", str(page),
         "-singlefile", str(pdf), str(stem)],
        check=True,
    )  # fmt: skip
    return stem.with_suffix(".png")


def spoil(path: Path, seed: int) -> Path:
    """The page as a poor scan: turned 1°, grey noise (sd 30), 0.2% black and white specks."""
    rng = np.random.default_rng(seed)
    image = Image.open(path).convert("L").rotate(1.0, expand=True, fillcolor=255)
    pixels = np.asarray(image, dtype=np.float32) + rng.normal(0, 30, image.size[::-1])
    specks = rng.random(pixels.shape)
    pixels[specks < 0.001], pixels[specks > 0.999] = 0, 255
    out = path.with_name(path.stem + "-noisy.png")
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(out)
    return out


def truth(pdf: Path, page: int) -> str:
    args = ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def tesseract(path: Path) -> str:
    """Single-threaded, as docqa runs it (its own threads cost CPU and gained no time)."""
    args = ["tesseract", str(path), "stdout", "--psm", "3"]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    return subprocess.run(args, check=True, capture_output=True, text=True, env=env).stdout


def cpu() -> float:
    """CPU seconds of this process (all its threads) and of its finished children."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def tesseract_median(path: Path) -> str:
    """As docqa reads a page: a 3x3 median filter first (specks of a scan are not letters)."""
    from PIL import ImageFilter

    filtered = path.with_name(path.stem + "-median.png")
    Image.open(path).filter(ImageFilter.MedianFilter(3)).save(filtered)
    return tesseract(filtered)


def rapidocr():
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR()

    def read(path: Path) -> str:
        found, _ = engine(str(path))
        lines = sorted(found or [], key=lambda r: (r[0][0][1], r[0][0][0]))
        return "\n".join(text for _, text, _ in lines)

    return read


def engines() -> dict:
    found = {}
    if subprocess.run(["which", "tesseract"], capture_output=True).returncode == 0:
        found["tesseract"] = tesseract
        found["tesseract-median"] = tesseract_median
    with contextlib.suppress(ImportError):
        found["rapidocr"] = rapidocr()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--pages", type=int, default=len(PAGES))
    args = parser.parse_args()
    results: dict = {"pages": [], "engines": {}}
    readers = engines()
    with tempfile.TemporaryDirectory() as tmp:
        for n, (name, page) in enumerate(PAGES[: args.pages]):
            pdf = MANUALS / name
            clean = render(pdf, page, Path(tmp))
            noisy = spoil(clean, n)
            text = truth(pdf, page)
            row = {"page": f"{name} p.{page}", "chars": len(normal(text))}
            for engine, read in readers.items():
                for kind, image in (("clean", clean), ("noisy", noisy)):
                    began, used = time.perf_counter(), cpu()
                    got = read(image)
                    row[f"{engine}-{kind}-s"] = round(time.perf_counter() - began, 2)
                    row[f"{engine}-{kind}-cpu"] = round(cpu() - used, 2)
                    row[f"{engine}-{kind}-cer"] = round(cer(text, got), 4)
            print(json.dumps(row), flush=True)
            results["pages"].append(row)
    for engine in readers:
        summary = {}
        for kind in ("clean", "noisy"):
            rows = results["pages"]
            chars = sum(r["chars"] for r in rows)
            errors = sum(r[f"{engine}-{kind}-cer"] * r["chars"] for r in rows)
            seconds = sum(r[f"{engine}-{kind}-s"] for r in rows)
            used = sum(r[f"{engine}-{kind}-cpu"] for r in rows)
            summary[kind] = {
                "cer": round(errors / chars, 4),
                "pages_s": round(len(rows) / seconds, 2),
                "cpu_s_per_page": round(used / len(rows), 2),
            }
        results["engines"][engine] = summary
    results["cpus"] = os.cpu_count()
    print(json.dumps(results["engines"], indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
