"""OCR: the text of scanned PDF pages (pages without a text layer) and of images, read by
Tesseract (Debian's tesseract-ocr, through its command line), each page within a time limit,
with the page number kept and how sure Tesseract was of its words (mean word confidence,
0-1) kept on every part it gives. docs/formats.md says why Tesseract (it was measured against
RapidOCR).
"""

from __future__ import annotations

import csv
import io
import logging
import os
import subprocess
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from qa.documents.blocks import Block, Reading, assemble
from qa.documents.markup import Part
from qa.errors import BadDocumentError
from qa.progress import bar

log = logging.getLogger(__name__)

DPI = 300  # scanned pages are rendered at the resolution Tesseract reads best
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})


class OcrUnavailableError(BadDocumentError):
    """OCR is off, or Tesseract is not installed."""


@dataclass(frozen=True)
class OcrPage:
    """A page as Tesseract read it: its lines, its paragraphs and its mean word confidence."""

    lines: list[str]
    paragraphs: list[str]
    confidence: float


def _join(lines: list[str]) -> str:
    """A paragraph's lines as one line; a word hyphenated at a line end is joined whole."""
    out = ""
    for line in lines:
        if out.endswith("-") and out[-2:-1].isalpha() and line[:1].islower():
            out = out[:-1] + line
        else:
            out = f"{out} {line}" if out else line
    return out


def read_image(image, reading: Reading, where: str) -> OcrPage | None:
    """One page image (PIL) read by Tesseract; None where it took longer than the page limit."""
    if not reading.ocr:
        raise OcrUnavailableError("no text layer, and OCR is off (QA_OCR)")
    from PIL import ImageFilter

    png = io.BytesIO()
    # A 3x3 median first: a scan's specks are read as letters otherwise (a noisy, nearly
    # empty page gave 90% errors in 92 s unfiltered, 2% in 1 s filtered; docs/formats.md).
    image.filter(ImageFilter.MedianFilter(3)).save(png, format="PNG")
    command = ["tesseract", "stdin", "stdout", "-l", reading.ocr_languages, "--psm", "3", "tsv"]
    try:
        done = subprocess.run(
            command,
            input=png.getvalue(),
            capture_output=True,
            timeout=reading.ocr_page_seconds,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
    except FileNotFoundError:
        raise OcrUnavailableError(
            "no text layer: OCR needs Tesseract (apt-get install tesseract-ocr)"
        ) from None
    except subprocess.TimeoutExpired:
        log.warning(
            "OCR of %s gave up after %.0f s (QA_OCR_PAGE_SECONDS)", where, reading.ocr_page_seconds
        )
        return None
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["failed"]
        raise OcrUnavailableError(f"OCR failed: {reason[0]}")
    return _parse(done.stdout.decode("utf-8", errors="replace"))


def _parse(tsv: str) -> OcrPage:
    """Tesseract's TSV (a row a word, with its block, paragraph and line) as lines and
    paragraphs in reading order."""
    lines: dict[tuple, list[str]] = {}
    confidences: list[float] = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        word = (row.get("text") or "").strip()
        if row.get("level") != "5" or not word:
            continue
        key = (int(row["block_num"]), int(row["par_num"]), int(row["line_num"]))
        lines.setdefault(key, []).append(word)
        confidences.append(max(0.0, float(row["conf"])) / 100)
    paragraphs: dict[tuple, list[str]] = {}
    for (block, par, _), words in lines.items():
        paragraphs.setdefault((block, par), []).append(" ".join(words))
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return OcrPage(
        [" ".join(w) for w in lines.values()],
        [_join(p) for p in paragraphs.values()],
        round(mean, 3),
    )


def _progress(total: int, name: str):
    """A bar of pages on a terminal (none in a log or a pipe)."""
    return bar(total=total, desc=f"OCR {name}", unit="page")


def _read_pages(
    images: Iterator[tuple[int, object]], total: int, reading: Reading, name: str
) -> dict[int, OcrPage]:
    """Pages ((number, image), made one at a time by the caller's thread) read by Tesseract
    processes side by side, one per CPU thread, each single-threaded: Tesseract's own
    threads spent 2.5x the CPU for no gain in time here (docs/formats.md)."""
    found: dict[int, OcrPage] = {}
    pending: deque[tuple[int, float, Future]] = deque()

    def finish(bar) -> None:
        number, began, future = pending.popleft()
        page = future.result()
        bar.update()
        if page is not None:
            found[number] = page
            seconds = time.perf_counter() - began
            log.info(
                "OCR %s p. %d: %.1f s, confidence %.2f", name, number, seconds, page.confidence
            )

    with ThreadPoolExecutor(max(1, reading.threads)) as pool, _progress(total, name) as bar:
        for number, image in images:
            began = time.perf_counter()
            pending.append(
                (number, began, pool.submit(read_image, image, reading, f"{name} p. {number}"))
            )
            if len(pending) >= max(1, reading.threads):
                finish(bar)
        while pending:
            finish(bar)
    return found


def pdf_pages(path: Path, indexes: list[int], reading: Reading) -> dict[int, OcrPage]:
    """The pages at ``indexes`` (0-based) of a PDF, rendered by PDFium and read by Tesseract:
    {index: page}, without the pages that ran out of time."""
    if not reading.ocr:
        raise OcrUnavailableError("no text layer, and OCR is off (QA_OCR)")
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as e:
        raise BadDocumentError(f"unreadable PDF ({e})") from None
    try:  # PDFium is not thread-safe: pages are rendered here, one at a time
        rendered = (
            (i + 1, pdf[i].render(scale=DPI / 72, grayscale=True).to_pil()) for i in indexes
        )
        found = _read_pages(rendered, len(indexes), reading, path.name)
    finally:
        pdf.close()
    return {number - 1: page for number, page in found.items()}


def _on_white(frame):
    """A frame in greyscale, laid on white first if it has transparency: a transparent
    background's pixels are often black underneath, and would read as a black page."""
    from PIL import Image

    if frame.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in frame.info:
        rgba = frame.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("L")
    return frame.convert("L")


def _frames(path: Path) -> Iterator:
    """Every frame of an image (a multi-page TIFF has several), as a greyscale PIL image."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            for frame in ImageSequence.Iterator(image):
                yield _on_white(frame)
    except (UnidentifiedImageError, OSError) as e:
        raise BadDocumentError(f"unreadable image ({e})") from None


def image_parts(path: Path, reading: Reading) -> list[Part]:
    """An image's text, by OCR: a part per frame (its page), paragraphs as Tesseract found them."""
    frames = list(_frames(path))
    found = _read_pages(enumerate(frames, 1), len(frames), reading, path.name)
    return assemble(
        Block(p, "", n, page.confidence)
        for n, page in sorted(found.items())
        for p in page.paragraphs
    )
