"""What the document readers used to lose or garble, each on a small real file built here:
characters beyond the BMP in RTF, Word's inline and nested content, PDF bookmarks, EPUB
chapters without a heading, OpenDocument shapes, notes and frames."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest

from tests.formats import read, section_of


def test_rtf_emoji_is_one_character_not_two_surrogates(tmp_path: Path):
    # RTF writes U+1F6A2 (ship) as its UTF-16 pair; a lone half cannot be encoded at all.
    path = tmp_path / "ferry.rtf"
    path.write_text(
        r"{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}"
        "\n"
        r"\pard The ferry \u-10179?\u-8542? leaves at noon \u-10179? from pier 4.\par}",
        encoding="ascii",
    )
    text, _, chunks = read(path)
    assert "The ferry \U0001f6a2 leaves at noon \ufffd from pier 4." in text
    text.encode("utf-8")  # what the index does with it
    for chunk in chunks:
        chunk.page_content.encode("utf-8")


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _docx_with(path: Path, *body_xml: str) -> Path:
    """A Word document of a heading and these body elements (WordprocessingML, written
    without the namespace declaration, which is added)."""
    import docx
    from docx.oxml import parse_xml

    d = docx.Document()
    d.add_heading("Contract", level=1)
    body = d.element.body
    for xml in body_xml:  # before the body's last child, its section properties
        body.insert(len(body) - 1, parse_xml(re.sub(r"^<(w:\w+)", rf"<\1 {W}", xml)))
    d.save(str(path))
    return path


def _run(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def test_word_reads_runs_inside_insertions_controls_fields_and_smart_tags(tmp_path: Path):
    path = _docx_with(
        tmp_path / "contract.docx",
        "<w:p>"
        + _run("Signed by ")
        + f"<w:sdt><w:sdtPr/><w:sdtContent>{_run('Helga Brandt')}</w:sdtContent></w:sdt>"
        + _run(" for ")
        + f'<w:fldSimple w:instr="DOCPROPERTY Buyer">{_run("Nordfisk AS")}</w:fldSimple>'
        + _run(" in ")
        + f'<w:smartTag w:uri="urn:places" w:element="City">{_run("Bergen")}</w:smartTag>'
        + _run(".")
        + "</w:p>",
        "<w:p>"
        + _run("The night pilot fee is ")
        + '<w:del w:id="1" w:author="A"><w:r><w:delText>90 euros</w:delText></w:r></w:del>'
        + f'<w:ins w:id="2" w:author="A">{_run("140 euros")}</w:ins>'
        + _run(" per hour.")
        + "</w:p>",
    )
    text, _, _ = read(path)
    assert "Signed by Helga Brandt for Nordfisk AS in Bergen." in text
    assert "The night pilot fee is 140 euros per hour." in text


def test_word_reads_body_content_controls_and_nested_tables(tmp_path: Path):
    def cell(content: str) -> str:
        return f"<w:tc><w:tcPr/>{content}</w:tc>"

    def para(text: str) -> str:
        return f"<w:p>{_run(text)}</w:p>"

    nested = (
        "<w:tbl><w:tblPr/><w:tblGrid><w:gridCol/><w:gridCol/></w:tblGrid>"
        f"<w:tr>{cell(para('Kind'))}{cell(para('Tins'))}</w:tr>"
        f"<w:tr>{cell(para('Ship biscuit'))}{cell(para('9 tins'))}</w:tr></w:tbl>"
    )
    path = _docx_with(
        tmp_path / "rations.docx",
        f"<w:sdt><w:sdtPr/><w:sdtContent>{para('Delivery address: 7 Harbour Lane.')}"
        "</w:sdtContent></w:sdt>",
        "<w:tbl><w:tblPr/><w:tblGrid><w:gridCol/><w:gridCol/></w:tblGrid>"
        f"<w:tr>{cell(para('Item'))}{cell(para('Weekly amount'))}</w:tr>"
        f"<w:tr>{cell(para('Coffee'))}{cell(para('700 grams'))}</w:tr>"
        f"<w:tr>{cell(para('Biscuits'))}{cell(nested + para(''))}</w:tr></w:tbl>",
    )
    text, parts, _ = read(path)
    assert section_of(parts, "Delivery address: 7 Harbour Lane.") == "Contract"
    assert "Item: Coffee, Weekly amount: 700 grams\n" in text
    assert "Item: Biscuits, Weekly amount: Kind: Ship biscuit, Tins: 9 tins" in text


def _pdf(path: Path, pages: list[list[str]], bookmarks: list[tuple[str, int]]) -> Path:
    """A PDF of these pages of lines (Helvetica) with these bookmarks (title, page index)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        shown = " ".join(f"({line}) Tj 0 -16 Td" for line in lines)
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf 72 720 Td {shown} ET".encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
    for title, index in bookmarks:
        writer.add_outline_item(title, index)
    writer.write(str(path))
    return path


def test_pdf_bookmark_opens_its_section_on_its_own_page(tmp_path: Path):
    # The bookmarks' titles are not in the pages' text: each section starts at the top of
    # the bookmark's page, not on the page after it.
    path = _pdf(
        tmp_path / "depots.pdf",
        [
            ["Welcome. This report covers three depots."],
            ["The Oslo depot has 42 trucks."],
            ["The Malmo depot has 17 trucks."],
        ],
        [("Introduction", 0), ("Depot in Oslo", 1), ("Depot in Malmo", 2)],
    )
    _, parts, _ = read(path)
    assert section_of(parts, "three depots") == "Introduction"
    assert section_of(parts, "42 trucks") == "Depot in Oslo"
    assert section_of(parts, "17 trucks") == "Depot in Malmo"


def test_pdf_bookmark_found_on_its_page_still_cuts_there(tmp_path: Path):
    path = _pdf(
        tmp_path / "depots.pdf",
        [["Welcome to the report.", "Oslo depot", "The Oslo depot has 42 trucks."]],
        [("Introduction", 0), ("Oslo depot", 0)],
    )
    _, parts, _ = read(path)
    assert section_of(parts, "Welcome") == "Introduction"
    assert section_of(parts, "42 trucks") == "Oslo depot"


def _epub(path: Path, toc: str) -> Path:
    """A book of a part page and a chapter whose <title> is its file name (as pandoc
    writes), the chapter nested under the part in an EPUB 3 nav or an EPUB 2 NCX."""
    import zipfile

    page = (
        '<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
        "<head><title>{title}</title></head><body>{body}</body></html>"
    )
    nav = (
        '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">'
        '<body><nav epub:type="toc"><ol><li><a href="part.xhtml">Part One: Furnaces</a><ol>'
        '<li><a href="ch002.xhtml#c1">Chapter 1: Building the furnace</a></li></ol></li>'
        "</ol></nav></body></html>"
    )
    ncx = (
        '<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/"><navMap>'
        '<navPoint id="p"><navLabel><text>Part One: Furnaces</text></navLabel>'
        '<content src="part.xhtml"/><navPoint id="c"><navLabel><text>Chapter 1: Building '
        'the furnace</text></navLabel><content src="ch002.xhtml#c1"/></navPoint></navPoint>'
        "</navMap></ncx>"
    )
    toc_item = (
        '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
        if toc == "nav"
        else '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>'
    )
    opf = (
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><manifest>'
        f'{toc_item}<item id="p" href="part.xhtml" media-type="application/xhtml+xml"/>'
        '<item id="c" href="ch002.xhtml" media-type="application/xhtml+xml"/></manifest>'
        '<spine><itemref idref="p"/><itemref idref="c"/></spine></package>'
    )
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("mimetype", "application/epub+zip")
        book.writestr(
            "META-INF/container.xml",
            '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf"/></rootfiles></container>',
        )
        book.writestr("OEBPS/content.opf", opf)
        book.writestr(
            "OEBPS/nav.xhtml" if toc == "nav" else "OEBPS/toc.ncx", nav if toc == "nav" else ncx
        )
        book.writestr(
            "OEBPS/part.xhtml", page.format(title="Part One", body="<h1>Part One: Furnaces</h1>")
        )
        book.writestr(
            "OEBPS/ch002.xhtml",
            page.format(
                title="ch002.xhtml",
                body='<h2 id="c1">Chapter 1: Building the furnace</h2><p>Murano burns at 1200'
                " degrees.</p><h3>Fuel</h3><p>Beech wood gave way to gas in 1953.</p>",
            ),
        )
    return path


@pytest.mark.parametrize("toc", ["nav", "ncx"])
def test_epub_chapter_titled_by_its_file_name_is_named_by_the_contents(tmp_path: Path, toc):
    text, parts, _ = read(_epub(tmp_path / "almanac.epub", toc))
    assert "ch002" not in text
    chapter = "Part One: Furnaces › Chapter 1: Building the furnace"
    assert section_of(parts, "Murano burns") == chapter
    assert section_of(parts, "Beech wood") == f"{chapter} › Fuel"


def test_odp_reads_the_text_of_shapes(tmp_path: Path):
    from odf.draw import CustomShape, Ellipse, Frame, Page, TextBox
    from odf.opendocument import OpenDocumentPresentation
    from odf.style import MasterPage, PageLayout
    from odf.text import P

    doc = OpenDocumentPresentation()
    layout = PageLayout(name="layout")
    doc.automaticstyles.addElement(layout)
    master = MasterPage(name="master", pagelayoutname=layout)
    doc.masterstyles.addElement(master)
    page = Page(masterpagename=master)
    title = Frame(**{"class": "title"}, width="20cm", height="3cm", x="1cm", y="1cm")
    box = TextBox()
    box.addElement(P(text="Equipment"))
    title.addElement(box)
    page.addElement(title)
    for shape, said in ((CustomShape, "Tractor model Zetor 7745"), (Ellipse, "Cold room A")):
        s = shape(width="5cm", height="3cm", x="1cm", y="5cm")
        s.addElement(P(text=said))
        page.addElement(s)
    doc.presentation.addElement(page)
    doc.save(str(tmp_path / "orchard.odp"))
    text, parts, _ = read(tmp_path / "orchard.odp")
    assert section_of(parts, "Tractor model Zetor 7745") == "Slide 1 › Equipment"
    assert "Cold room A" in text


def test_odt_keeps_notes_text_boxes_and_nested_cells_apart(tmp_path: Path):
    from odf.draw import Frame, TextBox
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, Note, NoteBody, NoteCitation, P

    def table(rows, nested=None) -> Table:
        t = Table()
        t.addElement(TableColumn(numbercolumnsrepeated=2))
        for cells in rows:
            row = TableRow()
            for value in cells:
                cell = TableCell()
                cell.addElement(nested if value is None else P(text=value))
                row.addElement(cell)
            t.addElement(row)
        return t

    doc = OpenDocumentText()
    doc.text.addElement(H(outlinelevel=1, text="Lamps"))
    p = P(text="Keepers must log the weather at dawn.")
    note = Note(noteclass="footnote")
    note.addElement(NoteCitation(text="1"))
    body = NoteBody()
    body.addElement(P(text="The dawn log was introduced in 1902."))
    note.addElement(body)
    p.addElement(note)
    p.addText(" Logs are kept for ten years.")
    doc.text.addElement(p)
    p = P()
    frame = Frame(width="5cm", height="2cm", anchortype="paragraph")
    box = TextBox()
    box.addElement(P(text="Fog signal code is three long blasts."))
    frame.addElement(box)
    p.addElement(frame)
    p.addText("Before the frame.")
    doc.text.addElement(p)
    nested = table([("Kind", "Tins"), ("Ship biscuit", "9 tins")])
    doc.text.addElement(
        table([("Item", "Amount"), ("Coffee", "700 grams"), ("Biscuits", None)], nested)
    )
    doc.save(str(tmp_path / "lighthouse.odt"))
    text, _, _ = read(tmp_path / "lighthouse.odt")
    assert "Keepers must log the weather at dawn.1 Logs are kept for ten years." in text
    assert "\n\n1 The dawn log was introduced in 1902." in text
    assert "\n\nFog signal code is three long blasts.\n\n" in text
    assert "\n\nBefore the frame." in text
    assert "Item: Biscuits, Amount: Kind: Ship biscuit, Tins: 9 tins" in text


def test_pdf_with_a_user_password_is_said_to_be_password_protected(tmp_path: Path):
    from pypdf import PdfReader, PdfWriter

    from qa.documents.pdf import pdf_parts
    from qa.errors import BadDocumentError

    plain = _pdf(tmp_path / "plain.pdf", [["Safety rules for the quarry."]], [])
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt("secret", algorithm="RC4-128")
    writer.write(str(tmp_path / "locked.pdf"))
    with pytest.raises(BadDocumentError, match="password-protected"):
        pdf_parts(tmp_path / "locked.pdf")
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt("", "owner", algorithm="RC4-128")  # only an owner password: it opens
    writer.write(str(tmp_path / "owned.pdf"))
    assert "quarry" in pdf_parts(tmp_path / "owned.pdf")[0].text


def test_pypdf_warning_names_the_file(tmp_path: Path, caplog):
    from qa.documents.pdf import pdf_parts
    from qa.errors import BadDocumentError

    path = _pdf(tmp_path / "quarry.pdf", [["Safety rules for the quarry."]], [])
    path.write_bytes(path.read_bytes().rstrip().removesuffix(b"%%EOF"))  # truncated
    with caplog.at_level("WARNING"), contextlib.suppress(BadDocumentError):
        pdf_parts(path)
    assert any(r.getMessage().startswith("quarry.pdf: ") for r in caplog.records)
