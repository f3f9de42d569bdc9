"""Spreadsheets (.xlsx by openpyxl; .xls and .ods by pandas, through xlrd and odfpy) and
CSV/TSV (Python's csv) read a row at a time, each row one line with its header cells
("Region: North, Q3 revenue: 1.2M") under the section ``Sheet › row N``, N the row's number
as the spreadsheet shows it, so that a question about a cell finds its row and cites it.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from qa.documents.blocks import Block, Reading, assemble, cell, decoded, row_line
from qa.documents.markup import SEPARATOR, Part
from qa.errors import BadDocumentError

SNIFF = 64 * 1024  # characters of a CSV file its dialect is guessed from
HEAD = 20  # rows looked at to find a sheet's header row
FIELD_LIMIT = 64 * 2**20  # characters a CSV cell may hold (csv's own limit is 128 KB)
_SEP_HINT = re.compile(r'"?sep=(.)"?\r?\n', re.I)  # Excel's first line naming the delimiter


def _header_at(rows: Sequence[Sequence[str]]) -> int:
    """The index of the header row: the first row that fills at least half the width of
    the widest of the first rows (a title above the table is passed over)."""
    widths = [sum(1 for c in r if c) for r in rows[:HEAD]]
    wide = max(widths, default=0)
    return next((i for i, w in enumerate(widths) if w and w * 2 >= wide), 0)


def _shape(text: str) -> str:
    """A cell's shape: runs of digits as 9, of letters as a ("555-0101" is "9-9")."""
    return re.sub(r"[^\W\d_]+", "a", re.sub(r"\d+", "9", text.strip()))


def _labelled(rows: Sequence[Sequence[str]]) -> bool:
    """Whether the first row is a header, as it is unless it is plainly data: some column's
    cells, the first among them, share one shape with digits and more than a number
    (555-0101, 09:30, 2024-03-01), and no column has a word above digits. A plain number
    decides nothing: a header of years over counts is common."""
    first, rest = rows[0], rows[1:HEAD]
    data = header = False
    for i, top in enumerate(first):
        below = {_shape(r[i]) for r in rest if i < len(r) and r[i]}
        if len(below) != 1 or not top:
            continue
        (shape,) = below
        if "9" in shape and "9" not in _shape(top):
            header = True
        elif shape == _shape(top) and "9" in shape and shape != "9":
            data = True
    return header or not data


def _sheet_blocks(
    name: str, rows: Iterable[tuple[int, Sequence[object]]], labelled: bool | None = None
) -> Iterator[Block]:
    """A sheet's rows ((number, cells)) as blocks, each read with the header row's cells.
    ``labelled``: whether the table has a header row (None: it has, found as below)."""
    numbered = [(n, [cell(v) for v in cells]) for n, cells in rows]
    numbered = [(n, cells) for n, cells in numbered if any(cells)]
    if not numbered:
        return
    at = len(numbered) if labelled is False else _header_at([c for _, c in numbered])
    if at == len(numbered) - 1:  # a header with nothing under it: a lone row of text
        at = len(numbered)
    for n, cells in numbered[:at]:  # a title or a note above the table; rows of no header
        yield Block(", ".join(c for c in cells if c), f"{name}{SEPARATOR}row {n}")
    header = numbered[at][1] if at < len(numbered) else []
    for n, cells in numbered[at + 1 :]:
        yield Block(row_line(header, cells), f"{name}{SEPARATOR}row {n}")


def _decode(data: bytes) -> str:
    """A text file's characters: UTF-8 (with or without a byte-order mark), else Windows-1252
    as spreadsheet programs write it, else Latin-1."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode Text"
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise BadDocumentError("binary file")
    return decoded(data, ("utf-8-sig", "cp1252"))


def csv_parts(path: Path, reading: Reading) -> list[Part]:
    """A CSV or TSV file: a part a record, under ``name › row N`` (N counts records, the
    header being row 1). Excel's "sep=;" first line names the delimiter and is not a row."""
    text = _decode(path.read_bytes())
    hint = _SEP_HINT.match(text)
    if hint:
        text = text[hint.end() :]
    if path.suffix.lower() == ".tsv":
        dialect: type[csv.Dialect] | csv.Dialect = csv.excel_tab
    elif hint:
        dialect = type("Hinted", (csv.excel,), {"delimiter": hint.group(1)})
    else:
        try:
            dialect = csv.Sniffer().sniff(text[:SNIFF], delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
    if csv.field_size_limit() < FIELD_LIMIT:  # a cell of a few MB is still a cell
        csv.field_size_limit(FIELD_LIMIT)
    try:
        # The reader itself cuts the records (splitlines would also cut inside a quoted cell);
        # a line break within a cell reads as a space, as a row is read on one line.
        records = [
            [" ".join(cell.splitlines()) for cell in record]
            for record in csv.reader(io.StringIO(text, newline=""), dialect)
        ]
    except csv.Error as e:
        raise BadDocumentError(f"unreadable CSV ({e})") from None
    labelled = len(records) < 2 or _labelled(records)
    return assemble(_sheet_blocks(path.stem, enumerate(records, 1), labelled))


def xlsx_parts(path: Path, reading: Reading) -> list[Part]:
    """An Excel workbook (.xlsx): every sheet's rows, their values as last calculated."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        # A password-protected workbook is an OLE file, not a zip: it lands here.
        raise BadDocumentError(f"unreadable workbook ({e or type(e).__name__})") from None
    try:
        blocks = []
        for sheet in book.worksheets:
            # Export tools often write a wrong <dimension ref="A1"/>, which read-only mode
            # trusts: without this, such a sheet reads as its first cell alone.
            sheet.reset_dimensions()
            rows = sheet.iter_rows(min_row=1)  # empty rows too: N is exact
            values = ([_shown(c) for c in row] for row in rows)
            blocks += _sheet_blocks(sheet.title, enumerate(values, 1))
    finally:
        book.close()
    return assemble(blocks)


def _shown(c) -> object:
    """An openpyxl cell's value, a number formatted as a percentage shown as one (15%, not
    the 0.15 stored)."""
    value = c.value
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and "%" in (getattr(c, "number_format", None) or ""):
        return f"{cell(value * 100)}%"
    return value


def _pandas_parts(path: Path, engine: str) -> list[Part]:
    import pandas as pd

    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine=engine)
    except Exception as e:  # xlrd and odfpy raise many kinds of error on a damaged file
        raise BadDocumentError(f"unreadable spreadsheet ({e or type(e).__name__})") from None
    blocks = []
    for name, frame in sheets.items():
        frame = frame.astype(object).where(frame.notna(), None)
        rows = ((n, list(values)) for n, values in enumerate(frame.itertuples(index=False), 1))
        blocks += _sheet_blocks(str(name), rows)
    return assemble(blocks)


def xls_parts(path: Path, reading: Reading) -> list[Part]:
    """An Excel 97-2003 workbook (.xls), through xlrd."""
    return _pandas_parts(path, "xlrd")


def ods_parts(path: Path, reading: Reading) -> list[Part]:
    """An OpenDocument spreadsheet (.ods), through odfpy."""
    return _pandas_parts(path, "odf")
