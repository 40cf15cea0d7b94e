"""The report's streamed sheets serialise their rows themselves: the file must be what
XlsxWriter writes cell by cell, and customer text must read back as the same text."""

from __future__ import annotations

import math
import random
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from conftest import ROOT

from csat.config import load_rules
from csat.render.workbook import (
    StatisticsWorkbook,
    _RowWriter,
    fits_one_line,
    measured_lines,
    wrapped_lines,
)

TEXTS: list[Any] = [
    " leading",
    "trailing ",
    "a&b<c>d\"e'",
    "control\x01and\x1f",
    "_x0041_ looks like an escape",
    "\n",
    "tab\t",
    "中文，全角　",
    "x" * 40_000,  # over Excel's 32,767 a cell: cut as XlsxWriter cuts it
    1.5,
    3,
    1e20,
    0.1 + 0.2,
    datetime(2024, 5, 1),
    datetime(1900, 1, 15),  # before Excel's phantom 1900-02-29
]


def _sheet_xml(path: Path, fast: bool, values: list[Any]) -> bytes:
    wb = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    top, day = wb.add_format({"valign": "top"}), wb.add_format({"num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet("s")
    ws.write_string(0, 0, "head", top)
    rows = _RowWriter()
    for i, value in enumerate(values, start=1):
        ws.set_row(i, 30)
        cells = [(0, "key", top), (2, value, day if isinstance(value, datetime) else top)]
        cells.append((4, None, top))  # a styled blank
        if fast:
            assert rows.write(ws, i, cells)
            continue
        for col, v, fmt in cells:
            if v is None:
                ws.write_blank(i, col, None, fmt)
            elif isinstance(v, str):
                ws.write_string(i, col, v, fmt)
            elif isinstance(v, datetime):
                ws.write_datetime(i, col, v, fmt)
            else:
                ws.write_number(i, col, v, fmt)
    wb.close()
    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet1.xml")


def test_rows_are_written_as_xlsxwriter_writes_them(tmp_path: Path) -> None:
    slow = _sheet_xml(tmp_path / "slow.xlsx", False, TEXTS)
    fast = _sheet_xml(tmp_path / "fast.xlsx", True, TEXTS)
    assert fast == slow


def test_markup_like_text_stays_text(tmp_path: Path) -> None:
    """XlsxWriter passes a string shaped like its rich-text markup through unescaped; a
    customer's comment "<r>…</r>" is text like any other."""
    path = tmp_path / "fast.xlsx"
    texts = ["<r>bold</r>", "<r><b</r>", "a <r> b"]
    _sheet_xml(path, True, texts)
    ws = openpyxl.load_workbook(path).active
    assert [ws.cell(row=i + 2, column=3).value for i in range(len(texts))] == texts


def test_a_row_xlsxwriter_holds_is_left_to_it(tmp_path: Path) -> None:
    wb = xlsxwriter.Workbook(str(tmp_path / "x.xlsx"), {"constant_memory": True})
    ws = wb.add_worksheet("s")
    ws.write_string(3, 0, "held")
    rows = _RowWriter()
    assert not rows.write(ws, 3, [(1, "same row", None)])
    assert not rows.write(ws, 2, [(0, "a row above", None)])
    assert rows.write(ws, 4, [(0, "below", None)])
    wb.close()
    read = openpyxl.load_workbook(tmp_path / "x.xlsx").active
    assert read["A4"].value == "held" and read["A5"].value == "below"


ROW_VALUES: list[list[Any]] = [
    ["name", None, "中文，全角　", " lead", True, False, date(2024, 5, 1), 3, 2.5, -0.0, 0.0],
    ["a&b<c>", "control\x01", "_x0041_", "tab\t", None, "x" * 40_000, date(2024, 1, 2)],
    [None, None, "late"],  # the first cells empty
    [None, None],  # nothing but styled blanks (see the formats)
    [None, None, None],  # no cell at all
    ["name", None, "中文", " lead", True, False, date(2024, 5, 1), 3, 2.5, -0.0, 0.0],  # repeated
]


def _book_sheet(path: Path, streamed: bool) -> bytes:
    """The scores sheet with ROW_VALUES written by _stream_row, or by XlsxWriter's calls."""
    book = StatisticsWorkbook(
        path, load_rules(ROOT / "config" / "weights.yaml").rules, "en", date(2024, 8, 1)
    )
    ws, fmt = book.ws["scores"], book.fmt
    wrap = book._wrap["scores"]
    for i, values in enumerate(ROW_VALUES * 2):
        r = book.rows["scores"] + i
        formats = [fmt["bad"] if c % 3 == 1 else None for c in range(len(values))]
        if i == 3:
            formats = [fmt["one"], None]
        if i % 2:
            ws.set_row(r, 40)
        if not (streamed and book._stream_row(ws, r, values, formats, wrap)):
            book._write_cells(ws, r, values, formats, wrap)
    book.wb.close()
    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet2.xml") + z.read("xl/styles.xml")


def test_streamed_rows_are_what_xlsxwriter_writes(tmp_path: Path) -> None:
    """_stream_row's fast path (cells remembered per column, the row opened by hand) writes
    the bytes XlsxWriter's own calls write, styles numbered in the same order."""
    assert _book_sheet(tmp_path / "fast.xlsx", True) == _book_sheet(tmp_path / "slow.xlsx", False)


def test_nan_is_left_to_xlsxwriter(tmp_path: Path) -> None:
    book = StatisticsWorkbook(
        tmp_path / "x.xlsx", load_rules(ROOT / "config" / "weights.yaml").rules, "en", date.today()
    )
    for bad in (math.nan, math.inf):
        assert not book._stream_row(book.ws["scores"], 1, ["name", bad], None, None)
    book.wb.close()


@pytest.mark.parametrize("bold", [True, False])
def test_short_texts_are_one_line_without_measuring(bold: bool) -> None:
    """fits_one_line only ever answers yes where measuring word by word gives one line."""
    rng = random.Random(12)
    alphabet = "ab c-中文，　x\tW/"
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        width = rng.choice([4, 6.5, 8, 12, 24, 36, 60])
        if fits_one_line(text, width, bold):
            assert measured_lines(text, width, bold) == 1, (text, width)
        assert wrapped_lines(text, width, bold) == measured_lines(text, width, bold)
