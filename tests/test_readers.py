"""Readers: every format from its bytes, text encodings and separators, hostile packages."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import DATA

from csat.config import Limits, Rules
from csat.intake.grid import Sheet
from csat.intake.readers import Book, SheetRefused, open_book
from csat.periods import parse_period
from csat.pipeline import score_files

H1 = parse_period("2024H1")
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def hand_xlsx(path: Path, sheets: dict[str, str], shared: list[str] | None = None) -> Path:
    """A minimal xlsx built byte by byte: `sheets` maps a sheet name to its <sheetData> XML
    (or to a whole worksheet document when it starts with '<?xml' or '<worksheet')."""
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
            items = "".join(f"<si><t>{s}</t></si>" for s in shared)
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
    import json

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
