"""Real documents read as a person reads them: pages from Debian's documentation packages
(Sphinx, DocBook and asciidoc HTML; PDF manuals), installed by ``make test``'s setup."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import lxml.html
import pytest

from qa.config import load_settings
from qa.documents.loaders import FileLoader
from qa.index.ingest import split
from qa.sentences import sentences

ROOT = Path(__file__).resolve().parent.parent
PYDOCS = Path("/usr/share/doc/python3.11/html/library")
PGDOCS = Path("/usr/share/doc/postgresql-doc-15/html")
GITDOCS = Path("/usr/share/doc/git-doc")
RDOCS = Path("/usr/share/R/doc/manual")
needs = pytest.mark.skipif(
    not all(p.is_dir() for p in (PYDOCS, PGDOCS, GITDOCS, RDOCS)),
    reason="Debian's documentation packages are missing: run `make install-dev`",
)
# Text that only navigation, tables of contents and page furniture contain.
NAVIGATION = re.compile(
    r"Table of Contents|Previous topic|Next topic|This Page|Report a Bug|Show Source|"
    r"Quick search|Prev\s+Up\s+Next|Home\s+Next|Last updated|"
    r"Python 3\.11\.\d+ documentation"
)


def chunks(path: Path, size: int = 600) -> list:
    settings = load_settings({"chunk_size": size}, environ={})
    loader = FileLoader(path, path.name)
    return list(split(loader.lazy_load(), settings, loader.fingerprint()))


def squeeze(text: str) -> str:
    return " ".join(text.split())


PY_PAGES = ["csv.html", "fnmatch.html", "datetime.html", "os.path.html", "json.html"]


@needs
@pytest.mark.parametrize("page", PY_PAGES)
def test_python_docs_keep_no_navigation(page: str):
    found = chunks(PYDOCS / page)
    assert found
    for chunk in found:
        assert not NAVIGATION.search(chunk.page_content), chunk.page_content[:200]


@needs
@pytest.mark.parametrize("page", PY_PAGES)
def test_every_sentence_of_the_main_text_is_whole(page: str):
    """Each sentence of the page's paragraphs (read independently, by lxml) lies whole in one
    chunk or across two neighbours: inline markup no longer cuts sentences."""
    tree = lxml.html.parse(str(PYDOCS / page))
    paragraphs = tree.xpath("//div[@role='main']//p")
    texts = [squeeze(c.page_content) for c in chunks(PYDOCS / page)]
    pairs = texts + [squeeze(a + " " + b) for a, b in pairwise(texts)]
    checked = 0
    for p in paragraphs:
        for sentence in sentences(squeeze(p.text_content())):
            wanted = squeeze(sentence.text).rstrip("¶")
            assert any(wanted in t for t in pairs), wanted
            checked += 1
    assert checked > 10


@needs
def test_sections_of_a_sphinx_page():
    found = chunks(PYDOCS / "csv.html")
    reader = next(c for c in found if "Reader objects (DictReader instances" in c.page_content)
    assert reader.metadata["section"] == "csv — CSV File Reading and Writing › Reader Objects"
    assert reader.metadata["page"] == 0


@needs
@pytest.mark.parametrize(
    ("path", "section", "text"),
    [
        (PGDOCS / "sql-createindex.html", "CREATE INDEX › Parameters", "CONCURRENTLY"),
        (PGDOCS / "indexes-types.html", "11.2. Index Types › 11.2.2. Hash", "32-bit hash code"),
        (GITDOCS / "git-rebase.html", "git-rebase(1) Manual Page › OPTIONS", "--onto <newbase>"),
    ],
)
def test_docbook_and_asciidoc_pages(path: Path, section: str, text: str):
    found = chunks(path)
    assert any(c.metadata["section"] == section and text in c.page_content for c in found)
    for chunk in found:
        assert not NAVIGATION.search(chunk.page_content), chunk.page_content[:200]
    # Inline markup stays inside its sentence.
    joined = " ".join(c.page_content for c in found)
    assert not re.search(r"\n(,|\.)\s", joined)


@needs
def test_pdf_pages_sections_and_clean_text():
    found = chunks(RDOCS / "R-intro.pdf", size=1000)
    text = "\n".join(c.page_content for c in found)
    # Running headers ("Chapter 1: Introduction and preliminaries 4") and page numbers gone.
    assert not re.search(r"^Chapter \d+: .* \d+$", text, re.M)
    assert not re.search(r"^\d+$", text, re.M)
    # A word hyphenated at a line end is joined; a paragraph's lines are one line.
    assert "should be computed by something like" in squeeze(text)
    session = next(c for c in found if "1.6 An introductory session" in c.page_content)
    assert session.metadata["page"] == 10
    assert session.metadata["section"].endswith(
        "Introduction and preliminaries › An introductory session"
    )
    assert all(c.metadata["page"] >= 1 for c in found)


MARKDOWN = """# Ferry guide

The **harbour ferry** leaves every *20 minutes* from [pier 4](https://example.org/pier).
See `timetable.txt` for the night service.

## Tickets
Setext heading
--------------

- A day ticket costs 6 euros.

```
# not a heading
x = **kwargs
```
"""


def test_markdown_markup_is_blanked_and_offsets_point_into_the_file(tmp_path: Path):
    path = tmp_path / "guide.md"
    path.write_text(MARKDOWN)
    found = chunks(path, size=120)
    for chunk in found:
        m = chunk.metadata
        original = MARKDOWN[m["start"] : m["end"]]
        assert len(original) == len(chunk.page_content)
        # Markup is blanked, never moved: every other character is the file's own.
        assert all(a == b for a, b in zip(chunk.page_content, original, strict=True) if a != " ")
    text = squeeze(" ".join(c.page_content for c in found))
    assert "The harbour ferry leaves every 20 minutes from pier 4 ." in text
    assert "See timetable.txt for the night service." in text
    assert "x = **kwargs" in text and "# not a heading" in text  # code stays code
    sections = {c.metadata["section"] for c in found if "day ticket" in c.page_content}
    assert sections == {"Ferry guide › Setext heading"}
    first = next(c for c in found if "harbour ferry" in c.page_content)
    assert first.metadata["section"] == "Ferry guide"


@pytest.fixture(scope="module")
def manuals_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three similar PostgreSQL pages and an R manual (PDF), indexed by `qa ingest`."""
    base = tmp_path_factory.mktemp("manuals")
    for name in ("indexes-types.html", "indexes-unique.html", "indexes-multicolumn.html"):
        (base / "docs").mkdir(exist_ok=True)
        shutil.copy(PGDOCS / name, base / "docs")
    shutil.copy(RDOCS / "R-data.pdf", base / "docs")
    qa(base, "ingest", "docs", "--index", "index")
    return base


def qa(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run the `qa` command in a process of its own (``stdin`` its input); it must succeed."""
    result = subprocess.run(
        [sys.executable, "-m", "qa", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    return result


@needs
@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "fact", "source", "section", "page"),
    [
        (
            "What do hash indexes keep for each indexed value?",
            "32-bit hash code",
            "docs/indexes-types.html",
            "11.2. Index Types › 11.2.2. Hash",
            0,
        ),
        (
            "What do read.table and read.fwf use underneath to read a file?",
            "scan",
            "docs/R-data.pdf",
            "Spreadsheet-like data › Using scan directly",
            15,
        ),
    ],
)
def test_answers_from_manuals_cite_section_and_page(
    manuals_index: Path, question: str, fact: str, source: str, section: str, page: int
):
    """`qa ask --json` on real HTML and PDF manuals: the answer cites the passage that holds
    it, with its section path and, for the PDF, its page; the quote is the extracted text."""
    out = json.loads(qa(manuals_index, "ask", question, "--json", "--index", "index").stdout)
    assert not out["declined"] and fact in out["answer"]
    cited = [c for c in out["citations"] if fact in c["quote"]]
    assert cited and cited[0]["source"] == source
    assert section in cited[0]["section"] and cited[0]["page"] == page
    loader = FileLoader(manuals_index / source, source)
    text = "\n\n".join(part.text for part in loader.parts())
    assert text[cited[0]["start"] : cited[0]["end"]] == cited[0]["quote"]


def test_citations_show_their_section_and_page():
    """The shell's source lines and the chat page's sources panel say where a quote is."""
    from qa.answering.answer import Answer, Citation
    from qa.interfaces.sources import sources_html

    cited = Citation(1, "r/R-data.pdf", 10, 20, "use scan", 0, "x" * 30, "R Data › scan", 15)
    assert cited.where == "R Data › scan, p. 15"
    assert Citation(2, "a.txt", 0, 1, "x").where == ""
    answer = Answer("q", "It uses scan [1].", False, [cited], {})
    assert "R Data › scan, p. 15" in sources_html(answer, 1)
    assert "section" in answer.to_json()["citations"][0]
