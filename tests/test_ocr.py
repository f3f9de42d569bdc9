"""Scanned pages and images read by OCR (Tesseract): real manual pages (Debian's r-doc-pdf)
rendered to images, so the true text is known; OCR only where a page has no text, the page
number and a confidence kept, a page over the time limit skipped."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa.documents.blocks import Reading
from qa.documents.loaders import FileLoader
from qa.errors import BadDocumentError
from tests.formats import read

MANUAL = Path("/usr/share/R/doc/manual/R-intro.pdf")
needs = pytest.mark.skipif(
    not MANUAL.exists() or shutil.which("tesseract") is None,
    reason="r-doc-pdf or tesseract-ocr is missing: run `make install-dev`",
)


def page_image(index: int):
    """A page of the R manual as a 300 dpi greyscale scan."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(MANUAL)
    try:
        return pdf[index].render(scale=300 / 72, grayscale=True).to_pil().convert("L")
    finally:
        pdf.close()


def words(text: str) -> list[str]:
    return [w.strip(".,;:()‘’'\"") for w in text.split() if len(w) > 3]


def true_text(index: int) -> str:
    from pypdf import PdfReader

    return PdfReader(MANUAL).pages[index].extract_text()


def recall(truth: str, read: str) -> float:
    """The share of the page's longer words that OCR read."""
    found = set(words(read))
    wanted = words(truth)
    return sum(w in found for w in wanted) / len(wanted)


def scanned_pdf(path: Path, text_page: int, image_page: int) -> Path:
    """A PDF whose first page has its text and whose second is a scan (an image only)."""
    from pypdf import PdfReader, PdfWriter

    scan = path.with_suffix(".scan.pdf")
    page_image(image_page).save(scan, resolution=300.0)
    writer = PdfWriter()
    writer.add_page(PdfReader(MANUAL).pages[text_page])
    writer.add_page(PdfReader(scan).pages[0])
    writer.write(path)
    return path


@needs
def test_an_image_is_read_by_ocr(tmp_path: Path):
    path = tmp_path / "page.png"
    page_image(10).save(path)
    text, parts, chunks = read(path)
    assert recall(true_text(10), text) > 0.95
    assert {p.page for p in parts} == {1}
    assert all(0.8 < p.confidence <= 1 for p in parts)
    assert all(0.8 < c.metadata["ocr_confidence"] <= 1 for c in chunks)


@needs
def test_only_the_page_without_text_is_read_by_ocr(tmp_path: Path):
    path = scanned_pdf(tmp_path / "mixed.pdf", 9, 10)
    _, parts, _ = read(path)
    first = "\n".join(p.text for p in parts if p.page == 1)
    second = "\n".join(p.text for p in parts if p.page == 2)
    assert recall(true_text(9), first) > 0.95 and recall(true_text(10), second) > 0.95
    assert all(p.confidence is None for p in parts if p.page == 1)  # its own text layer
    assert all(p.confidence > 0.8 for p in parts if p.page == 2)
    # With OCR off, the page with text is still read; a PDF of scans only is refused.
    off = [p.page for p in FileLoader(path, path.name, Reading(ocr=False)).parts()]
    assert set(off) == {1}
    scan = path.with_suffix(".scan.pdf")
    with pytest.raises(BadDocumentError, match="OCR is off"):
        list(FileLoader(scan, scan.name, Reading(ocr=False)).parts())


@needs
def test_a_page_over_the_time_limit_is_skipped(tmp_path: Path, caplog):
    path = tmp_path / "page.png"
    page_image(10).save(path)
    with pytest.raises(BadDocumentError, match="no text"):
        list(FileLoader(path, path.name, Reading(ocr_page_seconds=0.01)).parts())
    assert "gave up" in caplog.text
