"""Word readers side by side on real documents whose structure is known (docs/formats.md).

The documents: PostgreSQL manual pages (Debian's postgresql-doc-15, eval/manuals/pages.txt)
with their navigation taken out, converted to .docx by LibreOffice (``soffice --headless
--convert-to docx``). The HTML says what each holds: its headings (h1-h4), its tables' rows
and its list items. For each reader, what share of them comes out whole:

- headings: the heading's text is a heading of the output (docqa: a level of a section path;
  MarkItDown: a "#" line; unstructured: a Title element);
- table rows: every cell of the row on one line of the output;
- list items: the item's text starts a line (after a bullet mark);

and the seconds it takes per document. Run it where the readers are installed:

    python scripts/readers_compare.py DOCX_FOLDER HTML_FOLDER
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def squeeze(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


def truth(html: Path) -> dict:
    import lxml.html

    tree = lxml.html.parse(str(html))
    for nav in tree.xpath("//*[contains(@class, 'navheader') or contains(@class, 'navfooter')]"):
        nav.drop_tree()
    body = tree.getroot()
    rows = []
    for tr in body.xpath("//table//tr"):
        cells = [squeeze(c.text_content()) for c in tr.xpath("./td|./th")]
        if sum(1 for c in cells if c) >= 2 and max(len(c) for c in cells) < 200:
            rows.append([c for c in cells if c])
    return {
        "headings": [squeeze(h.text_content()) for h in body.xpath("//h1|//h2|//h3|//h4")],
        "rows": rows,
        "items": [squeeze(li.text_content())[:60] for li in body.xpath("//li")],
    }


def docqa(path: Path) -> tuple[list[str], list[str]]:
    from qa.documents.blocks import Reading
    from qa.documents.markup import SEPARATOR
    from qa.documents.office import docx_parts

    parts = docx_parts(path, Reading())
    headings = {h for p in parts for h in p.section.split(SEPARATOR)}
    lines = [squeeze(line) for p in parts for line in p.text.splitlines()]
    return sorted(headings), lines


def markitdown(path: Path) -> tuple[list[str], list[str]]:
    from markitdown import MarkItDown

    text = MarkItDown().convert(str(path)).text_content
    lines = [squeeze(line) for line in text.splitlines()]
    headings = [re.sub(r"^#+\s*", "", line) for line in lines if line.startswith("#")]
    return headings, [re.sub(r"[*_]", "", line) for line in lines]


def mammoth_markdown(path: Path) -> tuple[list[str], list[str]]:
    """MarkItDown's own path for .docx (mammoth to HTML, markdownify to Markdown), called
    directly: MarkItDown 0.1.9's pre-processing step failed on every file here."""
    import mammoth
    import markdownify

    with path.open("rb") as f:
        html = mammoth.convert_to_html(f).value
    text = markdownify.markdownify(html, heading_style="ATX")
    lines = [squeeze(line) for line in text.splitlines()]
    headings = [re.sub(r"^#+\s*", "", line) for line in lines if line.startswith("#")]
    return headings, [re.sub(r"[*_]", "", line) for line in lines]


def unstructured(path: Path) -> tuple[list[str], list[str]]:
    from unstructured.partition.docx import partition_docx

    elements = partition_docx(filename=str(path))
    headings = [squeeze(e.text) for e in elements if e.category == "Title"]
    lines = []
    for e in elements:
        html = getattr(e.metadata, "text_as_html", None)
        if e.category == "Table" and html:
            import lxml.html

            for tr in lxml.html.fromstring(html).xpath("//tr"):
                lines.append(" ".join(squeeze(td.text_content()) for td in tr.xpath("./td|./th")))
        else:
            lines += [squeeze(line) for line in e.text.splitlines()]
    return headings, lines


def score(found: tuple[list[str], list[str]], want: dict) -> dict:
    headings, lines = found
    heads = {re.sub(r"^[\d.\s]+", "", h) for h in headings}
    starts = [re.sub(r"^[-*•\d.)\s]+", "", line) for line in lines]
    return {
        "headings": sum(re.sub(r"^[\d.\s]+", "", h) in heads for h in want["headings"]),
        "rows": sum(any(all(c in line for c in row) for line in lines) for row in want["rows"]),
        "items": sum(any(s.startswith(i) for s in starts) for i in want["items"] if i),
    }


def main() -> None:
    docx_folder, html_folder = Path(sys.argv[1]), Path(sys.argv[2])
    readers = {
        "docqa (python-docx)": docqa,
        "MarkItDown": markitdown,
        "mammoth + markdownify (MarkItDown's path)": mammoth_markdown,
        "unstructured": unstructured,
    }
    totals: dict = {
        name: {"headings": 0, "rows": 0, "items": 0, "seconds": 0.0} for name in readers
    }
    wanted = {"headings": 0, "rows": 0, "items": 0}
    for path in sorted(docx_folder.glob("*.docx")):
        want = truth(html_folder / f"{path.stem}.html")
        for key in wanted:
            wanted[key] += len(want[key if key != "items" else "items"])
        for name, read in readers.items():
            began = time.perf_counter()
            try:
                got = score(read(path), want)
            except ImportError:
                continue
            except Exception as e:  # a reader that fails on a file scores nothing for it
                print(f"{name} failed on {path.name}: {e!r:.200}", file=sys.stderr)
                totals[name]["failed"] = totals[name].get("failed", 0) + 1
                continue
            totals[name]["seconds"] += time.perf_counter() - began
            for key, n in got.items():
                totals[name][key] += n
    print(json.dumps({"wanted": wanted, "found": totals}, indent=1))


if __name__ == "__main__":
    main()
