"""Readers against the files a tester found them failing on, each file built here with the
libraries docqa reads them with (openpyxl, Python's email and mailbox, PIL)."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.documents.loaders import FileLoader
from qa.index.store import Store
from qa.interfaces.cli import main


def read(path: Path) -> str:
    """The document's text, every part's offset checked against it."""
    loader = FileLoader(path, path.name)
    text = loader.text()
    for part in loader.parts():
        assert text[part.offset : part.offset + len(part.text)] == part.text
    return text


def sections(path: Path) -> list[str]:
    return [part.section for part in FileLoader(path, path.name).parts()]


# A file whose reader fails


def test_a_time_of_day_cell_reads_as_the_clock_shows_it(tmp_path: Path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Timetable"
    sheet.append(["Train", "Departs"])
    sheet.append(["IC 512", datetime.time(14, 45)])
    sheet.append(["EC 8", datetime.time(16, 5, 30)])
    book.save(tmp_path / "timetable.xlsx")
    text = read(tmp_path / "timetable.xlsx")
    assert "Train: IC 512, Departs: 14:45" in text
    assert "Train: EC 8, Departs: 16:05:30" in text


def ingest_beside_a_good_file(tmp_path: Path, name: str, data: bytes):
    """`qa ingest` of a folder holding ``name`` and a readable text file: (result, index)."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text("Charlie keeps bees on the roof of the library.\n")
    (folder / name).write_bytes(data)
    index = tmp_path / "index"
    return CliRunner().invoke(main, ["ingest", str(folder), "--index", str(index)]), index


def test_a_file_whose_reader_fails_is_skipped_and_the_rest_indexed(tmp_path: Path, monkeypatch):
    import qa.documents.loaders

    def broken(path, reading):
        raise TypeError("'sep' is an invalid keyword argument for isoformat()")

    monkeypatch.setitem(qa.documents.loaders.READERS, ".xlsx", broken)
    result, index = ingest_beside_a_good_file(
        tmp_path, "timetable.xlsx", b"PK whatever the reader makes of it"
    )
    assert result.exit_code == 0, result.output
    said = "skipped docs/timetable.xlsx: could not read it (TypeError: 'sep' is an invalid"
    assert result.output.count(said) == 1
    assert "Traceback" not in result.output
    from qa.config import load_settings

    store = Store(load_settings({"index": index}, environ={}))
    assert {c.metadata["source"] for c in store.chunks()} == {"docs/good.txt"}


def test_a_file_that_cannot_even_be_hashed_is_skipped(tmp_path: Path, monkeypatch):
    from qa.documents.loaders import FileLoader as Loader

    fingerprint = Loader.fingerprint

    def denied(self):
        if self.name.endswith("secret.txt"):
            raise PermissionError(13, "Permission denied", str(self.path))
        return fingerprint(self)

    monkeypatch.setattr(Loader, "fingerprint", denied)
    result, _ = ingest_beside_a_good_file(tmp_path, "secret.txt", b"Nobody may read this.\n")
    assert result.exit_code == 0, result.output
    said = "skipped docs/secret.txt: could not read it (PermissionError: [Errno 13]"
    assert said in result.output and "Traceback" not in result.output


# Spreadsheets


def test_a_sheet_whose_dimension_says_a1_is_read_whole(tmp_path: Path):
    """Export tools often write <dimension ref="A1"/>, which openpyxl's read-only mode trusts."""
    import re
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Parts"
    sheet.append(["Part", "Supplier", "Stock"])
    for n in range(1, 6):
        sheet.append([f"P-00{n}", f"Supplier {n}", n * 10])
    book.save(tmp_path / "made.xlsx")
    with (
        zipfile.ZipFile(tmp_path / "made.xlsx") as made,
        zipfile.ZipFile(tmp_path / "parts.xlsx", "w") as wrong,
    ):
        for item in made.infolist():
            data = made.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', data)
                assert b'<dimension ref="A1"/>' in data
            wrong.writestr(item, data)
    text = read(tmp_path / "parts.xlsx")
    assert "Part: P-005, Supplier: Supplier 5, Stock: 50" in text
    assert sections(tmp_path / "parts.xlsx")[-1] == "Parts › row 6"


def test_percentages_booleans_and_float_noise_read_as_the_sheet_shows_them(tmp_path: Path):
    import openpyxl

    from qa.documents.blocks import cell

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Staff"
    sheet.append(["Name", "Bonus", "Total", "Active"])
    sheet.append(["Mira", 0.15, 59799.99999999999, True])
    sheet["B2"].number_format = "0%"
    book.save(tmp_path / "staff.xlsx")
    assert "Name: Mira, Bonus: 15%, Total: 59800, Active: TRUE" in read(tmp_path / "staff.xlsx")
    assert cell(59799.99999999999) == "59800"  # as .xls files hold it (xlrd)
    assert cell(0.1 + 0.2) == "0.3" and cell(67100.55) == "67100.55" and cell(False) == "FALSE"


# E-mail


def mail(subject: str, body: str, sender: str = "Bo <bo@example.org>"):
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = sender
    message["To"] = "team@example.org"
    message["Date"] = "Mon, 11 Mar 2024 10:00:00 +0000"
    message["Subject"] = subject
    message.set_content(body)
    return message


def test_mbox_body_lines_beginning_from_are_read_not_dropped_as_quotes(tmp_path: Path):
    import mailbox

    box = mailbox.mbox(tmp_path / "list.mbox")
    body = "From now on the backup server is called Tortoise.\n>From here on, Hare is off.\n"
    box.add(mail("Server migration", body))
    box.close()
    assert b"\n>From now on" in (tmp_path / "list.mbox").read_bytes()  # mbox's escaping
    text = read(tmp_path / "list.mbox")
    assert "From now on the backup server is called Tortoise." in text
    # Python writes mboxo, which leaves ">From" as it is: read back, it is a "From" line.
    assert "From here on, Hare is off." in text


def test_a_plain_part_that_is_a_stub_gives_way_to_the_html(tmp_path: Path):
    message = mail("March newsletter", "This message is in HTML format. Please use an HTML reader.")
    html = "<h1>March newsletter</h1><p>The spring fair is on 23 March in Vigeland Park.</p>"
    message.add_alternative(f"<html><body>{html}</body></html>", subtype="html")
    (tmp_path / "news.eml").write_bytes(message.as_bytes())
    text = read(tmp_path / "news.eml")
    assert "The spring fair is on 23 March in Vigeland Park." in text
    assert "HTML reader" not in text
    # A plain part that says what the HTML says is still the one read.
    same = mail("Hours", "The kiosk opens at nine.")
    same.add_alternative("<p>The <b>kiosk</b> opens at nine.</p>", subtype="html")
    (tmp_path / "hours.eml").write_bytes(same.as_bytes())
    assert "The kiosk opens at nine." in read(tmp_path / "hours.eml")


def test_a_body_part_without_headers_is_still_read(tmp_path: Path):
    """A MIME part may have no headers (text/plain by default): such a part counts as
    empty to Python's truth test, and its body was lost."""
    raw = (
        b"From: Bo <bo@example.org>\nSubject: Ferry\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/alternative; boundary=x\n\n"
        b"--x\n\nThe night ferry leaves at ten.\n--x--\n"
    )
    (tmp_path / "ferry.eml").write_bytes(raw)
    assert "The night ferry leaves at ten." in read(tmp_path / "ferry.eml")


def test_unknown_or_wrong_charsets_and_raw_8bit_headers(tmp_path: Path):
    head = b"From: z@example.com\nTo: x@example.com\nDate: Thu, 07 Mar 2024 10:00:00 +0300\n"
    (tmp_path / "weird.eml").write_bytes(
        head + b"Subject: weird\nContent-Type: text/plain; charset=x-unknown-42\n\n"
        b"The caf\xc3\xa9 opens at 8.\n"
    )
    assert "The café opens at 8." in read(tmp_path / "weird.eml")
    (tmp_path / "wrong.eml").write_bytes(
        head + b"Subject: Ok\nContent-Type: text/plain; charset=utf-8\n\nThe caf\xe9 opens at 7.\n"
    )
    assert "The café opens at 7." in read(tmp_path / "wrong.eml")
    (tmp_path / "utf8.eml").write_bytes(head + "Subject: Réunion budget\n\nHi.\n".encode())
    (tmp_path / "latin1.eml").write_bytes(head + "Subject: Réunion\n\nHi.\n".encode("latin-1"))
    assert "Subject: Réunion budget" in read(tmp_path / "utf8.eml")
    assert sections(tmp_path / "utf8.eml")[0].startswith("Réunion budget › z@example.com")
    assert "Subject: Réunion" in read(tmp_path / "latin1.eml")


def test_forwards_are_read_as_the_messages_they_forward(tmp_path: Path):
    inner = mail("drill schedule", "The fire drill is on 20 March.", "carol@example.com")
    outer = mail("Fwd: drill", "See the attached message.")
    outer.add_attachment(inner)
    (tmp_path / "forward.eml").write_bytes(outer.as_bytes())
    text = read(tmp_path / "forward.eml")
    assert "The fire drill is on 20 March." in text
    parts = FileLoader(tmp_path / "forward.eml", "forward.eml").parts()
    drill = next(p for p in parts if "fire drill" in p.text)
    assert drill.section == "drill schedule › carol@example.com › Mon, 11 Mar 2024 10:00:00 +0000"
    inline = (
        "FYI, see below.\n\n---------- Forwarded message ---------\n"
        "From: Facilities <fac@example.com>\nSubject: parking\n\n"
        "From 1 April the car park moves to level -2.\n> as they wrote before\n"
    )
    (tmp_path / "fwd.eml").write_bytes(mail("Fwd: parking", inline).as_bytes())
    text = read(tmp_path / "fwd.eml")
    assert "From 1 April the car park moves to level -2." in text
    assert "Subject: parking" in text and "> as they wrote before" in text


# Images


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is missing")
def test_an_image_with_a_transparent_background_is_read_on_white(tmp_path: Path):
    """Black text on a transparent background whose pixels are black underneath: flattened
    to greyscale without its alpha, the page was all black and read as nothing."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGBA", (1400, 200), (0, 0, 0, 0))
    font = ImageFont.load_default(size=48)
    ImageDraw.Draw(image).text((40, 60), "The alarm code is 9321.", fill="black", font=font)
    image.save(tmp_path / "alarm.png")
    assert "alarm code is 9321" in read(tmp_path / "alarm.png")


# CSV


def test_a_csv_of_one_row_is_read_as_a_row_of_text(tmp_path: Path):
    path = tmp_path / "wifi.csv"
    path.write_text("The wifi password is BlueHeron77,Guest network SSID is Lobby-5G\n")
    assert read(path) == "The wifi password is BlueHeron77, Guest network SSID is Lobby-5G"
    assert sections(path) == ["wifi › row 1"]


def test_excels_sep_line_names_the_delimiter_and_is_no_row(tmp_path: Path):
    path = tmp_path / "export.csv"
    path.write_text("sep=;\nName;Amount;City\nOle;1.250,00;Bergen\nKari;980,50;Oslo\n")
    text = read(path)
    assert text.split("\n\n") == [
        "Name: Ole, Amount: 1.250,00, City: Bergen",
        "Name: Kari, Amount: 980,50, City: Oslo",
    ]
    assert sections(path) == ["export › row 2", "export › row 3"]


def test_a_csv_cell_larger_than_csvs_own_limit_is_read(tmp_path: Path):
    path = tmp_path / "huge.csv"
    path.write_text("a,b\n" + "x" * 300_000 + ",y\n")
    assert read(path).startswith("a: xxxx") and read(path).endswith(", b: y")


def test_a_csv_without_a_header_row_reads_every_record_as_data(tmp_path: Path):
    path = tmp_path / "phones.csv"
    path.write_text("Ada,555-0101,engineer\nGrace,555-0102,admiral\nLinus,555-0103,maintainer\n")
    assert read(path).split("\n\n") == [
        "Ada, 555-0101, engineer",
        "Grace, 555-0102, admiral",
        "Linus, 555-0103, maintainer",
    ]
    assert sections(path)[0] == "phones › row 1"
    # Real headers stay headers: words over the same shapes, a header of years, one column.
    for name, data, first in [
        ("times.csv", "event,start\nKickoff,09:00\nLunch,12:00\n", "event: Kickoff, start: 09:00"),
        ("years.csv", "Region,2019,2020\nNorth,12,15\nSouth,9,11\n", "Region: North, 2019: 12"),
        ("words.csv", "word\napple\nbanana\n", "word: apple"),
    ]:
        (tmp_path / name).write_text(data)
        assert read(tmp_path / name).startswith(first)


def test_text_that_cannot_be_split_and_stored_skips_its_file_alone(tmp_path: Path, monkeypatch):
    """RTF's \\u escapes can give a lone surrogate (half an emoji), which no chunk id can
    hash: that file is skipped, not the run stopped."""
    import qa.documents.loaders
    from qa.documents.markup import Part

    monkeypatch.setitem(
        qa.documents.loaders.READERS, ".rtf", lambda path, reading: [Part(0, "Ferry \ud83d at 9")]
    )
    result, _ = ingest_beside_a_good_file(tmp_path, "ferry.rtf", b"{\\rtf1 whatever}")
    assert result.exit_code == 0, result.output
    assert "skipped docs/ferry.rtf: could not read it (UnicodeEncodeError:" in result.output
