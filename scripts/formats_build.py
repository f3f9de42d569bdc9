"""The formats dev set's documents, each kind made from real material in Debian's packages,
and beside each the source it was made from (what the same questions are asked of for
comparison). Called by scripts/formats.py; LibreOffice and poppler-utils build, nothing of
this runs in the tests.

- docx, odt, rtf: the manuals set's 25 PostgreSQL pages (postgresql-doc-15), navigation
  taken out, converted by LibreOffice; source: that HTML;
- csv: distro-info-data's debian.csv and ubuntu.csv, copied; source: the same as plain text;
- scanned: R-intro and R-data (r-doc-pdf) as 300 dpi scans without a text layer (made by
  scripts/formats.py); source: the PDFs themselves, text layer and all;
- pptx, odp: five chapters of the Debian FAQ (debian-faq) as a deck written by python-pptx,
  a slide a question (heading), its answer's first paragraphs on the slide and the rest as
  speaker notes (LibreOffice makes no slides of a text document), and LibreOffice's .odp
  of that deck; source: the chapters' HTML;
- xlsx, ods: ISO 3166-1, 4217 and 639-2 (iso-codes) as a workbook written by openpyxl, a
  sheet a standard, and LibreOffice's .ods of it; source: the JSON files as text;
- epub: the Live Systems manual (live-manual-epub), copied; source: the same manual as
  HTML (live-manual-html);
- mail: Git's how-tos that are mails to its list (git-doc; From, Date and Subject), as .eml
  files and one .mbox; source: the same mails as shipped, as text.
"""

from __future__ import annotations

import email
import json
import mailbox
import shutil
import subprocess
from email import policy
from pathlib import Path

FAQ = Path("/usr/share/doc/debian/FAQ")
FAQ_CHAPTERS = ["basic-defs", "choosing", "ftparchives", "pkg-basics", "getting-debian"]
ISO = Path("/usr/share/iso-codes/json")
ISO_SHEETS = {"Countries": "iso_3166-1", "Currencies": "iso_4217", "Languages": "iso_639-2"}
EPUB = Path("/usr/share/doc/live-manual/epub/live-manual.en.epub")
EPUB_SOURCE = Path("/usr/share/doc/live-manual/html/live-manual.en.html")
HOWTOS = Path("/usr/share/doc/git-doc/howto")
MAIL_HEADERS = ("from:", "date:", "subject:")  # a how-to that is a mail has all three
SECTION_TAGS = {"h1", "h2", "h3"}
BLOCK_TAGS = {"p", "li", "pre", "dt", "dd"}


def soffice(target: str, files: list[Path], outdir: Path) -> None:
    """Convert ``files`` with LibreOffice (``--convert-to target``) into ``outdir``."""
    command = ["soffice", "--headless", "--convert-to", target, "--outdir", str(outdir)]
    subprocess.run([*command, *map(str, files)], check=True, capture_output=True)


def _cleaned(page: Path, extra: str = ""):
    """``page``'s tree less its navigation (header and footer links) and ``extra``."""
    import lxml.html
    from lxml.cssselect import CSSSelector

    from qa.documents.markup import NAVIGATION

    tree = lxml.html.parse(str(page))
    for element in CSSSelector(f"{NAVIGATION}{extra}")(tree.getroot()):
        element.drop_tree()
    return tree


def clean_html(page: Path, out: Path) -> Path:
    """``page`` less its navigation, written to ``out``."""
    import lxml.html

    out.write_bytes(lxml.html.tostring(_cleaned(page), encoding="utf-8"))
    return out


def office(pages: list[Path], dest: Path, source: Path) -> None:
    """docx/, odt/ and rtf/ from the same pages, converted by LibreOffice; the pages' HTML as
    their source."""
    cleaned = [clean_html(p, source / p.name) for p in pages]
    soffice("docx:MS Word 2007 XML", cleaned, dest / "docx")
    soffice("odt:writerweb8_writer", cleaned, dest / "odt")
    soffice("rtf:Rich Text Format", cleaned, dest / "rtf")


def _sections(page: Path) -> list[tuple[str, list[str]]]:
    """A page's (heading, text blocks) in order: its paragraphs, list items, definitions and
    code, each block once (a paragraph inside a list item is the item's)."""
    sections: list[tuple[str, list[str]]] = []
    for element in _cleaned(page, ", div.toc").getroot().iter(*SECTION_TAGS, *BLOCK_TAGS):
        if any(a.tag in BLOCK_TAGS for a in element.iterancestors()):
            continue
        text = element.text_content()
        text = text.strip("\n") if element.tag == "pre" else " ".join(text.split())
        if element.tag in SECTION_TAGS:
            sections.append((" ".join(text.split()), []))
        elif text and sections:
            sections[-1][1].append(text)
    return sections


def slides(dest: Path, source: Path, on_slide: int = 2) -> None:
    """A deck of the FAQ's chapters: a slide a question (heading), the answer's first
    ``on_slide`` blocks as bullets, the rest as the speaker's notes; then LibreOffice's .odp
    of it."""
    from pptx import Presentation

    deck = Presentation()
    for chapter in FAQ_CHAPTERS:
        page = shutil.copy(FAQ / f"{chapter}.en.html", source / f"{chapter}.html")
        for heading, blocks in _sections(Path(page)):
            slide = deck.slides.add_slide(deck.slide_layouts[1 if blocks else 0])
            slide.shapes.title.text = heading
            if not blocks:
                continue
            body = slide.placeholders[1].text_frame
            body.text = blocks[0]
            for block in blocks[1:on_slide]:
                body.add_paragraph().text = block
            if blocks[on_slide:]:
                slide.notes_slide.notes_text_frame.text = "\n".join(blocks[on_slide:])
    deck.save(dest / "pptx" / "debian-faq.pptx")
    soffice("odp:impress8", [dest / "pptx" / "debian-faq.pptx"], dest / "odp")


def sheets(dest: Path, source: Path) -> None:
    """A workbook of ISO code tables, a sheet each, its columns the JSON's keys; LibreOffice's
    .ods of it; the JSON files as text for the source."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, name in ISO_SHEETS.items():
        path = ISO / f"{name}.json"
        shutil.copy(path, source / f"{name}.txt")
        (records,) = json.loads(path.read_text()).values()
        columns = list(dict.fromkeys(key for record in records for key in record))
        sheet = book.create_sheet(title)
        sheet.append(columns)
        for record in records:
            sheet.append([record.get(c, "") for c in columns])
    book.save(dest / "xlsx" / "iso-codes.xlsx")
    soffice("ods:calc8", [dest / "xlsx" / "iso-codes.xlsx"], dest / "ods")


def epub(dest: Path, source: Path) -> None:
    shutil.copy(EPUB, dest / "epub")
    shutil.copy(EPUB_SOURCE, source)


def mails(dest: Path, source: Path) -> None:
    """The how-tos written as mails to the Git list: alternately an .eml file each and one
    .mbox of the rest. Their headers are kept but their asciidoc content type, which no mail
    program shows as text, is declared text/plain."""
    box = mailbox.mbox(dest / "mail" / "git-howtos.mbox")
    howtos = sorted(HOWTOS.glob("*.txt"))
    written = 0
    for howto in howtos:
        text = howto.read_text()
        head = text.split("\n\n", 1)[0].lower()
        if not all(any(line.startswith(h) for line in head.splitlines()) for h in MAIL_HEADERS):
            continue
        shutil.copy(howto, source)
        head, body = text.split("\n\n", 1)
        lines = [line for line in head.splitlines() if not line.lower().startswith("content-type")]
        mime = ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8"]
        raw = "\n".join([*lines, *mime]) + "\n\n" + body
        message = email.message_from_string(raw, policy=policy.compat32)
        if written % 2 == 0:
            (dest / "mail" / f"{howto.stem}.eml").write_bytes(message.as_bytes())
        else:
            box.add(message)
        written += 1
    box.flush()
    box.close()


def scan(pdf: Path, out: Path, spoil: bool, tmp: Path) -> None:
    """``pdf`` as a scanner makes it: every page at 300 dpi (pdftoppm, greyscale), with
    ``spoil`` turned 1° with noise and specks as a poor scan is, black and white, rebuilt
    into a PDF of page images only (no text layer)."""
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
