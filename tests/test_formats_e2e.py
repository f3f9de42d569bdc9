"""A folder of a Word file, a CSV table and a scanned PDF, all from real material, ingested by
`qa ingest` (a broken workbook beside them skipped with one line) and asked by `qa ask --json`
with the real models: each answer cites its file, with its section or page, and the quote is
the extracted text at the cited offsets. One ingest and one model load for all."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qa.documents.loaders import FileLoader
from tests.test_documents import PGDOCS, qa
from tests.test_ocr import needs as needs_ocr

RDATA = Path("/usr/share/R/doc/manual/R-data.pdf")
PAGE = PGDOCS / "indexes-types.html"
RELEASES = Path("/usr/share/distro-info/debian.csv")  # Debian's distro-info-data


def docx_from_html(html: Path, path: Path) -> None:
    """A Word file with the page's headings, paragraphs, lists and tables (python-docx)."""
    import docx
    import lxml.html

    tree = lxml.html.parse(str(html))
    main = (tree.xpath("//div[@class='sect1' or @class='refentry']") or [tree.getroot()])[0]
    d = docx.Document()
    for element in main.iter("h1", "h2", "h3", "h4", "p", "li", "pre", "table"):
        if any(a.tag in {"li", "table"} for a in element.iterancestors()):
            continue  # read with its list item or table
        text = " ".join(element.text_content().split())
        if element.tag[0] == "h":
            d.add_heading(text, int(element.tag[1]))
        elif element.tag == "li":
            d.add_paragraph(text, style="List Bullet")
        elif element.tag == "table":
            cells = (tr.xpath("./td|./th") for tr in element.iter("tr"))
            rows = [[" ".join(c.text_content().split()) for c in row] for row in cells]
            table = d.add_table(rows=len(rows), cols=max(map(len, rows)))
            for row, cells in zip(table.rows, rows, strict=True):
                for cell, value in zip(row.cells, cells, strict=False):
                    cell.text = value
        elif text:
            d.add_paragraph(text)
    d.save(path)


def scan(pdf: Path, indexes: list[int], path: Path) -> None:
    """An image-only PDF of the pages at ``indexes``, rendered at 300 dpi."""
    import pypdfium2 as pdfium

    source = pdfium.PdfDocument(pdf)
    pages = [source[i].render(scale=300 / 72, grayscale=True) for i in indexes]
    images = [page.to_pil().convert("L") for page in pages]
    source.close()
    images[0].save(path, save_all=True, append_images=images[1:], resolution=300.0)


@pytest.fixture(scope="module")
def formats_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("formats")
    docs = base / "docs"
    docs.mkdir()
    docx_from_html(PAGE, docs / "index-types.docx")
    shutil.copy(RELEASES, docs)
    scan(RDATA, [13, 14], docs / "R-data-scanned.pdf")
    (docs / "broken.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    return base, qa(base, "ingest", "docs", "--index", "index").stderr


# (question, a fact of the answer, the file cited, where: a section's words or a page)
QUESTIONS = [
    (
        "What do hash indexes keep for each indexed value?",
        "32-bit hash",
        "docs/index-types.docx",
        "Hash",
    ),
    ("When was Debian 10 released?", "2019-07-06", "docs/debian.csv", "debian › row 16"),
    (
        "What does read.fwf write out before it calls read.table?",
        "temporary tab-separated file",
        "docs/R-data-scanned.pdf",
        2,
    ),
]


@needs_ocr
@pytest.mark.skipif(
    not (PAGE.exists() and RDATA.exists() and RELEASES.exists()),
    reason="Debian's packages are missing: run `make install-dev`",
)
@pytest.mark.slow
def test_word_csv_and_scanned_pdf_answered_and_cited(formats_index: tuple[Path, str]):
    base, ingest_log = formats_index
    assert "skipped docs/broken.xlsx:" in ingest_log and ingest_log.count("skipped docs") == 1
    assert "types: .csv 1, .docx 1, .pdf 1" in qa(base, "status", "--index", "index").stdout
    questions = "\n".join(q for q, *_ in QUESTIONS) + "\n"
    asked = qa(base, "ask", "-", "--json", "--index", "index", stdin=questions)
    answers = [json.loads(line) for line in asked.stdout.splitlines()]
    assert len(answers) == len(QUESTIONS), asked.stderr
    for out, (question, fact, source, where) in zip(answers, QUESTIONS, strict=True):
        assert not out["declined"] and fact in out["answer"], (question, out["answer"])
        cited = [c for c in out["citations"] if c["source"] == source]
        assert cited, (question, out["citations"])
        text = "\n\n".join(p.text for p in FileLoader(base / source, source).parts())
        for c in cited:
            assert text[c["start"] : c["end"]] == c["quote"]
        if isinstance(where, int):
            assert any(c["page"] == where for c in cited)
        else:
            assert any(where in c["section"] for c in cited)
