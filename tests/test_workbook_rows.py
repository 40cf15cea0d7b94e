"""The report's streamed sheets serialise their rows themselves: the file must be what
XlsxWriter writes cell by cell, and customer text must read back as the same text."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import xlsxwriter

from csat.render.workbook import _RowWriter

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
