"""Readers: every format from its bytes, text encodings and separators, hostile packages."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA

from csat.config import Limits, Rules
from csat.intake.grid import CellError, Sheet
from csat.intake.readers import Book, SheetRefused, UnreadableWorkbook, open_book
from csat.periods import parse_period
from csat.pipeline import score_files

H1 = parse_period("2024H1")
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def hand_xlsx(path: Path, sheets: dict[str, str], shared: list[str] | None = None) -> Path:
    """A minimal xlsx built byte by byte: `sheets` maps a sheet name to its <sheetData> XML
    (or to a whole worksheet document when it starts with '<?xml' or '<worksheet'); a shared
    text starting with '<si' is written as it is."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxml'
            'formats-package.relationships+xml"/><Default Extension="xml" ContentType="'
            'application/xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships"><Relationship Id="rId1" Type="{RELS}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        entries = "".join(
            f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>'
            for i, name in enumerate(sheets, 1)
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0"?><workbook xmlns="{NS}" xmlns:r="{RELS}"><sheets>{entries}'
            "</sheets></workbook>",
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="{RELS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        if shared is not None:
            rels += (
                f'<Relationship Id="rIdS" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>'
            )
            items = "".join(s if s.startswith("<si") else f"<si><t>{s}</t></si>" for s in shared)
            z.writestr(
                "xl/sharedStrings.xml",
                f'<?xml version="1.0"?><sst xmlns="{NS}" count="{len(shared)}">{items}</sst>',
            )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships">{rels}</Relationships>',
        )
        for i, body in enumerate(sheets.values(), 1):
            if not body.startswith(("<?xml", "<worksheet")):
                body = f'<worksheet xmlns="{NS}"><sheetData>{body}</sheetData></worksheet>'
            z.writestr(f"xl/worksheets/sheet{i}.xml", body)
    return path


def _istr(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _read(path: Path, limits: Limits | None = None) -> tuple[Book, list[Sheet | SheetRefused]]:
    book = open_book(path, limits or Limits())
    return book, list(book.sheets)


# ------------------------------------------------------------------ xlsb, built record by record
# LibreOffice cannot write .xlsb, so the fixtures are written here from [MS-XLSB]: just the
# records calamine needs (workbook.bin with its sheet list, each sheet's dimension, row headers
# and cells; no styles, so dates are written as text).


class XlsbError:
    def __init__(self, code: int) -> None:
        self.code = code


def _rec(kind: int, payload: bytes = b"") -> bytes:
    head = bytes([kind]) if kind < 0x80 else bytes([(kind & 0x7F) | 0x80, kind >> 7])
    n, size = len(payload), b""
    while True:
        low, n = n & 0x7F, n >> 7
        size += bytes([low | (0x80 if n else 0)])
        if not n:
            return head + size + payload


def _wide(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def _xlsb_cell(col: int, value: Any) -> bytes:
    lead = struct.pack("<II", col, 0)
    if isinstance(value, XlsbError):
        return _rec(0x03, lead + bytes([value.code]))  # BrtCellError
    if isinstance(value, str):
        return _rec(0x06, lead + _wide(value))  # BrtCellSt
    return _rec(0x05, lead + struct.pack("<d", value))  # BrtCellReal


XlsbRows = list[tuple[int, list[tuple[int, Any]]]]


def hand_xlsb(path: Path, sheets: dict[str, XlsbRows], dim: tuple[int, ...] | None = None) -> Path:
    """A minimal .xlsb: `sheets` maps a name to (row, [(col, value)]) lists (0-based)."""
    book = _rec(0x83) + _rec(0x8F)  # BrtBeginBook, BrtBeginBundleShs
    for i, name in enumerate(sheets, 1):
        book += _rec(0x9C, struct.pack("<II", 0, i) + _wide(f"rId{i}") + _wide(name))
    book += _rec(0x90) + _rec(0x84)
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{RELS}/worksheet" Target="worksheets/sheet{i}.bin"/>'
        for i in range(1, len(sheets) + 1)
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships"><Relationship Id="rId1" Type="{RELS}/officeDocument" '
            'Target="xl/workbook.bin"/></Relationships>',
        )
        z.writestr("xl/workbook.bin", book)
        z.writestr(
            "xl/_rels/workbook.bin.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships">{rels}</Relationships>',
        )
        for i, rows in enumerate(sheets.values(), 1):
            last_row = max(r for r, _ in rows)
            last_col = max(c for _, cells in rows for c, _ in cells)
            box = dim or (0, last_row, 0, last_col)
            data = _rec(0x81) + _rec(0x94, struct.pack("<IIII", *box)) + _rec(0x91)
            for row, cells in rows:
                data += _rec(0x00, struct.pack("<IIHBBBI", row, 0, 300, 0, 0, 0, 0))
                data += b"".join(_xlsb_cell(c, v) for c, v in cells)
            z.writestr(f"xl/worksheets/sheet{i}.bin", data + _rec(0x92) + _rec(0x82))
    return path


# ------------------------------------------------------------------ a far cell (issue 10.3)

_READ_IN_CHILD = """
import json, sys
from pathlib import Path
from csat.config import Limits
from csat.intake.readers import SheetRefused, open_book
book = open_book(Path(sys.argv[1]), Limits())
out = []
for s in book.sheets:
    if isinstance(s, SheetRefused):
        out.append(["refused", s.name, s.cell, s.reason])
    else:
        out.append(["sheet", s.name, len(s.rows)])
print(json.dumps(out))
"""

FAR_CASES = {
    # one cell at A1 and one at XFD1048576: calamine would ask for 17 billion cells
    "far cell": _istr("A1", "客户名称") + '<c r="XFD1048576"><v>1</v></c>',
    # the same with rows elements placing them, and a stray value at XFD1000 (687 MiB)
    "stray column": '<row r="1">' + _istr("A1", "x") + '</row><row r="1000"><c r="XFD1000">'
    "<v>1</v></c></row>",
    # cells without references: calamine counts positions, so does the scan
    "no references": "<row>"
    + "<c><v>1</v></c>" * 3
    + "</row>"
    + '<row r="1048576"><c r="A1048576"><v>1</v></c></row>'
    + '<row r="1"><c r="ZZZ1"><v>1</v></c></row>',
    # a dimension that lies about the range (fast path must notice)
    "lying dimension": f'<?xml version="1.0"?><worksheet xmlns="{NS}"><dimension ref="A1:B2"/>'
    "<sheetData>" + _istr("A1", "x") + '<c r="XFD1048576"><v>1</v></c></sheetData></worksheet>',
    # lower-case references: calamine reads them as upper case
    "lower case": f'<worksheet xmlns="{NS}"><dimension ref="A1:B2"/><sheetData>'
    + _istr("A1", "x")
    + '<c r="xfd1048576"><v>1</v></c></sheetData></worksheet>',
    "lower case, no dimension": _istr("A1", "x") + '<c r="xfd1048576"><v>1</v></c>',
    # a namespace prefix: the scan follows prefixed cells too
    "prefixed": f'<?xml version="1.0"?><x:worksheet xmlns:x="{NS}"><x:dimension ref="A1"/>'
    '<x:sheetData><x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row><x:row r="1048576">'
    '<x:c r="XFD1048576"><x:v>1</x:v></x:c></x:row></x:sheetData></x:worksheet>',
}


@pytest.mark.parametrize("case", sorted(FAR_CASES))
def test_a_far_cell_refuses_its_sheet_and_the_process_survives(tmp_path: Path, case: str) -> None:
    path = hand_xlsx(
        tmp_path / "far.xlsx",
        {"远": FAR_CASES[case], "ok": '<row r="1">' + _istr("A1", "fine") + "</row>"},
    )
    assert path.stat().st_size < 2048
    # In a child process: if calamine were asked for the range, it would abort the process.
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    done = subprocess.run(
        [sys.executable, "-c", _READ_IN_CHILD, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    refused, ok = json.loads(done.stdout)
    assert refused[:2] == ["refused", "远"]
    assert refused[2] in ("XFD1048576", "XFD1000", "ZZZ1048576")
    assert "limits.max_sheet_cells" in refused[3] and "Ctrl+End" in refused[3]
    assert ok == ["sheet", "ok", 1]


def test_far_cell_is_a_rejection_and_the_batch_goes_on(rules: Rules, tmp_path: Path) -> None:
    far = hand_xlsx(tmp_path / "far.xlsx", {"Sheet1": FAR_CASES["far cell"]})
    run = score_files([str(far), str(DATA / "returned-form-zh-苏州科创.xlsx")], rules, H1)
    assert len(run.scored) == 1
    [rej] = run.rejected
    assert (rej.file, rej.sheet, rej.cell) == (str(far), "Sheet1", "XFD1048576")


def test_a_large_ordinary_sheet_is_within_the_bound(tmp_path: Path) -> None:
    rows = "".join(
        f'<row r="{r}">'
        + "".join(f'<c r="{c}{r}"><v>{r}</v></c>' for c in "ABCDEFGHIJKL")
        + "</row>"
        for r in range(1, 2001)
    )
    body = (
        f'<worksheet xmlns="{NS}"><dimension ref="A1:L2000"/><sheetData>{rows}</sheetData>'
        "</worksheet>"
    )
    path = hand_xlsx(tmp_path / "big.xlsx", {"S": body})
    _, [sheet] = _read(path)
    assert isinstance(sheet, Sheet) and len(sheet.rows) == 2000
    _, [small] = _read(path, Limits(max_sheet_cells=1000))
    assert isinstance(small, SheetRefused) and small.cell == "L2000"


# ------------------------------------------------------------------ the same table, every format

SAMPLE = DATA / "consolidated-2024H1.xlsx"


def soffice(src: Path, fmt: str, out: Path) -> Path:
    """Convert with LibreOffice in its own profile; skip without it, except on CI."""
    exe = shutil.which("soffice")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice (soffice) is required on CI for the format round trips")
        pytest.skip("LibreOffice (soffice) is not installed")
    profile = out / "lo-profile"
    subprocess.run(
        [
            exe,
            "--headless",
            f"-env:UserInstallation=file://{profile}",
            "--convert-to",
            fmt,
            "--outdir",
            str(out),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    return out / f"{src.stem}.{fmt}"


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("converted")
    return {fmt: soffice(SAMPLE, fmt, out) for fmt in ("xls", "ods")}


def _summary(paths: list[Path], rules: Rules) -> tuple[list[tuple[str, float, str]], list[Any]]:
    run = score_files([str(p) for p in paths], rules, H1)
    scored = sorted((s.response.customer, s.total, s.grade) for s in run.scored)
    return scored, [(r.sheet, r.cell) for r in run.rejected]


def _grid_rows() -> list[list[str]]:
    """The sample's grid as a CSV writer would save it: every cell as text."""
    _, [sheet] = _read(SAMPLE)
    assert isinstance(sheet, Sheet)
    return [
        [
            "" if v is None else v.isoformat()[:10] if hasattr(v, "isoformat") else str(v)
            for v in row
        ]
        for row in sheet.rows
    ]


@pytest.mark.parametrize("fmt", ["xls", "ods"])
def test_the_sample_reads_the_same_through_libreoffice_formats(
    rules: Rules, converted: dict[str, Path], fmt: str
) -> None:
    book, sheets = _read(converted[fmt])
    assert book.format == fmt and [s.name for s in sheets] == ["2024上半年"]
    expected = _summary([SAMPLE], rules)
    assert len(expected[0]) == 29 and expected[1] == [("2024上半年", "F17")]
    assert _summary([converted[fmt]], rules) == expected


def test_a_format_is_told_by_its_bytes_not_its_name(
    converted: dict[str, Path], tmp_path: Path
) -> None:
    for fmt, src in [("xls", converted["xls"]), ("ods", converted["ods"]), ("xlsx", SAMPLE)]:
        wrong = tmp_path / f"renamed-{fmt}.xlsx" if fmt != "xlsx" else tmp_path / "renamed.xls"
        shutil.copy(src, wrong)
        book, sheets = _read(wrong)
        assert book.format == fmt and len(sheets) == 1


TEXT_CASES = {
    "utf-8": ("utf-8", ",", "UTF-8"),
    "utf-8 bom": ("utf-8-sig", ",", "UTF-8 (BOM)"),
    "gbk": ("gbk", ",", "GB18030 (GBK)"),
    "unicode text": ("utf-16", "\t", "UTF-16LE"),
    "semicolon": ("utf-8", ";", "UTF-8"),
}


@pytest.mark.parametrize("case", sorted(TEXT_CASES))
def test_text_tables_in_every_encoding_and_separator(
    rules: Rules, tmp_path: Path, case: str
) -> None:
    codec, sep, label = TEXT_CASES[case]

    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\r\n").writerows(_grid_rows())
    suffix = ".txt" if sep == "\t" else ".csv"
    path = tmp_path / f"returns{suffix}"
    path.write_bytes(buf.getvalue().encode(codec))
    book, [sheet] = _read(path)
    assert (book.encoding, book.delimiter) == (label, sep)
    assert book.format == ("tsv" if sep == "\t" else "csv")
    assert isinstance(sheet, Sheet) and sheet.name == "returns"
    assert sheet.rows[3][:3] == ["序号", "客户名称", "客户编号"]
    assert all(v is None or type(v) is str for row in sheet.rows for v in row)  # text stays text
    scored, rejected = _summary([path], rules)
    assert (scored, [c for _, c in rejected]) == (_summary([SAMPLE], rules)[0], ["F17"])


def test_short_legacy_text_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("客户名称,产品质量\n苏州科创电子科技有限公司,非常满意\n".encode("gbk"))
    book, [sheet] = _read(path)
    assert book.encoding == "GB18030 (GBK)"
    assert isinstance(sheet, Sheet) and sheet.rows[1] == ["苏州科创电子科技有限公司", "非常满意"]
    path.write_bytes("Customer;Quality\nMüller Präzision GmbH;Très bien\n".encode("cp1252"))
    book, [sheet] = _read(path)
    assert book.delimiter == ";" and isinstance(sheet, Sheet)
    assert sheet.rows[1] == ["Müller Präzision GmbH", "Très bien"]


def test_undecodable_and_oversized_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\xff\xfe" + b"\x00\xd8a\x00")  # UTF-16 BOM, then a lone surrogate
    with pytest.raises(UnreadableWorkbook, match="cannot be decoded"):
        _read(path)
    path.write_bytes(b"a,b\n" * 100)
    with pytest.raises(UnreadableWorkbook, match="limits.max_text_bytes"):
        _read(path, Limits(max_text_bytes=100))


# ------------------------------------------------------------------ not what the name says

FOREIGN = {
    "wjx.xls": (
        b'<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head><meta charset="utf-8">'
        b"</head><body><table><tr><td>\xe5\xba\x8f\xe5\x8f\xb7</td></tr></table></body></html>",
        r"web page \(HTML\)",
    ),
    "erp.xls": (b"\r\n\r\n<table border=1><tr><td>a</td></tr></table>", r"web page \(HTML\)"),
    "mail.xlsx": (
        b"Return-Path: <a@b.c>\r\nFrom: a@b.c\r\nTo: q@d.e\r\nSubject: survey\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n",
        "e-mail message",
    ),
    "scan.xlsx": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
    "photo.xls": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "JPEG image"),
    "shot.xlsx": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
    "xml2003.xls": (
        b'<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?><Workbook xmlns="urn:'
        b'schemas-microsoft-com:office:spreadsheet"></Workbook>',
        "Excel 2003 XML",
    ),
    "renamed.xlsx": (b"\xe5\xae\xa2\xe6\x88\xb7,a\n1,2\n", "rename it to .csv"),
    "empty.xlsx": (b"", "empty"),
}


@pytest.mark.parametrize("name", sorted(FOREIGN))
def test_a_file_that_is_not_a_spreadsheet_says_what_it_is(tmp_path: Path, name: str) -> None:
    data, what = FOREIGN[name]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(UnreadableWorkbook, match=what):
        _read(path)


def test_text_that_only_looks_odd_is_read_as_a_table(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("From: sales,To: quality,Subject: survey\nX-Ray Ltd: Shenzhen,5,5\n")
    book, [sheet] = _read(path)
    assert book.format == "csv" and isinstance(sheet, Sheet) and len(sheet.rows) == 2


def test_a_word_document_named_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "reply.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(UnreadableWorkbook, match="Word document"):
        _read(path)


def test_password_protected_xlsx_is_told_from_an_xls(tmp_path: Path) -> None:

    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    with SAMPLE.open("rb") as fh:
        OOXMLFile(fh).encrypt("secret", out)
    path = tmp_path / "locked.xls"  # the name does not matter
    path.write_bytes(out.getvalue())
    with pytest.raises(UnreadableWorkbook, match="password-protected: remove the password"):
        _read(path)


def test_an_encrypted_xls_is_password_protected(converted: dict[str, Path], tmp_path: Path) -> None:
    """An .xls whose Workbook stream carries a FILEPASS record right after its BOF."""
    data = bytearray(converted["xls"].read_bytes())
    bof = data.index(b"\x09\x08\x10\x00\x00\x06\x05\x00")  # the globals BOF, BIFF8
    after = bof + 4 + 16
    kind, length = (
        int.from_bytes(data[after : after + 2], "little"),
        int.from_bytes(data[after + 2 : after + 4], "little"),
    )
    assert kind != 0x002F and length >= 2
    data[after : after + 2] = (0x002F).to_bytes(2, "little")  # this record becomes FILEPASS
    path = tmp_path / "encrypted.xls"
    path.write_bytes(bytes(data))
    with pytest.raises(UnreadableWorkbook, match="password-protected.*encrypted .xls"):
        _read(path)


# ------------------------------------------------------------------ cells a reader must flag


def test_error_cells_and_uncalculated_formulas_are_cell_errors(tmp_path: Path) -> None:
    body = (
        '<row r="1">' + _istr("A1", "客户名称") + _istr("B1", "产品质量") + "</row>"
        '<row r="2">' + _istr("A2", "甲") + '<c r="B2" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>'
        '<row r="3">' + _istr("A3", "乙") + '<c r="B3"><f>B1*2</f></c></row>'
        '<row r="4">' + _istr("A4", "丙") + '<c r="B4" t="e"><v>#N/A</v></c></row>'
        '<row r="5">' + _istr("A5", "丁") + '<c r="B5"><f>1+1</f><v>2</v></c></row>'
    )
    dim = (
        f'<worksheet xmlns="{NS}"><dimension ref="A1:B5"/><sheetData>{body}</sheetData></worksheet>'
    )
    for name, sheet_xml in [("with dimension", dim), ("without", body)]:
        path = hand_xlsx(tmp_path / f"{name}.xlsx", {"S": sheet_xml})
        _, [sheet] = _read(path)
        assert isinstance(sheet, Sheet), name
        column = [row[1] for row in sheet.rows[1:]]
        assert column == ["#DIV/0!", CellError.UNCALCULATED, "#N/A", 2], name
        assert all(isinstance(v, CellError) for v in column[:3]) and not isinstance(column[3], str)
        assert "#DIV/0!" in CellError(column[0]).reason
        assert "open it in Excel, save it" in CellError(column[1]).reason


def test_a_self_closed_error_cell_does_not_take_its_neighbour_s_code(tmp_path: Path) -> None:
    """`<c t="e"/>` holds no code: it is #VALUE!, not the #REF! of the next cell's value."""
    body = (
        '<row r="1">'
        + _istr("A1", "客户名称")
        + _istr("B1", "产品质量")
        + _istr("C1", "服务")
        + "</row>"
        '<row r="2">' + _istr("A2", "甲") + '<c r="B2" t="e"/><c r="C2" t="e"><v>#REF!</v></c>'
        "</row>"
    )
    _, [sheet] = _read(hand_xlsx(tmp_path / "e.xlsx", {"S": body}))
    assert isinstance(sheet, Sheet)
    assert sheet.rows[1][1:] == [CellError("#VALUE!"), CellError("#REF!")]
    assert isinstance(sheet.rows[1][1], CellError)


def test_a_bad_shared_string_index_names_the_sheet(tmp_path: Path) -> None:
    path = hand_xlsx(
        tmp_path / "sst.xlsx",
        {
            "好": '<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
            "坏": '<row r="1"><c r="A1" t="s"><v>7</v></c></row>',
        },
        shared=["客户名称"],
    )
    _, [good, bad] = _read(path)
    assert isinstance(good, Sheet) and good.rows == [["客户名称"]]
    assert isinstance(bad, SheetRefused) and bad.name == "坏"
    assert "shared text" in bad.reason


def test_a_dtd_in_a_sheet_is_refused_quickly(tmp_path: Path) -> None:
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    body = (
        f'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY l0 "lol">{lol}]>'
        f'<worksheet xmlns="{NS}"><sheetData/></worksheet>'
    )
    path = hand_xlsx(tmp_path / "dtd.xlsx", {"S": body})
    started = time.perf_counter()
    with pytest.raises(UnreadableWorkbook, match="DTD"):
        _read(path)
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "xl/styles.xml"])
def test_entities_in_parts_only_calamine_parses_are_never_expanded(
    tmp_path: Path, part: str
) -> None:
    """Not opened by csat (that keeps small files cheap): calamine refuses them itself."""
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    root = "sst" if "shared" in part else "styleSheet"
    bomb = f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY l0 "lol">{lol}]><{root} xmlns="{NS}">'
    bomb += (
        "<si><t>&l9;</t></si>"
        if root == "sst"
        else '<numFmts><numFmt numFmtId="164" formatCode="&l9;"/></numFmts>'
    )
    bomb += f"</{root}>"
    src = hand_xlsx(
        tmp_path / "src.xlsx", {"S": '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'}, shared=["x"]
    )
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(path, "w") as b:
        for info in a.infolist():
            b.writestr(info, bomb if info.filename == part else a.read(info))
        if part not in a.namelist():
            b.writestr(part, bomb)
    started = time.perf_counter()
    with pytest.raises(UnreadableWorkbook, match="unrecognized entity"):
        _read(path)
    assert time.perf_counter() - started < 5


def test_zip_checks_apply_to_ods_too(converted: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "bomb.ods"
    with zipfile.ZipFile(converted["ods"]) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "content.xml":
                data = data.replace(b"<office:body>", b"<office:body>" + b" " * 50_000_000, 1)
            dst.writestr(info, data, zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(UnreadableWorkbook, match="zip bomb"):
        _read(path)


def test_an_ods_far_cell_is_refused(converted: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "far.ods"
    far = (
        b'<table:table-row table:number-rows-repeated="1048000"><table:table-cell '
        b'table:number-columns-repeated="1000" office:value-type="float" office:value="1">'
        b"<text:p>1</text:p></table:table-cell></table:table-row>"
    )
    with zipfile.ZipFile(converted["ods"]) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "content.xml":
                at = data.index(b"</table:table>")
                data = data[:at] + far + data[at:]
            dst.writestr(info, data, zipfile.ZIP_DEFLATED)
    _, [sheet] = _read(path)
    assert isinstance(sheet, SheetRefused) and "limits.max_sheet_cells" in sheet.reason


def test_error_cells_are_flagged_in_every_format(tmp_path: Path) -> None:
    """openpyxl saves formulas without results; LibreOffice calculates them into errors."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    for row in [["客户名称", "产品质量"], ["甲", "=1/0"], ["乙", "=NA()"], ["丙", 5]]:
        ws.append(row)
    src = tmp_path / "formulas.xlsx"
    wb.save(src)
    _, [sheet] = _read(src)
    assert isinstance(sheet, Sheet)
    assert [r[1] for r in sheet.rows[1:]] == [CellError.UNCALCULATED] * 2 + [5]
    out = tmp_path / "lo"
    out.mkdir()
    for fmt in ("xls", "ods", "xlsx"):
        (out / fmt).mkdir()
        converted = soffice(src, fmt, out / fmt)
        _, [sheet] = _read(converted)
        assert isinstance(sheet, Sheet)
        column = [r[1] for r in sheet.rows[1:]]
        assert column == ["#DIV/0!", "#N/A", 5], fmt
        assert all(isinstance(v, CellError) for v in column[:2]), fmt


def test_xlsb_reads_the_same_and_flags_errors(rules: Rules, tmp_path: Path) -> None:
    grid = _grid_rows()
    rows: XlsbRows = [
        (r, [(c, float(v) if v.isdigit() else v) for c, v in enumerate(line) if v])
        for r, line in enumerate(grid)
        if any(line)
    ]
    path = hand_xlsb(tmp_path / "returns.xlsb", {"2024上半年": rows})
    book, [sheet] = _read(path)
    assert book.format == "xlsb" and isinstance(sheet, Sheet)
    assert _summary([path], rules) == _summary([SAMPLE], rules)
    errors = hand_xlsb(
        tmp_path / "errors.xlsb",
        {"S": [(0, [(0, "客户名称"), (1, "产品质量")]), (1, [(0, "甲"), (1, XlsbError(0x07))])]},
    )
    _, [sheet] = _read(errors)
    assert isinstance(sheet, Sheet) and sheet.rows[1] == ["甲", "#DIV/0!"]
    assert isinstance(sheet.rows[1][1], CellError)


def test_an_xlsb_far_cell_is_refused_and_the_process_survives(tmp_path: Path) -> None:
    far: XlsbRows = [(0, [(0, "客户名称")]), (1048575, [(16383, 1.0)])]
    path = hand_xlsb(
        tmp_path / "far.xlsb", {"远": far, "ok": [(0, [(0, "fine")])]}, dim=(0, 0, 0, 0)
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    done = subprocess.run(
        [sys.executable, "-c", _READ_IN_CHILD, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    refused, ok = json.loads(done.stdout)
    assert refused[:3] == ["refused", "远", "XFD1048576"]
    assert ok == ["sheet", "ok", 1]


def test_an_xls_far_cell_is_refused(converted: dict[str, Path], tmp_path: Path) -> None:
    """A number (RK) record moved to IV65536, the last cell BIFF8 allows (16.8 million)."""
    data = bytearray(converted["xls"].read_bytes())
    at = data.index(b"\x7e\x02\x0a\x00")  # the first RK record: type 0x027E, 10 bytes
    data[at + 4 : at + 8] = (65535).to_bytes(2, "little") + (255).to_bytes(2, "little")
    path = tmp_path / "far.xls"
    path.write_bytes(bytes(data))
    _, [sheet] = _read(path)
    assert isinstance(sheet, SheetRefused) and sheet.cell == "IV65536"


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/_rels/workbook.xml.rels"])
@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_part_csat_reads_whose_bytes_fail_their_crc_is_a_damaged_file(
    tmp_path: Path, part: str, method: int
) -> None:
    """csat reads the workbook and its relationships itself (readers.package.read_part): a
    part whose bytes are not what the zip's directory says is refused as damaged, as
    zipfile's own reader would refuse it, never read as something else."""
    src = hand_xlsx(tmp_path / "src.xlsx", {"S": '<row r="1"><c r="A1"><v>1</v></c></row>'})
    path = tmp_path / "crc.xlsx"
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(path, "w", method) as b:
        for info in a.infolist():
            b.writestr(info.filename, a.read(info))
    good = zipfile.ZipFile(path).getinfo(part).CRC
    raw = bytearray(path.read_bytes())
    # the CRC of the part's central directory entry (at 16; its name at 46)
    at = raw.index(part.encode(), raw.index(b"PK\x01\x02")) - 46 + 16
    assert struct.unpack_from("<I", raw, at)[0] == good
    struct.pack_into("<I", raw, at, good ^ 1)
    path.write_bytes(bytes(raw))
    with pytest.raises(UnreadableWorkbook, match="damaged"):
        _read(path)


@pytest.mark.parametrize(
    "part", ["xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml"]
)
def test_a_part_csat_reads_whose_deflate_stream_is_garbled_is_a_damaged_file(
    rules: Rules, tmp_path: Path, part: str
) -> None:
    """A part csat inflates itself (workbook, relationships, a sheet while its range is
    measured) whose compressed bytes are garbled is a damaged file, never a crash (zlib's own
    error was not caught: 'This is a bug in csat')."""
    cells = "".join(_istr(f"A{r}", f"第{r}行的文字内容") for r in range(1, 40))
    path = hand_xlsx(tmp_path / "garbled.xlsx", {"S": f'<row r="1">{cells}</row>'})
    info = zipfile.ZipFile(path).getinfo(part)
    raw = bytearray(path.read_bytes())
    name_len, extra_len = struct.unpack_from("<HH", raw, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    for i in range(start + 2, start + min(info.compress_size, 40)):
        raw[i] ^= 0x5A
    path.write_bytes(bytes(raw))
    with pytest.raises(UnreadableWorkbook, match="damaged"):
        _read(path)
    got = score_files([str(path)], rules, H1)
    assert [r.reason for r in got.rejected] == [
        "damaged or truncated file: it cannot be unpacked; ask for it to be sent again"
    ]


def test_a_small_workbook_read_from_memory_gives_what_calamine_gives_from_its_path(
    tmp_path: Path,
) -> None:
    """A file under readers.sniff.WHOLE_BYTES is read once and calamine opens those bytes
    (issue 12): every sheet's values and offsets are calamine's own from the path."""
    from python_calamine import CalamineWorkbook

    from csat.intake.readers.sniff import in_memory, sniff_open

    odd = hand_xlsx(
        tmp_path / "odd.xlsx",
        {"A": '<row r="3"><c r="C3"><v>2.5</v></c></row>', "B": _istr_row(["x", "产品质量"])},
    )
    for path in [*sorted(DATA.glob("*.xlsx")), odd]:
        fmt, zf = sniff_open(path)
        assert zf is not None and in_memory(zf) == path.read_bytes()
        zf.close()
        _, sheets = _read(path)
        wb = CalamineWorkbook.from_path(str(path))
        for sheet in sheets:
            assert isinstance(sheet, Sheet)
            ref = wb.get_sheet_by_name(sheet.name)
            plain = [["" if isinstance(v, CellError) else v for v in r] for r in sheet.rows]
            assert plain == ref.to_python(skip_empty_area=True), (path.name, sheet.name)
            assert (sheet.first_row, sheet.first_col) == (ref.start or (0, 0))
        wb.close()


def _istr_row(texts: list[str]) -> str:
    cells = "".join(_istr(f"{chr(65 + i)}1", t) for i, t in enumerate(texts))
    return f'<row r="1">{cells}</row>'


def test_a_workbook_calamine_cannot_open_says_what_calamine_says_from_its_path(
    tmp_path: Path,
) -> None:
    """From bytes, calamine only says that no format fits; csat then opens the path, so the
    message names the damage in calamine's words, as before the in-memory read."""
    from python_calamine import CalamineWorkbook

    path = hand_xlsx(tmp_path / "bad.xlsx", {"S": '<row r="1"><c r="A1"><v>1</v></c></row>'})
    with zipfile.ZipFile(path) as a, zipfile.ZipFile(tmp_path / "b.xlsx", "w") as b:
        for info in a.infolist():
            data = a.read(info)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b"<sheets>", b"<sheets><sheet name=")
            b.writestr(info.filename, data)
    with pytest.raises(Exception) as direct:  # (calamine's own error type)
        CalamineWorkbook.from_path(str(tmp_path / "b.xlsx"))
    with pytest.raises(UnreadableWorkbook) as got:
        _read(tmp_path / "b.xlsx")
    assert str(direct.value) in str(got.value)
    assert "Cannot detect" not in str(got.value)


def test_a_dtd_in_the_workbook_part_is_refused_every_time_not_remembered_as_read(
    tmp_path: Path,
) -> None:
    """workbook.xml and its relationships are parsed once per content (issue 12): a part
    refused is refused again in the next file holding it, and the clean one is read."""
    path = hand_xlsx(tmp_path / "dtd.xlsx", {"S": '<row r="1"><c r="A1"><v>1</v></c></row>'})
    with zipfile.ZipFile(path) as a, zipfile.ZipFile(tmp_path / "d.xlsx", "w") as b:
        for info in a.infolist():
            data = a.read(info)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE w [<!ENTITY x "y">]>', 1)
            b.writestr(info.filename, data)
    for _ in range(2):
        with pytest.raises(UnreadableWorkbook, match="DTD"):
            _read(tmp_path / "d.xlsx")
        _, [sheet] = _read(path)
        assert isinstance(sheet, Sheet) and sheet.rows == [[1.0]]
