"""Readers against the files a tester found them failing on, each file built here with the
libraries docqa reads them with (openpyxl, Python's email and mailbox, PIL)."""

from __future__ import annotations

import datetime
from pathlib import Path

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


def test_a_file_whose_reader_fails_is_skipped_and_the_rest_indexed(tmp_path: Path, monkeypatch):
    import qa.documents.loaders

    def broken(path, reading):
        raise TypeError("'sep' is an invalid keyword argument for isoformat()")

    monkeypatch.setitem(qa.documents.loaders.READERS, ".xlsx", broken)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text("Charlie keeps bees on the roof of the library.\n")
    (folder / "timetable.xlsx").write_bytes(b"PK whatever the reader makes of it")
    index = tmp_path / "index"
    result = CliRunner().invoke(main, ["ingest", str(folder), "--index", str(index)])
    assert result.exit_code == 0, result.output
    said = "skipped docs/timetable.xlsx: could not read it (TypeError: 'sep' is an invalid"
    assert result.output.count(said) == 1
    assert "Traceback" not in result.output
    from qa.config import load_settings

    store = Store(load_settings({"index": index}, environ={}))
    assert {c.metadata["source"] for c in store.chunks()} == {"docs/good.txt"}


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
