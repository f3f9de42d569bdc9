"""Small real documents of every format docqa reads, written by the libraries that write them
(python-docx, python-pptx, openpyxl, odfpy, pandas, Python's email and zipfile), and the check
every reader's output must pass: offsets exact, chunks inside one section."""

from __future__ import annotations

import zipfile
from datetime import date
from email.message import EmailMessage
from pathlib import Path

from qa.config import load_settings
from qa.documents.blocks import Reading
from qa.documents.loaders import FileLoader
from qa.documents.markup import Part
from qa.index.ingest import split


def read(path: Path, reading: Reading = Reading()) -> tuple[str, list[Part], list]:
    """The document's text, its parts and its chunks, checked: every part and every chunk is
    the text at its offsets, and every chunk lies inside one part and carries its section."""
    loader = FileLoader(path, path.name, reading)
    parts = list(loader.parts())
    text = loader.text()
    for p in parts:
        assert text[p.offset : p.offset + len(p.text)] == p.text
    settings = load_settings({"chunk_size": 120, "chunk_overlap": 20}, environ={})
    chunks = list(split(loader.lazy_load(), settings, loader.fingerprint()))
    for c in chunks:
        start, end = c.metadata["start"], c.metadata["end"]
        assert text[start:end] == c.page_content
        home = next(p for p in parts if p.offset <= start < p.offset + len(p.text))
        assert end <= home.offset + len(home.text), "a chunk straddles two sections"
        assert c.metadata["section"] == home.section and c.metadata["page"] == home.page
    return text, parts, chunks


def section_of(parts: list[Part], words: str) -> str:
    return next(p.section for p in parts if words in p.text)


def make_docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.add_heading("Harbour ferry handbook", 0)
    d.add_heading("Timetable", 1)
    d.add_paragraph("The harbour ferry leaves every 20 minutes from pier 4.")
    d.add_paragraph("Night service runs on Fridays.", style="List Bullet")
    d.add_paragraph("Bicycles travel free.", style="List Bullet")
    d.add_heading("Fares", 2)
    table = d.add_table(rows=3, cols=3)
    fares = [
        ("Zone", "Adult", "Child"),
        ("A", "2.50 EUR", "1.20 EUR"),
        ("B", "3.10 EUR", "1.50 EUR"),
    ]
    for row, cells in zip(table.rows, fares, strict=True):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    d.add_heading("Lost property", 1)
    d.add_paragraph("Ask at the kiosk on pier 1.")
    d.save(path)
    return path


def make_xlsx(path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Budget"
    sheet.append(["Budget 2024"])
    sheet.append([])
    sheet.append(["Team", "Cost", "Start"])
    sheet.append(["Ops", 1200.0, date(2024, 3, 1)])
    sheet.append(["Research", 830.5, None])
    staff = book.create_sheet("Staff")
    staff.append(["Name", "Room"])
    staff.append(["Ines", 214])
    book.save(path)
    return path


def make_pptx(path: Path) -> Path:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Quarterly review"
    body = slide.placeholders[1].text_frame
    body.text = "Revenue grew 12%"
    sub = body.add_paragraph()
    sub.text, sub.level = "The north region led", 1
    slide.notes_slide.notes_text_frame.text = "Mention the new office in Porto."
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Head count"
    table = slide.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(4), Inches(1)).table
    for n, value in enumerate(["Team", "People", "Sales", "14"]):
        table.cell(n // 2, n % 2).text = value
    deck.save(path)
    return path


def make_odt(path: Path) -> Path:
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, List, ListItem, P

    doc = OpenDocumentText()
    doc.text.addElement(H(outlinelevel=1, text="Timetable"))
    doc.text.addElement(P(text="The harbour ferry leaves every 20 minutes from pier 4."))
    items = List()
    for said in ("Night service runs on Fridays.", "Bicycles travel free."):
        item = ListItem()
        item.addElement(P(text=said))
        items.addElement(item)
    doc.text.addElement(items)
    doc.text.addElement(H(outlinelevel=2, text="Fares"))
    table = Table(name="Fares")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    for cells in (("Zone", "Adult"), ("A", "2.50 EUR")):
        row = TableRow()
        for value in cells:
            cell = TableCell()
            cell.addElement(P(text=value))
            row.addElement(cell)
        table.addElement(row)
    doc.text.addElement(table)
    doc.save(str(path))
    return path


def make_odp(path: Path) -> Path:
    from odf.draw import Frame, Page, TextBox
    from odf.opendocument import OpenDocumentPresentation
    from odf.presentation import Notes
    from odf.style import MasterPage, PageLayout
    from odf.text import P

    doc = OpenDocumentPresentation()
    layout = PageLayout(name="layout")
    doc.automaticstyles.addElement(layout)
    master = MasterPage(name="master", pagelayoutname=layout)
    doc.masterstyles.addElement(master)

    def frame(role: str, text: str) -> Frame:
        f = Frame(**{"class": role}, width="20cm", height="3cm", x="1cm", y="1cm")
        box = TextBox()
        box.addElement(P(text=text))
        f.addElement(box)
        return f

    page = Page(masterpagename=master)
    page.addElement(frame("title", "Quarterly review"))
    page.addElement(frame("outline", "Revenue grew 12%"))
    notes = Notes()
    notes.addElement(frame("notes", "Mention the new office in Porto."))
    page.addElement(notes)
    doc.presentation.addElement(page)
    doc.save(str(path))
    return path


CHAPTER = """<?xml version="1.0" encoding="utf-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>{title}</title></head>
<body><h1>{title}</h1><p>{text}</p><h2>Notes</h2><p>{note}</p></body></html>"""


def make_epub(path: Path, anchors: bool = False) -> Path:
    """A two-chapter EPUB 3. With ``anchors``, its package lists the first chapter again at
    an anchor inside it (``one.xhtml#later``), in the manifest and the spine, as SiSU's
    books do (Debian's live-manual-epub)."""
    anchored = (
        '<item id="c1b" href="text/one.xhtml#later" media-type="application/xhtml+xml"/>'
        if anchors
        else ""
    )
    opf = f"""<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">
<manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
<item id="c1" href="text/one.xhtml" media-type="application/xhtml+xml"/>{anchored}
<item id="c2" href="text/two.xhtml" media-type="application/xhtml+xml"/></manifest>
<spine><itemref idref="c1"/>{'<itemref idref="c1b"/>' if anchors else ""}<itemref idref="c2"/>
</spine></package>"""
    nav = """<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"
xmlns:epub="http://www.idpf.org/2007/ops"><body><nav epub:type="toc"><ol>
<li><a href="text/one.xhtml">I. The Crossing</a></li>
<li><a href="text/two.xhtml">II. The Island</a></li>
</ol></nav></body></html>"""
    container = """<?xml version="1.0"?><container version="1.0"
xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>
<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
</rootfiles></container>"""
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("mimetype", "application/epub+zip")
        book.writestr("META-INF/container.xml", container)
        book.writestr("OEBPS/content.opf", opf)
        book.writestr("OEBPS/nav.xhtml", nav)
        one = CHAPTER.format(
            title="The crossing", text="The ferry left at dawn.", note="It rained."
        )
        two = CHAPTER.format(title="The island", text="Nobody met them at the pier.", note="Cold.")
        book.writestr("OEBPS/text/one.xhtml", one)
        book.writestr("OEBPS/text/two.xhtml", two)
    return path


def message(subject: str, sender: str, day: str, body: str) -> EmailMessage:
    m = EmailMessage()
    m["Subject"], m["From"], m["To"] = subject, sender, "team@example.org"
    m["Date"] = f"{day} 09:30:00 +0000"
    m.set_content(body)
    return m


REPLY = """Yes, the budget for the pier repair is 40,000 euros.

On Mon, 4 Mar 2024 at 10:00, Ana <ana@example.org> wrote:
> What is the budget for the pier repair?
> We need it by Friday.
"""


def make_eml(path: Path) -> Path:
    m = message("Re: Pier repair", "Bo <bo@example.org>", "Tue, 5 Mar 2024", REPLY)
    m.add_attachment("item,cost\nplanks,12000\n", subtype="csv", filename="costs.csv")
    path.write_bytes(m.as_bytes())
    return path


def make_mbox(path: Path) -> Path:
    import mailbox

    box = mailbox.mbox(path)
    box.add(
        message("Pier repair", "Ana <ana@example.org>", "Mon, 4 Mar 2024", "What is the budget?")
    )
    box.add(message("Re: Pier repair", "Bo <bo@example.org>", "Tue, 5 Mar 2024", REPLY))
    box.close()
    return path


RTF = (
    r"{\rtf1\ansi\deff0{\fonttbl{\f0 Helvetica;}}\f0\pard The ferry leaves at noon.\par"
    r"\par Tickets cost 3 euros.\par}"
)
