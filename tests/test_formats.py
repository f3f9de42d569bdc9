"""Every reader end to end on a small real file it builds: the text as a person reads it,
offsets exact, chunks inside one section, the section a citation shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.documents.blocks import Reading
from qa.documents.loaders import SUFFIXES, FileLoader
from qa.errors import BadDocumentError
from tests.formats import (
    RTF,
    make_docx,
    make_eml,
    make_epub,
    make_mbox,
    make_odp,
    make_odt,
    make_pptx,
    make_xlsx,
    message,
    read,
    section_of,
)


def test_word_headings_lists_and_tables(tmp_path: Path):
    text, parts, chunks = read(make_docx(tmp_path / "handbook.docx"))
    assert section_of(parts, "leaves every 20 minutes") == "Harbour ferry handbook › Timetable"
    assert "- Night service runs on Fridays.\n- Bicycles travel free." in text
    # A table row is one line, each cell after its header cell, under the table's heading.
    assert "Zone: A, Adult: 2.50 EUR, Child: 1.20 EUR\n" in text
    assert section_of(parts, "Zone: B") == "Harbour ferry handbook › Timetable › Fares"
    assert section_of(parts, "kiosk") == "Harbour ferry handbook › Lost property"
    assert len(chunks) >= len(parts)


def test_word_paragraph_of_a_list_style_without_numbering_is_no_list_item(tmp_path: Path):
    # "List Continue" (as LibreOffice's "List Contents", its style for an HTML <dd>) shows
    # no bullet in Word: the reader writes none; "List Bullet" numbers its paragraphs.
    import docx

    d = docx.Document()
    d.add_paragraph("IF EXISTS")
    d.add_paragraph("Do not throw an error if the index does not exist.", style="List Continue")
    d.add_paragraph("Night service runs on Fridays.", style="List Bullet")
    path = tmp_path / "terms.docx"
    d.save(str(path))
    text, _, _ = read(path)
    assert "\n\nDo not throw an error" in text and "- Do not" not in text
    assert "- Night service runs on Fridays." in text


def test_opendocument_text_reads_as_word_does(tmp_path: Path):
    text, parts, _ = read(make_odt(tmp_path / "handbook.odt"))
    assert section_of(parts, "leaves every 20 minutes") == "Timetable"
    assert "- Night service runs on Fridays.\n- Bicycles travel free." in text
    assert section_of(parts, "Zone: A, Adult: 2.50 EUR") == "Timetable › Fares"


@pytest.mark.parametrize(
    ("name", "data", "row"),
    [
        (
            "sales.csv",
            b"Region,Q3 revenue\r\nNorth,1.2M\r\nSouth,0.9M\r\n",
            "Region: North, Q3 revenue: 1.2M",
        ),
        (
            "sales.tsv",
            b"Region\tQ3 revenue\nNorth\t1.2M\nSouth\t0.9M\n",
            "Region: North, Q3 revenue: 1.2M",
        ),
        # Excel's European CSV: semicolons, Windows-1252.
        (
            "ventes.csv",
            "Région;Chiffre\nNord;1,2M\nSud;0,9M\n".encode("cp1252"),
            "Région: Nord, Chiffre: 1,2M",
        ),
    ],
)
def test_csv_rows_are_read_with_their_header(tmp_path: Path, name: str, data: bytes, row: str):
    path = tmp_path / name
    path.write_bytes(data)
    _, parts, chunks = read(path)
    assert parts[0].text == row and parts[0].section == f"{path.stem} › row 2"
    assert [p.section for p in parts] == [f"{path.stem} › row 2", f"{path.stem} › row 3"]
    assert len(chunks) == 2  # a chunk a row: no chunk holds two rows


def test_a_served_document_is_the_text_citations_count(tmp_path: Path):
    # MCP's document resource: a quote over two rows holds the blank line between them, and
    # a Markdown file is its own text with its markup blanked, as its quotes have it (the
    # raw file held "*night*" where a quote said " night ").
    from qa.interfaces.assistants import document_text

    sheet = tmp_path / "fares.csv"
    sheet.write_text("Zone,Adult\nA,2.50\nB,3.10\n")
    assert document_text(str(sheet)) == "Zone: A, Adult: 2.50\n\nZone: B, Adult: 3.10"
    notes = tmp_path / "notes.md"
    notes.write_text("# Ferries\n\nThe *night* ferry leaves [here](x.html).\n<b>Tip</b>\n")
    text, _, _ = read(notes)  # every part and chunk is the text at its offsets
    assert document_text(str(notes)) == text and len(text) == len(notes.read_text())
    assert "The  night  ferry leaves  here" in text and "*" not in text


def test_spreadsheet_sheets_rows_and_a_title_above_the_table(tmp_path: Path):
    _, parts, _ = read(make_xlsx(tmp_path / "plan.xlsx"))
    rows = {p.section: p.text for p in parts}
    assert rows["Budget › row 1"] == "Budget 2024"
    assert rows["Budget › row 4"] == "Team: Ops, Cost: 1200, Start: 2024-03-01"
    assert rows["Budget › row 5"] == "Team: Research, Cost: 830.5"
    assert rows["Staff › row 2"] == "Name: Ines, Room: 214"


def test_opendocument_spreadsheet(tmp_path: Path):
    import pandas as pd

    path = tmp_path / "staff.ods"
    pd.DataFrame({"Name": ["Ines", "Tomas"], "Room": [214, 9]}).to_excel(
        path, sheet_name="Staff", index=False, engine="odf"
    )
    _, parts, _ = read(path)
    assert [(p.section, p.text) for p in parts] == [
        ("Staff › row 2", "Name: Ines, Room: 214"),
        ("Staff › row 3", "Name: Tomas, Room: 9"),
    ]


@pytest.mark.parametrize("make", [make_pptx, make_odp], ids=["pptx", "odp"])
def test_slides_titles_bullets_tables_and_speaker_notes(tmp_path: Path, make):
    path = make(tmp_path / f"review.{make.__name__.removeprefix('make_')}")
    text, parts, _ = read(path)
    assert section_of(parts, "Revenue grew 12%") == "Slide 1 › Quarterly review"
    # The marker on a line of its own: the first sentence said is a sentence of its own.
    assert section_of(parts, "Speaker notes:\nMention the new office in Porto.") == (
        "Slide 1 › Quarterly review"
    )
    if path.suffix == ".pptx":
        assert "  - The north region led" in text
        assert section_of(parts, "Team: Sales, People: 14") == "Slide 2 › Head count"


P14 = "http://schemas.microsoft.com/office/powerpoint/2010/main"


def make_outlined_pptx(path: Path, named: dict[str, int] | None = None) -> Path:
    """A deck with divider slides (a title only) and numbered titles; with ``named``, the
    deck's named sections ({name: slides in it}) as PowerPoint 2010 saves them."""
    from lxml import etree
    from pptx import Presentation

    deck = Presentation()
    titles = ["Harbour", "1. Ferries", "1.1 Night service", "2. Fares", "Island", "Tours"]
    for title in [*titles, "3 reasons to visit", "Boats"]:
        divider = title in ("Harbour", "Island")
        slide = deck.slides.add_slide(deck.slide_layouts[0 if divider else 1])
        slide.shapes.title.text = title
        if not divider:
            slide.placeholders[1].text_frame.text = f"About {title.lower()}, said plainly."
    if named:
        ids = iter(s.slide_id for s in deck.slides)
        ext = etree.SubElement(
            etree.SubElement(deck.element, f"{{{deck.element.nsmap['p']}}}extLst"),
            f"{{{deck.element.nsmap['p']}}}ext",
            uri="{521415D9-36F7-43E2-AB2F-B90AF26B5E84}",
        )
        listed = etree.SubElement(ext, f"{{{P14}}}sectionLst", nsmap={"p14": P14})
        for name, count in named.items():
            section = etree.SubElement(listed, f"{{{P14}}}section", name=name)
            held = etree.SubElement(section, f"{{{P14}}}sldIdLst")
            for _ in range(count):
                etree.SubElement(held, f"{{{P14}}}sldId", id=str(next(ids)))
    deck.save(path)
    return path


def test_slides_fall_under_their_dividers_and_numbered_titles(tmp_path: Path):
    _, parts, _ = read(make_outlined_pptx(tmp_path / "tour.pptx"))
    assert [p.section for p in parts if "said plainly" in p.text] == [
        "Harbour › Slide 2 › 1. Ferries",
        "Harbour › 1. Ferries › Slide 3 › 1.1 Night service",
        "Harbour › Slide 4 › 2. Fares",  # 2 closes 1
        "Island › Slide 6 › Tours",  # a divider after other slides starts a new part
        "Island › Slide 7 › 3 reasons to visit",  # a count, not an outline number
        "Island › Slide 8 › Boats",
    ]
    assert section_of(parts, "Harbour") == "Slide 1 › Harbour"


def test_slides_under_the_decks_named_sections(tmp_path: Path):
    _, parts, _ = read(make_outlined_pptx(tmp_path / "tour.pptx", {"Morning": 4, "Evening": 4}))
    assert section_of(parts, "About 2. fares") == "Morning › Harbour › Slide 4 › 2. Fares"
    assert section_of(parts, "About boats") == "Evening › Island › Slide 8 › Boats"


def test_epub_chapters_in_spine_order_under_their_titles(tmp_path: Path):
    text, parts, _ = read(make_epub(tmp_path / "voyage.epub"))
    assert text.index("The ferry left at dawn.") < text.index("Nobody met them at the pier.")
    assert section_of(parts, "dawn") == "I. The Crossing › The crossing"
    assert section_of(parts, "Cold.") == "II. The Island › The island › Notes"


def test_epub_whose_package_lists_a_chapter_at_its_anchors_reads_it_once(tmp_path: Path):
    # The manifest's href "text/one.xhtml#later" names no archive member; it is one.xhtml.
    text, parts, _ = read(make_epub(tmp_path / "anchored.epub", anchors=True))
    assert text.count("The ferry left at dawn.") == 1
    assert text.index("The ferry left at dawn.") < text.index("Nobody met them at the pier.")
    assert section_of(parts, "dawn") == "I. The Crossing › The crossing"


def test_mail_sections_headers_attachments_and_no_quoted_reply(tmp_path: Path):
    text, parts, _ = read(make_eml(tmp_path / "reply.eml"))
    section = "Re: Pier repair › Bo <bo@example.org> › Tue, 05 Mar 2024 09:30:00 +0000"
    assert section_of(parts, "40,000 euros") == section
    assert "From: Bo <bo@example.org>" in text
    assert "What is the budget" not in text and "wrote:" not in text  # quoted: not indexed
    assert section_of(parts, "planks") == f"{section} › costs.csv"


def test_mail_body_keeps_its_paragraphs(tmp_path: Path):
    # A plain-text body's lines are wrapped; its paragraphs stay apart (a blank line between),
    # so that the chunks are cut between paragraphs rather than inside one.
    body = "The pier opens at\nnine on weekdays.\n\nThe kiosk sells\ntickets until five.\n"
    path = tmp_path / "hours.eml"
    path.write_bytes(message("Hours", "Bo <bo@example.org>", "Tue, 5 Mar 2024", body).as_bytes())
    text, _, _ = read(path)
    assert "The pier opens at\nnine on weekdays.\n\nThe kiosk sells\ntickets until five." in text


def test_mailbox_messages_each_under_their_own_section(tmp_path: Path):
    text, parts, _ = read(make_mbox(tmp_path / "team.mbox"))
    assert section_of(parts, "What is the budget?").startswith("Pier repair › Ana")
    assert section_of(parts, "40,000 euros").startswith("Re: Pier repair › Bo")
    assert text.count("What is the budget") == 1  # the quote in the reply is not read again


def test_rtf(tmp_path: Path):
    path = tmp_path / "note.rtf"
    path.write_text(RTF)
    text, _, _ = read(path)
    assert text == "The ferry leaves at noon.\n\nTickets cost 3 euros."


def test_rtf_table_rows_read_with_their_header_cells(tmp_path: Path):
    # A row as LibreOffice writes it (\trowd ... \intbl cell\cell ... \row).
    row = r"\trowd\cellx2000\cellx4000\pard\intbl {}\cell {}\cell\row"
    body = row.format("Zone", "Adult") + row.format("A", "2.50 EUR") + row.format("B", "3 EUR")
    path = tmp_path / "fares.rtf"
    path.write_text(r"{\rtf1\ansi\pard Fares:\par" + body + r"\pard Bicycles travel free.\par}")
    text, _, _ = read(path)
    # A paragraph a block, as in Word's files: the table's rows one block between them.
    want = "Fares:\n\nZone: A, Adult: 2.50 EUR\nZone: B, Adult: 3 EUR\n\nBicycles travel free."
    assert text == want


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)  # how password-protected Office files start


@pytest.mark.parametrize(
    "suffix",
    [
        ".docx",
        ".pptx",
        ".xlsx",
        ".xls",
        ".ods",
        ".odt",
        ".odp",
        ".epub",
        ".rtf",
        ".csv",
        ".png",
        ".eml",
    ],
)
def test_an_encrypted_or_corrupt_file_is_refused_with_one_reason(tmp_path: Path, suffix: str):
    path = tmp_path / f"locked{suffix}"
    path.write_bytes(OLE)
    loader = FileLoader(path, path.name)
    with pytest.raises(BadDocumentError) as e:
        loader.fingerprint()
        list(loader.parts())
    assert "\n" not in str(e.value) and str(e.value)
    if suffix in (".docx", ".pptx", ".xlsx"):  # was "Package not found", "not a zip file"
        assert str(e.value).startswith("password-protected"), e.value


def test_the_upload_accepts_every_format_read():
    from qa.interfaces.documents_panel import UPLOAD_TYPES

    assert set(UPLOAD_TYPES) == set(SUFFIXES)
    for suffix in (".docx", ".pptx", ".xlsx", ".xls", ".ods", ".csv", ".tsv", ".epub", ".odt"):
        assert suffix in SUFFIXES
    for suffix in (".odp", ".rtf", ".eml", ".mbox", ".png", ".jpg", ".tiff"):
        assert suffix in SUFFIXES


def test_images_are_refused_when_ocr_is_off(tmp_path: Path):
    from PIL import Image

    path = tmp_path / "scan.png"
    Image.new("L", (50, 50), 255).save(path)
    with pytest.raises(BadDocumentError, match="OCR is off"):
        FileLoader(path, path.name, Reading(ocr=False)).fingerprint()


def test_rtf_headings_give_the_section_path(tmp_path: Path):
    """A paragraph in a style the stylesheet names "heading N" opens a section, under the
    document's title (as LibreOffice and Word write them)."""
    styles = r"{\stylesheet{\s0 Normal;}{\s1\sbasedon0 heading 1;}{\s2\sbasedon0 heading 2;}}"
    body = (
        r"\pard\plain \s1 Fares\par\pard\plain \s0 Tickets cost 3 euros.\par"
        r"\pard\plain \s2 Bicycles\par\pard\plain \s0 Bicycles travel free.\par"
    )
    path = tmp_path / "ferry.rtf"
    path.write_text(r"{\rtf1\ansi" + styles + r"{\info{\title Ferry guide}}" + body + "}")
    text, parts, _ = read(path)
    assert "Tickets cost 3 euros." in text and "heading" not in text.lower()
    assert [p.section for p in parts if "free" in p.text] == ["Ferry guide › Fares › Bicycles"]


def test_a_csv_cell_holding_a_line_break_stays_one_record(tmp_path: Path):
    """The records were cut at every line end, also inside a quoted cell: its two lines ran
    together ("first linesecond line")."""
    path = tmp_path / "notes.csv"
    path.write_text('Name,City,Note\nMira,Bern,"first line\nsecond line"\nAda,Wien,plain\n')
    _, parts, _ = read(path)
    assert [p.text for p in parts] == [
        "Name: Mira, City: Bern, Note: first line second line",
        "Name: Ada, City: Wien, Note: plain",
    ]
    assert parts[1].section == "notes › row 3"
