"""The streaming xlsx reader gives exactly what calamine gives, and bounds the used range as it
reads (readers.stream). Every workbook here is read both ways and the grids compared."""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from python_calamine import CalamineWorkbook
from test_readers import NS, hand_xlsx

from csat.config import Limits, Rules
from csat.intake import InputFile, read_file
from csat.intake.grid import CellError
from csat.intake.readers import stream
from csat.intake.readers.base import SheetRefused, UnreadableWorkbook
from csat.intake.readers.package import open_package
from csat.intake.readers.workbook import open_workbook
from csat.models import Response
from csat.periods import parse_period

DATA = Path(__file__).parent / "data"
FORMATS = [
    "yyyy-mm-dd",
    "yyyy-mm-dd hh:mm",
    "hh:mm",
    "[h]:mm",
    "0.00",
    '"d"0',
    "[Red]0",
    "General",
    "mm-dd-yy",
    "m/d/yy h:mm",
    "mmm-yy",
    "h:mm:ss AM/PM",
    "[$-409]d-mmm-yy",
    'yyyy"年"m"月"d"日"',
    "0%",
    "@",
    "[mm]:ss",
    "mm:ss.0",
    "#,##0",
    "dd/mm/yyyy;@",
]


def _calamine(path: Path) -> list[tuple[str, list[list[Any]], int, int]]:
    """Each sheet as calamine reads it, with csat's error cells put in (the old path)."""
    out = []
    wb = CalamineWorkbook.from_path(str(path))
    for name in wb.sheet_names:
        sheet = wb.get_sheet_by_name(name)
        rows = sheet.to_python(skip_empty_area=True)
        top, left = sheet.start or (0, 0)
        out.append((name, rows, top, left))
    return out


def _streamed(path: Path) -> list[tuple[str, list[list[Any]], int, int] | None]:
    """Each sheet as the streamer reads it; None where it hands the sheet to calamine."""
    limits = Limits()
    pkg = open_package(zipfile.ZipFile(path), "xlsx", limits)
    reader = stream.SheetReader(
        stream.shared_strings(pkg.zf),
        stream.styles(pkg.zf),
        stream.date1904(pkg.zf),
        limits.max_sheet_cells,
    )
    out: list[tuple[str, list[list[Any]], int, int] | None] = []
    for name, part in pkg.sheet_parts.items():
        try:
            rows, top, left = reader.read(pkg.zf, part)
        except stream.Unsupported:
            out.append(None)
            continue
        out.append((name, list(rows), top, left))
    pkg.zf.close()
    return out


def _same(path: Path) -> int:
    """Compare both ways (error cells aside, which calamine gives empty); the sheets read."""
    read = 0
    for old, new in zip(_calamine(path), _streamed(path), strict=True):
        if new is None:
            continue
        read += 1
        name, rows, top, left = new
        plain = [["" if isinstance(v, CellError) else v for v in row] for row in rows]
        assert (name, top, left) == old[0::2][:1] + old[2:] or (name, top, left) == (
            old[0],
            old[2],
            old[3],
        )
        if plain != old[1]:  # a row that is only error cells is not in calamine's range
            assert [r for r in plain if any(v != "" for v in r)] == [
                r for r in old[1] if any(v != "" for v in r)
            ], path
        for row, before in zip(plain, old[1], strict=False):
            for a, b in zip(row, before, strict=True):
                assert type(a) is type(b) and a == b, (path, a, b)
    return read


@pytest.mark.parametrize("path", sorted(DATA.glob("*.xlsx")), ids=lambda p: p.name)
def test_the_samples_read_the_same_both_ways(path: Path) -> None:
    assert _same(path) >= 1


def test_numbers_dates_times_and_durations_by_their_formats(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    for i, fmt in enumerate(FORMATS, 1):
        for j, value in enumerate([45326, 45326.5, 0.5, 1.5, 0.25, 3, 59, 61, -1.5], 1):
            cell = ws.cell(i, j, value)
            cell.number_format = fmt
    path = tmp_path / "formats.xlsx"
    wb.save(path)
    assert _same(path) == 1
    [(_, rows, _, _)] = _streamed(path)  # type: ignore[misc]
    assert rows[0][:3] == [date(2024, 2, 4), datetime(2024, 2, 4, 12, 0), time(12, 0)]
    assert rows[4][:2] == [45326.0, 45326.5]


def test_text_booleans_errors_formulas_and_sparse_cells(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["C3"] = "  padded  "
    ws["D3"] = "a & b < c > d \"q\" 'a'\nline two"
    ws["E3"] = "_x000D_carriage"
    ws["F3"] = True
    ws["G3"] = False
    ws["H3"] = 1e20
    ws["I3"] = 123456789012345678
    ws["C5"] = "=1+1"  # no cached value: calamine leaves it empty, csat an UNCALCULATED
    ws["F5"] = "客户名称"
    ws["K9"] = CellRichText([TextBlock(InlineFont(b=True), "粗"), " plain"])
    ws["D7"].number_format = "0.00"  # formatted, empty
    ws.append([])
    wb.save(tmp_path / "mixed.xlsx")
    assert _same(tmp_path / "mixed.xlsx") == 1
    [(_, rows, top, left)] = _streamed(tmp_path / "mixed.xlsx")  # type: ignore[misc]
    assert (top, left) == (2, 2)
    assert rows[2][0] == CellError.UNCALCULATED
    assert rows[0][:5] == [
        "  padded  ",
        "a & b < c > d \"q\" 'a'\nline two",
        "\rcarriage",
        True,
        False,
    ]


def test_xlsxwriter_shared_strings_rich_text_and_cached_formulas(tmp_path: Path) -> None:
    path = tmp_path / "xw.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("表")
    bold = wb.add_format({"bold": True})
    day = wb.add_format({"num_format": "yyyy/mm/dd"})
    ws.write_string(0, 0, "客户名称")
    ws.write_rich_string(0, 1, "very ", bold, "good", " indeed")
    ws.write_formula(0, 2, "=1/0", None, "#DIV/0!")
    ws.write_formula(0, 3, "=2+2", None, 4)
    ws.write_formula(0, 4, '="x"&"y"', None, "xy")
    ws.write_datetime(1, 0, datetime(2024, 3, 1), day)
    ws.write_boolean(1, 1, True)
    ws.write_blank(1, 2, None, bold)
    ws.write_string(3, 5, "  kept  ")
    wb.close()
    assert _same(path) == 1
    [(_, rows, _, _)] = _streamed(path)  # type: ignore[misc]
    assert rows[0][2] == CellError("#DIV/0!")
    assert rows[0][1] == "very good indeed" and rows[1][0] == date(2024, 3, 1)


SHARED = [
    "客户名称",
    "a &amp; b &lt;c&gt; &#x4E2D;&#25991;",
    "line_x000D_break",
    "escaped_x0000_nul",
    "two\r\nlines",
    "",
    '<si><t xml:space="preserve">  kept  </t></si>',
    "<si><r><rPr><b/></rPr><t>very </t></r><r><t>good</t></r></si>",
    '<si><t>东莞</t><rPh sb="0" eb="2"><t>とうかん</t></rPh></si>',
    "<si/>",
    "<si>\n  <t>spaced</t>\n</si>",
    "<si><t> \t trimmed\r\n</t></si>",
    "<si><t>&#32;entity spaces too&#10;</t></si>",
    "<si><t>_x0020_escaped spaces kept_x0009_</t></si>",
    "<si><t>\u3000ideographic spaces kept\u3000</t></si>",
    "<si><t xml:space='preserve'> kept </t></si>",
    '<si><r><t>run </t></r><r><t xml:space="preserve"> kept </t></r></si>',
    "满意",
]


def test_shared_texts_plain_rich_escaped_and_spaced_read_as_calamine(tmp_path: Path) -> None:
    """Plain shared texts are decoded together (stream.shared_strings): each still lands on its
    own index, with entities, escapes (an escaped NUL too) and line ends as calamine reads them."""
    cells = "".join(f'<c r="{chr(65 + i)}1" t="s"><v>{i}</v></c>' for i in range(len(SHARED)))
    path = hand_xlsx(tmp_path / "sst.xlsx", {"S": f'<row r="1">{cells}</row>'}, shared=SHARED)
    assert _same(path) == 1
    [(_, rows, _, _)] = _streamed(path)  # type: ignore[misc]
    assert rows[0][1] == "a & b <c> 中文" and rows[0][3] == "escaped\x00nul"
    assert rows[0][7:9] == ["verygood", "东莞"] and rows[0][-1] == "满意"
    assert rows[0][11:18] == [
        "trimmed",
        "entity spaces too",
        " escaped spaces kept\t",
        "\u3000ideographic spaces kept\u3000",
        " kept ",
        "run kept ",
        "满意",
    ]


def test_a_text_cell_s_spaces_are_kept_or_dropped_as_calamine_does(tmp_path: Path) -> None:
    """calamine drops the spaces at the ends of a <t> not marked xml:space="preserve", so a big
    sheet (streamed) and a small one (calamine) give a customer's text the same way."""
    row = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t> inline </t></is></c>'
        '<c r="B1" t="inlineStr"><is><t xml:space="preserve"> kept </t></is></c>'
        '<c r="C1" t="inlineStr"><is><r><t>a </t></r><r><t> b</t></r></is></c>'
        '<c r="D1" t="str"><v> value kept </v></c>'
        '<c r="E1" t="s"><v>0</v></c></row>'
    )
    path = hand_xlsx(tmp_path / "ws.xlsx", {"S": row}, shared=["<si><t>  shared </t></si>"])
    assert _same(path) == 1
    [(_, rows, _, _)] = _streamed(path)  # type: ignore[misc]
    assert rows == [["inline", " kept ", "ab", " value kept ", "shared"]]


def test_a_sheet_beyond_the_bound_is_refused_naming_its_far_cell(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "客户名称"
    ws["XFD1048576"] = "far"
    path = tmp_path / "far.xlsx"
    wb.save(path)
    limits = Limits()
    _, sheets = open_workbook(path, "xlsx", limits)
    [refused] = list(sheets)
    assert isinstance(refused, SheetRefused) and refused.cell == "XFD1048576"
    assert "beyond the bound" in refused.reason
    pkg = open_package(zipfile.ZipFile(path), "xlsx", limits)
    reader = stream.SheetReader([], [], False, limits.max_sheet_cells)
    with pytest.raises(stream.Refused):  # before the million rows between are made
        reader.read(pkg.zf, next(iter(pkg.sheet_parts.values())))
    pkg.zf.close()


def test_a_long_sheet_is_kept_in_blocks_and_reads_like_a_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "SPILL_ROWS", 64)
    monkeypatch.setattr(stream, "_BLOCK", 16)
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("s")
    ws.append(["客户名称", "产品质量"])
    for i in range(1000):
        ws.append([f"客户{i}", None if i % 7 == 0 else "满意", i])
    path = tmp_path / "long.xlsx"
    wb.save(path)
    limits = Limits()
    pkg = open_package(zipfile.ZipFile(path), "xlsx", limits)
    reader = stream.SheetReader([], stream.styles(pkg.zf), False, limits.max_sheet_cells)
    rows, _, _ = reader.read(pkg.zf, next(iter(pkg.sheet_parts.values())))
    assert isinstance(rows, stream.RowStore)
    assert rows == _calamine(path)[0][1]
    assert rows[500] == ["客户499", "满意", 499.0] and rows[-1][0] == "客户999"
    assert rows[1:3] == [["客户0", "", 0.0], ["客户1", "满意", 1.0]]


def test_a_long_table_read_from_blocks_gives_the_same_replies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rules: Rules
) -> None:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("2024上半年")
    ws.append(["顾客满意度调查统计表"])
    ws.append([])
    ws.append(["客户名称", "回复日期", *[item.labels.zh for item in rules.items.values()]])
    words = ["非常满意", "较满意", "一般", 4, None, "不满意"]
    for i in range(600):
        ws.append(
            [f"客户{i}", date(2024, 1 + i % 6, 1 + i % 28)]
            + [words[(i + k) % len(words)] for k in range(len(rules.items))]
        )
        if i % 97 == 0:
            ws.append([])  # blank rows between
    ws.append(["合计", None, 4.5])
    path = tmp_path / "long.xlsx"
    wb.save(path)
    item = InputFile(path, "long.xlsx")
    monkeypatch.setattr(stream, "STREAM_ABOVE_BYTES", 0)  # a small file streamed too
    in_memory = list(read_file(item, rules, parse_period("2024H1")))
    monkeypatch.setattr(stream, "SPILL_ROWS", 64)
    monkeypatch.setattr(stream, "_BLOCK", 16)
    from_blocks = list(read_file(item, rules, parse_period("2024H1")))
    assert from_blocks == in_memory
    assert sum(isinstance(got, Response) for got in in_memory) == 600
    monkeypatch.setattr(stream, "STREAM_ABOVE_BYTES", 1 << 30)
    assert list(read_file(item, rules, parse_period("2024H1"))) == in_memory  # calamine


def _outcome(path: Path) -> list[Any] | str:
    """What open_workbook gives for the file: each sheet's grid or refusal, or the file's
    refusal."""
    try:
        _, sheets = open_workbook(path, "xlsx", Limits(max_sheet_cells=10_000))
        return [
            (s.name, s.cell, s.reason) if isinstance(s, SheetRefused) else (s.name, s.rows)
            for s in sheets
        ]
    except UnreadableWorkbook as exc:
        return str(exc)


ODD_SHEETS = {
    "dtd": '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "b">]><worksheet xmlns="{NS}">'
    '<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>',
    "no references": '<row><c t="inlineStr"><is><t>客户名称</t></is></c><c><v>2</v></c></row>'
    '<row r="3"><c r="B3"><v>3</v></c></row>',
    "far cell": '<row r="1"><c r="A1"><v>1</v></c></row>'
    '<row r="900"><c r="Z900"><v>1</v></c></row>',
    "errors and formulas": '<row r="2"><c r="B2" t="e"><v>#N/A</v></c><c r="C2"><f>1+1</f></c>'
    '<c r="D2" t="str"><f>A1</f><v>x &amp; y</v></c><c r="E2" t="b"><v>1</v></c></row>',
    "bad shared index": '<row r="1"><c r="A1" t="s"><v>9</v></c></row>',
    "a comment among the shared texts": '<row r="1"><c r="A1" t="s"><v>1</v></c></row>',
    "a control character": '<row r="1"><c r="A1" t="inlineStr"><is><t>a&#1;</t></is></c></row>',
    "rich and spaced": '<row r="1"><c r="A1" t="inlineStr"><is><r><t xml:space="preserve"> a </t>'
    '</r><r><rPr><b/></rPr><t>b</t></r><rPh><t>ふ</t></rPh></is></c><c r="C1" s="0"/></row>',
    "a comment": '<row r="1"><!-- note --><c r="A1"><v>1</v></c></row>',
}


@pytest.mark.parametrize("body", ODD_SHEETS.values(), ids=ODD_SHEETS.keys())
def test_what_the_streamer_does_not_know_reads_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str
) -> None:
    shared = ["客户名称", "<!-- <si><t>not a text</t></si> -->", "<si><t>满意</t></si>"]
    path = hand_xlsx(tmp_path / "odd.xlsx", {"S": body.replace("{NS}", NS)}, shared=shared)
    monkeypatch.setattr(stream, "STREAM_ABOVE_BYTES", 1 << 30)
    before = _outcome(path)
    monkeypatch.setattr(stream, "STREAM_ABOVE_BYTES", 0)
    assert _outcome(path) == before
