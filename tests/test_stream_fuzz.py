"""The streaming xlsx reader against calamine on generated packages (readers.stream's contract).

A big sheet is read by csat's streamer, a small one by calamine: if the two read a cell
differently, the same customer's text or rating reads differently by the file's size. Each
example here is a whole .xlsx built byte by byte from a grammar of what producers write
(Excel, WPS, openpyxl, XlsxWriter, LibreOffice) and what a hostile or odd one could (comments,
CDATA, prefixes, odd quoting and spacing, surrogate escapes, numbers Python reads and XML
does not), read both ways by `open_workbook` (the streamer forced on and off): every sheet must
come out the same, each value of the same type, or be handed to calamine (`Unsupported`,
`Refused`). Each difference found is kept as an explicit @example.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from html import escape
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_readers import NS, RELS
from test_stream import FORMATS

from csat.config import Limits
from csat.intake.grid import column_letter
from csat.intake.readers import ranges, stream
from csat.intake.readers.base import SheetRefused, UnreadableWorkbook
from csat.intake.readers.package import open_package
from csat.intake.readers.workbook import open_workbook

LIMITS = Limits(max_sheet_cells=10_000)
# Deterministic in CI (the same 300 examples each run, ~4 s); CSAT_FUZZ_EXAMPLES=N draws N
# fresh random ones, to look further by hand.
_MORE = int(os.environ.get("CSAT_FUZZ_EXAMPLES", "0"))
SETTINGS = settings(
    max_examples=_MORE or 300,
    derandomize=not _MORE,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ---------------------------------------------------------------- the grammar

# Each example is either written as producers write (no oddity) or with one or two kinds of
# oddity switched on, so that most examples are streamed and compared value by value, and the
# odd ones probe one thing at a time instead of all falling back to calamine at once.
ODDITIES = ("chars", "between", "prefix", "refs", "numbers", "types", "styles", "spacing")
Odd = frozenset[str]
ODD = st.one_of(
    st.just(frozenset()),
    st.just(frozenset()),
    st.lists(st.sampled_from(ODDITIES), min_size=1, max_size=2).map(frozenset),
)


def _pick(draw: st.DrawFn, plain: list[str], odd: list[str], on: bool) -> str:
    """One of `plain`, or now and then one of `odd` when that oddity is on."""
    if on and draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(odd))
    return draw(st.sampled_from(plain))


def _ws(draw: st.DrawFn, odd: Odd) -> str:
    """Whitespace between elements: none as Excel writes, some as pretty-printers do."""
    return _pick(draw, ["", "", "", "\n", "\r\n  "], [" ", "\t", "\n\t "], "spacing" in odd)


def _between(draw: st.DrawFn, odd: Odd) -> str:
    """What may stand between two elements: nothing, whitespace, a comment, a PI, CDATA."""
    plain = ["", "", "", "\n"]
    return _pick(draw, plain, ["<!-- c -->", "<?pi x?>", "<![CDATA[ ]]>"], "between" in odd)


# Character data as it stands in the XML (escaped already): what producers write ...
PLAIN = [
    "a", "Zz", "客户", "满意", "非常满意", "😀", "\u3000", " ", "  ", "\t", "\n", "\r\n", "\r",
    "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#32;", "&#x20;", "&#9;", "&#10;", "&#13;",
    "&#x4E2D;", "&#x1F600;", "&#128512;", "_x000D_", "_x0020_", "_x0009_", "_x005F_",
    "_x005F_x0041_", "_x00", "x_", "1", "-", ".", ">", "'", '"', "4", "5", "é", "ｶﾅ", "_x000a_",
]  # fmt: skip
# ... and what a hostile or careless one could.
ODD_CHARS = [
    "<![CDATA[c d]]>", "<!-- c -->", "<?pi x?>", "&nbsp;", "&#0;", "&#1;", "&#xD800;",
    "_xD83D__xDE00_", "_xD83D_", "&#xFFFE;", "&#x10FFFF;", "&", "]]>", "\x0b", "&#X41;",
    "&#x0041;", "&#065;", "\u2028", "\x85", "\ufeff",
]  # fmt: skip


ANY_CHAR = st.characters(exclude_characters="<&", exclude_categories=["Cs"])


def _chars(draw: st.DrawFn, odd: Odd) -> str:
    on = "chars" in odd
    out = "".join(_pick(draw, PLAIN, ODD_CHARS, on) for _ in range(draw(st.integers(0, 6))))
    if on and draw(st.booleans()):
        out += draw(st.text(ANY_CHAR, max_size=3))  # any character XML text may hold, and not
    return out


def _t(draw: st.DrawFn, p: str, odd: Odd) -> str:
    """A <t>: plain, marked to keep its spaces (quoted either way), or empty."""
    if draw(st.integers(0, 12)) == 0:
        return draw(st.sampled_from([f"<{p}t/>", f"<{p}t></{p}t>"]))
    opening = _pick(
        draw,
        ["<t>", "<t>", '<t xml:space="preserve">'],
        [
            "<t xml:space='preserve'>",
            '<t xml:space="default">',
            '<t xml:space = "preserve" >',
            '<t xml:space="preserve" >',
            "<t >",
        ],
        "spacing" in odd,
    )
    return opening.replace("<t", f"<{p}t") + _chars(draw, odd) + f"</{p}t>"


RPR = ["", "<rPr><b/></rPr>", '<rPr><rFont val="宋体"/><sz val="11"/><charset val="134"/></rPr>']


def _head(draw: st.DrawFn, odd: Odd) -> str:
    """A part's XML declaration: none, as producers write it, or after a byte-order mark."""
    return _pick(
        draw,
        ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n', ""],
        ['\ufeff<?xml version="1.0" encoding="UTF-8"?>', "\ufeff", "<?xml version='1.0'?>"],
        "spacing" in odd,
    )


def _rich(draw: st.DrawFn, p: str, odd: Odd) -> str:
    """The inside of an <si> or <is>: one <t>, or runs; phonetic runs and properties."""
    if draw(st.booleans()):
        parts = [_t(draw, p, odd)]
    else:
        parts = [
            f"<{p}r>{draw(st.sampled_from(RPR))}{_t(draw, p, odd)}</{p}r>"
            for _ in range(draw(st.integers(1, 3)))
        ]
    if draw(st.integers(0, 5)) == 0:
        parts.append(f'<{p}rPh sb="0" eb="1">{_t(draw, p, odd)}</{p}rPh>')
    if draw(st.integers(0, 5)) == 0:
        parts.append(f'<{p}phoneticPr fontId="1" type="noConversion"/>')
    return "".join(part + _ws(draw, odd) for part in parts)


def _shared(draw: st.DrawFn, odd: Odd) -> tuple[str, int] | None:
    """xl/sharedStrings.xml and its count of texts; None for a workbook without one."""
    if draw(st.integers(0, 6)) == 0:
        return None
    p = "x:" if "prefix" in odd and draw(st.booleans()) else ""
    items = []
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.integers(0, 9)) == 0:
            items.append(
                _pick(draw, [f"<{p}si/>", f"<{p}si></{p}si>"], [f"<{p}si />"], "spacing" in odd)
            )
        else:
            items.append(f"<{p}si>{_ws(draw, odd)}{_rich(draw, p, odd)}</{p}si>")
    head = _head(draw, odd)
    xmlns = f'xmlns:x="{NS}"' if p else f'xmlns="{NS}"'
    body = "".join(item + _between(draw, odd) for item in items)
    n = len(items)
    return f'{head}<{p}sst {xmlns} count="{n}" uniqueCount="{n}">{body}</{p}sst>', n


BUILTIN_FMTS = [0, 1, 2, 9, 10, 14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47, 49]


def _styles(draw: st.DrawFn, odd: Odd) -> tuple[str, int] | None:
    """xl/styles.xml (custom number formats from test_stream.FORMATS) and its count of cell
    styles; None for a workbook without one."""
    if draw(st.integers(0, 8)) == 0:
        return None
    codes = draw(st.lists(st.sampled_from(FORMATS), max_size=5, unique=True))
    ids = list(range(164, 164 + len(codes)))
    on = "styles" in odd
    fmts = ""
    for i, code in zip(ids, codes, strict=True):
        fmts += _pick(
            draw,
            [f'<numFmt numFmtId="{i}" formatCode="{escape(code)}"/>'],
            [
                f'<numFmt formatCode="{escape(code)}" numFmtId="{i}"/>',
                f"<numFmt numFmtId='{i}' formatCode='{escape(code)}'/>",
                f'<numFmt numFmtId="{i}" formatCode="{escape(code)}"></numFmt>',
            ],
            on,
        )
    xfs = []
    for _ in range(draw(st.integers(1, 6))):
        fmt = draw(st.sampled_from(BUILTIN_FMTS + ids + ids))
        apply = draw(st.sampled_from(["", ' applyNumberFormat="1"']))
        xfs.append(
            _pick(
                draw,
                [
                    f'<xf numFmtId="{fmt}" fontId="0" fillId="0" borderId="0" xfId="0"{apply}/>',
                    f'<xf fontId="0" numFmtId="{fmt}"{apply}><alignment wrapText="1"/></xf>',
                ],
                [
                    f"<xf numFmtId='{fmt}'/>",
                    f'<xf numFmtId = "{fmt}"/>',
                    f'<xf xfId="0"{apply}/>',
                    f'<xf numFmtId="{fmt}"></xf>',
                ],
                on,
            )
        )
    cell_style_xfs = _pick(
        draw,
        ['<cellStyleXfs count="1"><xf numFmtId="0" fontId="0"/></cellStyleXfs>'],
        ['<cellStyleXfs count="1"><xf numFmtId="14" fontId="0"/></cellStyleXfs>', ""],
        on,
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{NS}">'
        f'<numFmts count="{len(codes)}">{fmts}</numFmts>'
        f'<fonts count="1"><font><sz val="11"/></font></fonts>{cell_style_xfs}'
        f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs></styleSheet>',
        len(xfs),
    )


NUMBER_WORDS = [
    "45326", "45326.5", "0.5", "59", "60", "61", "-1.5", "2958465", "2958466", "1e20", "0.1",
    "123456789012345678", "1E3", "1.5e-3", "-0", "0", "1", "4", "5", "3.25", "-45326.75",
]  # fmt: skip
ODD_NUMBERS = [
    ".5", "5.", "+3", "1e400", "-1e400", "NaN", "nan", "inf", "-inf", "Infinity", "1_000", " 1",
    "1 ", "0x10", "", "00012", "4.0000000000000001", "1e-400", "1,5", "١", "１", "1e", "e1",
    "-1e20", "2958465.99999999", "-700000", "1e9", "1e15",
]  # fmt: skip


def _number(draw: st.DrawFn, odd: Odd) -> str:
    how = draw(st.integers(0, 3))
    if how == 0:
        return str(draw(st.integers(-(10**6), 10**6)))
    if how == 1:
        return repr(draw(st.floats(-1e7, 1e7, allow_nan=False)))
    if how == 2 and "numbers" in odd:
        return repr(draw(st.floats(allow_nan=False, allow_infinity=False)))
    return _pick(draw, NUMBER_WORDS, ODD_NUMBERS, "numbers" in odd)


ERRORS = ["#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"]
ODD_ERRORS = ["#GETTING_DATA", " #N/A ", "", " ", "#SPILL!", "oops"]


def _cell(draw: st.DrawFn, ref: str, shared: int, styles: int, p: str, odd: Odd) -> str:
    """One <c>: its reference (or an odd one), style, type and value as producers write it."""
    col, row = ref.rstrip("0123456789"), ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    ref_attr = _pick(
        draw,
        [f'r="{ref}"'],
        [
            "",
            f"r='{ref}'",
            f'r="{ref.lower()}"',
            f'r = "{ref}"',
            f'r="{col}0{row}"',
            f'r="{col}0"',
            f'r="XFE{row}"',
            f'r="{col}"',
            f'r="{row}"',
            f'r="{col}{row}x"',
        ],
        "refs" in odd,
    )
    style = f's="{draw(st.integers(0, styles))}"' if draw(st.integers(0, 2)) == 0 else ""
    types = "types" in odd
    kind = _pick(
        draw,
        ["n", "n", "n", "s", "s", "s", "inline", "inline", "b", "e", "str", "f", "empty"],
        ["d", "b", "e", "f", "str"],
        types,
    )
    if kind == "s" and not shared and not types:
        kind = "inline"  # a shared text where the workbook has none: now and then only
    ws = _ws(draw, odd) if draw(st.integers(0, 4)) == 0 else ""
    v, f = f"{p}v", f"{p}f"
    t = ""
    inner = ""
    if kind == "n":
        t = draw(st.sampled_from(["", "", 't="n"']))
        inner = f"<{v}>{_number(draw, odd)}</{v}>"
    elif kind == "s":
        t = 't="s"'
        index = draw(st.integers(0, shared - 1)) if shared else 0
        if shared == 0 or (types and draw(st.integers(0, 5)) == 0):
            index = draw(st.sampled_from([shared, -1, 1 << 40]))
        inner = f"<{v}>{index}</{v}>"
    elif kind == "inline":
        t = 't="inlineStr"'
        inner = f"<{p}is>{_rich(draw, p, odd)}</{p}is>"
    elif kind == "b":
        t = 't="b"'
        inner = f"<{v}>{_pick(draw, ['0', '1'], ['true', '2', ' 1', '', 'TRUE'], types)}</{v}>"
    elif kind == "e":
        t = 't="e"'
        formula = draw(st.sampled_from(["", f"<{f}>1/0</{f}>"]))
        inner = f"{formula}<{v}>{_pick(draw, ERRORS, ODD_ERRORS, types)}</{v}>"
    elif kind == "str":
        t = 't="str"'
        formula = draw(st.sampled_from(["", f"<{f}>A1&amp;B1</{f}>", f"<{f}/>"]))
        value = _pick(draw, [f"<{v}>{_chars(draw, odd)}</{v}>"], ["", f"<{v}/>"], types)
        inner = formula + ws + value
    elif kind == "f":
        t = _pick(draw, ["", "", 't="n"'], ['t="b"', 't="s"'], types)
        formula = draw(
            st.sampled_from(
                [
                    f"<{f}>1+1</{f}>",
                    f'<{f} t="shared" ref="A1:A3" si="0">B1</{f}>',
                    f'<{f} t="shared" si="0"/>',
                    f"<{f}/>",
                ]
            )
        )
        value = draw(
            st.sampled_from(["", "", f"<{v}></{v}>", f"<{v}/>", f"<{v}>0</{v}>", f"<{v}>1</{v}>"])
        )
        inner = formula + ws + value
    elif kind == "empty":
        end = _pick(draw, ["/>", f"></{p}c>"], [" />", f"><{v}/></{p}c>", f"><{v}></{v}></{p}c>"],
                    types)  # fmt: skip
        typed = _pick(draw, [""], ['t="e"', 't="s"', 't="str"', 't="b"', 't="inlineStr"'], types)
        return f"<{p}c {' '.join(a for a in (ref_attr, style, typed) if a)}{end}"
    else:  # an ISO date cell, which Excel never writes but some scripts do
        t = 't="d"'
        inner = f"<{v}>{draw(st.sampled_from(['2024-01-02T00:00:00', '2024-01-02', 'x']))}</{v}>"
    extra = _pick(draw, [""], [' cm="1"', ' ph="1"', ' vm="1"', ' x:t="s"'], types)
    order = [a for a in (style, t) if a]
    if "refs" in odd and draw(st.booleans()):
        order.reverse()
        if draw(st.booleans()):
            order.insert(0, ref_attr)
            ref_attr = ""
    head = " ".join(a for a in [ref_attr, *order] if a) + extra
    if "spacing" in odd and draw(st.integers(0, 3)) == 0:  # spaces and line ends in the tag
        head = head.replace(" ", draw(st.sampled_from(["  ", "\n ", "\t"])), 1) + draw(
            st.sampled_from(["", " ", "\n"])
        )
    return f"<{p}c {head}>{ws}{inner}{ws}</{p}c>"


def _sheet(draw: st.DrawFn, shared: int, styles: int, odd: Odd) -> str:
    """A worksheet: rows of cells, sparse and styled, with what producers put around them."""
    p = "x:" if "prefix" in odd and draw(st.booleans()) else ""
    refs = "refs" in odd
    rows = []
    r = 0
    for _ in range(draw(st.integers(0, 6))):
        r += draw(st.sampled_from([1, 1, 1, 2, 5]))
        if refs and draw(st.integers(0, 5)) == 0:
            r = max(r - draw(st.integers(1, 3)), 1)  # out of order, or the same again
        cells = []
        col = -1
        for _ in range(draw(st.integers(0, 6))):
            col += draw(st.sampled_from([1, 1, 1, 2, 4]))
            if refs and draw(st.integers(0, 6)) == 0:
                col = max(col - 2, 0)
            ref_row = r + 1 if refs and draw(st.integers(0, 6)) == 0 else r
            cells.append(_cell(draw, f"{column_letter(col)}{ref_row}", shared, styles, p, odd))
        attrs = _pick(
            draw,
            [
                f' r="{r}"',
                f' r="{r}"',
                f' r="{r}" spans="1:{max(col + 1, 1)}"',
                f' r="{r}" ht="20.25" customHeight="1"',
                f' r="{r}" s="1" customFormat="1"',
                f' spans="1:3" r="{r}" x14ac:dyDescent="0.25"',
            ],
            ["", f" r='{r}'", f' r="{r + 1}"'],
            refs,
        )
        if not cells and draw(st.booleans()):
            rows.append(f"<{p}row{attrs}/>")
        else:
            body = "".join(_ws(draw, odd) + c + _between(draw, odd) for c in cells)
            rows.append(f"<{p}row{attrs}>{body}</{p}row>")
    if draw(st.integers(0, 25)) == 0:
        far = r + 900
        rows.append(f'<{p}row r="{far}"><{p}c r="Z{far}"><{p}v>1</{p}v></{p}c></{p}row>')
    body = "".join(row + _between(draw, odd) for row in rows)
    data = f"<{p}sheetData>{body}</{p}sheetData>" if rows else f"<{p}sheetData/>"
    xmlns = f'xmlns:x="{NS}"' if p else f'xmlns="{NS}"'
    before = draw(
        st.sampled_from(
            [
                "",
                f'<{p}dimension ref="A1:F9"/>',
                f'<{p}dimension ref="A1"/><{p}sheetViews><{p}sheetView workbookViewId="0"/>'
                f'</{p}sheetViews><{p}sheetFormatPr defaultRowHeight="15"/>'
                f'<{p}cols><{p}col min="1" max="2" width="10" customWidth="1"/></{p}cols>',
            ]
        )
    ) + _between(draw, odd)
    after = draw(
        st.sampled_from(
            [
                "",
                f'<{p}mergeCells count="1"><{p}mergeCell ref="A1:B1"/></{p}mergeCells>',
                f'<{p}pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3"'
                ' footer="0.3"/>',
                f'<{p}conditionalFormatting sqref="A1:C3"><{p}cfRule type="cellIs" dxfId="0" '
                f'priority="1" operator="equal"><{p}formula>"a"</{p}formula></{p}cfRule>'
                f"</{p}conditionalFormatting>",
            ]
        )
    )
    head = _head(draw, odd)
    mc = (
        ' xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable='
        '"x14ac" xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"'
    )
    return f'{head}<{p}worksheet {xmlns} xmlns:r="{RELS}"{mc}>{before}{data}{after}</{p}worksheet>'


WORKBOOK_PR = [
    "", "", '<workbookPr date1904="1"/>', '<workbookPr defaultThemeVersion="124226"/>',
    '<workbookPr date1904="0"/>', '<workbookPr defaultThemeVersion="124226" date1904="1"/>',
]  # fmt: skip
ODD_WORKBOOK_PR = [
    '<workbookPr date1904="true"/>', '<workbookPr date1904="false"/>',
    "<workbookPr date1904='1'/>", '<workbookPr date1904 = "1"/>', '<workbookPr date1904="on"/>',
]  # fmt: skip


@st.composite
def package(draw: st.DrawFn) -> dict[str, str]:
    """A whole package: its parts by name."""
    odd = draw(ODD)
    shared = _shared(draw, odd)
    styles = _styles(draw, odd)
    n_shared = shared[1] if shared else 0
    n_styles = styles[1] if styles else 0
    sheets = [_sheet(draw, n_shared, n_styles, odd) for _ in range(draw(st.integers(1, 2)))]
    workbook_pr = _pick(draw, WORKBOOK_PR, ODD_WORKBOOK_PR, "styles" in odd)
    return _parts(sheets, shared[0] if shared else None, styles[0] if styles else None, workbook_pr)


def _parts(
    sheets: list[str], shared: str | None, styles: str | None, workbook_pr: str = ""
) -> dict[str, str]:
    entries = "".join(
        f'<sheet name="表{i}" sheetId="{i}" r:id="rId{i}"/>' for i in range(1, len(sheets) + 1)
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{RELS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats'
        '.org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="'
        'application/xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats'
        f'.org/package/2006/relationships"><Relationship Id="rId1" Type="{RELS}/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{NS}" xmlns:r="{RELS}">'
        f"{workbook_pr}<sheets>{entries}</sheets></workbook>",
    }
    if shared is not None:
        rels += f'<Relationship Id="rIdS" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>'
        parts["xl/sharedStrings.xml"] = shared
    if styles is not None:
        rels += f'<Relationship Id="rIdY" Type="{RELS}/styles" Target="styles.xml"/>'
        parts["xl/styles.xml"] = styles
    parts["xl/_rels/workbook.xml.rels"] = (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        f'2006/relationships">{rels}</Relationships>'
    )
    for i, body in enumerate(sheets, 1):
        parts[f"xl/worksheets/sheet{i}.xml"] = body
    return parts


# ---------------------------------------------------------------- reading both ways


def _write(path: Path, parts: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            z.writestr(name, body.encode("utf-8", "surrogatepass"))
    return path


def _typed(value: Any) -> tuple[str, str]:
    """A cell compared with its type: 1.0, True and "1" differ; NaN equals NaN."""
    return type(value).__name__, repr(value)


def _grid(name: str, top: int, left: int, rows: Any) -> tuple[str, int, int, list[Any]]:
    """A sheet typed and as a rectangle (an error cell put in by readers.ranges lengthens
    one row only)."""
    width = max((len(r) for r in rows), default=0)
    grid = [[_typed(v) for v in r] + [_typed("")] * (width - len(r)) for r in rows]
    return name, top, left, grid


def _outcome(path: Path) -> Any:
    """What csat's reader gives: each sheet's typed grid and offset, or its refusal; or the
    file's refusal."""
    try:
        _, sheets = open_workbook(path, "xlsx", LIMITS)
        return [
            (s.name, s.cell, s.reason)
            if isinstance(s, SheetRefused)
            else _grid(s.name, s.first_row, s.first_col, s.rows)
            for s in sheets
        ]
    except UnreadableWorkbook as exc:
        return str(exc)
    except BaseException as exc:  # calamine panics on some numbers (a huge negative duration)
        if type(exc).__name__ != "PanicException":
            raise
        return "calamine panicked"


def _direct(path: Path) -> tuple[str, list[Any]]:
    """The streamer's own reading: whether it read every sheet itself or why not (for the
    statistics: a grammar that only made Unsupported sheets would test nothing), and each
    sheet's grid (None where it hands the sheet to calamine)."""
    try:
        pkg = open_package(zipfile.ZipFile(path), "xlsx", LIMITS)
    except UnreadableWorkbook:
        return "refused file", []
    why, sheets = "streamed", []
    try:
        reader = stream.SheetReader(
            stream.shared_strings(pkg.zf),
            stream.styles(pkg.zf),
            stream.date1904(pkg.zf),
            LIMITS.max_sheet_cells,
        )
        for name, part in pkg.sheet_parts.items():
            try:
                rows, top, left = reader.read(pkg.zf, part)
                sheets.append(_grid(name, top, left, rows))
            except stream.Unsupported as exc:
                why = f"unsupported: {str(exc)[:40]}"
                sheets.append(None)
            except stream.Refused:
                why = "refused"
                sheets.append(None)
    except stream.Unsupported as exc:
        return f"unsupported: {str(exc)[:40]}", []
    finally:
        pkg.zf.close()
    return why, sheets


def _compare(path: Path, chunk: int = 0) -> str:
    """Read both ways and compare; whether the streamer read it itself (or why not). `chunk`:
    the streamer also reads the part inflated that many bytes at a time (a big sheet's MiB
    chunks in small: rows cut between chunks) with its memos kept tiny, each sheet it reads
    compared too."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(stream, "STREAM_ABOVE_BYTES", 1 << 30)
        by_calamine = _outcome(path)
        mp.setattr(stream, "STREAM_ABOVE_BYTES", 0)
        streamed = _outcome(path)
        assert streamed == by_calamine
        if chunk:  # readers.ranges' chunks too: only the streamer's own reading is compared
            mp.setattr(ranges, "_CHUNK", chunk)
            mp.setattr(stream, "_MEMO_MAX", 3)  # and its memos emptied as they fill
            mp.setattr(stream, "_LAYOUTS_MAX", 2)
        why, sheets = _direct(path)
    if chunk and not isinstance(by_calamine, str):
        for got, want in zip(sheets, by_calamine, strict=False):
            assert got is None or got == want
    return why


def _book(
    rows: str, shared: list[str] | None = None, styles: list[int] | None = None, pr: str = ""
) -> dict[str, str]:
    """A package from a sheet's rows, its shared texts (each an <si> as it stands) and its cell
    styles' number formats (ids of built-in formats, or codes)."""
    sst = None
    if shared is not None:
        sst = f'<sst xmlns="{NS}" count="{len(shared)}">{"".join(shared)}</sst>'
    css = None
    if styles is not None:
        xfs = "".join(f'<xf numFmtId="{i}"/>' for i in styles)
        css = f'<styleSheet xmlns="{NS}"><cellXfs>{xfs}</cellXfs></styleSheet>'
    sheet = f'<worksheet xmlns="{NS}"><sheetData>{rows}</sheetData></worksheet>'
    return _parts([sheet], sst, css, pr)


# Each difference the generator found, minimised: the package, and whether the streamer now
# reads it itself ("streamed") or hands it to calamine (the start of the Unsupported reason).
FOUND = {
    # A formula calculated to an empty text: calamine "", the streamer said UNCALCULATED.
    "formula with an empty value": (
        _book(
            '<row r="1"><c r="A1" t="str"><f>A1&amp;B1</f><v></v></c><c r="B1"><v>0</v></c></row>'
        ),
        "streamed",
    ),
    # Empty values that are cells all the same: calamine gives "" (the row is in the range),
    # the streamer skipped them as empty cells (an empty inline text with a style, an empty
    # <v></v> of a t="str" cell).
    "empty texts in the range": (
        _book(
            '<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="B2" s="1" t="inlineStr">'
            '<is><t></t></is></c></row><row r="3"><c r="C3" t="str"><v></v></c></row>'
            '<row r="4">'
            '<c r="C4" t="b"><v></v></c><c r="D4"><v></v></c></row>',
            [],
            [0, 0],
        ),
        "streamed",
    ),
    # Line ends: calamine's parser turns each CR LF and lone CR written in the part into an LF
    # (XML's rule) before the entities: `&#13;&#10;` (openpyxl's) and `_x000D_` + LF stay
    # CR LF. The streamer kept a lone CR and made every CR LF an LF after the entities.
    "line ends": (
        _book(
            '<row r="1"><c r="A1" t="inlineStr"><is><t>a\ra</t></is></c>'
            '<c r="B1" t="str"><v>a\r\r\nb</v></c>'
            '<c r="C1" t="inlineStr"><is><t>a&#13;&#10;b</t></is></c>'
            '<c r="D1" t="s"><v>0</v></c><c r="E1" t="s"><v>1</v></c></row>',
            ["<si><t>a_x000D_\nb</t></si>", '<si><t xml:space="preserve">\ra&#13;\r\n</t></si>'],
        ),
        "streamed",
    ),
    # Styles and the date system written with single quotes, attributes swapped or spaced
    # around "=": calamine read dates, the streamer numbers (it knew double quotes only).
    "quoted otherwise": (
        _parts(
            [
                f'<worksheet xmlns="{NS}"><sheetData><row r="1"><c r="A1" s="0"><v>45326</v></c>'
                '<c r="B1" s="1"><v>45326.5</v></c><c r="C1" s="2"><v>1.5</v></c></row>'
                "</sheetData></worksheet>"
            ],
            None,
            f'<styleSheet xmlns="{NS}"><numFmts count="2"><numFmt formatCode="yyyy-mm-dd" '
            "numFmtId=\"164\"/><numFmt numFmtId='165' formatCode='[h]:mm'/></numFmts>"
            '<cellXfs count="3"><xf numFmtId=\'14\'/><xf numFmtId = "164"/>'
            '<xf numFmtId="165"/></cellXfs></styleSheet>',
            "<workbookPr date1904='1'/>",
        ),
        "streamed",
    ),
    # Milliseconds rounded half away from zero as calamine (Rust) does; the streamer rounded
    # half to even (Python's round): a duration or date a millisecond early.
    "a half millisecond": (
        _book('<row r="1"><c r="A1" s="1"><v>3257812.4122134782</v></c></row>', None, [0, 46]),
        "streamed",
    ),
    # A shared text numbered -1: the streamer read the table's last text (Python's index).
    "a negative shared index": (
        _book('<row r="1"><c r="A1" t="s"><v>-1</v></c></row>', ["<si><t>a</t></si>", "<si/>"]),
        "unsupported: a shared text that is not there",
    ),
    # Date-formatted numbers calamine reads oddly (NaN as 1899-12-30, a negative date beyond
    # Python's range as a time) or refuses (a duration beyond it): the streamer raised
    # ValueError / OverflowError out of the reader, a traceback for a big sheet.
    "a date-formatted NaN": (
        _book('<row r="1"><c r="A1" s="1"><v>NaN</v></c></row>', None, [0, 14]),
        "unsupported: a date or duration that is NaN",
    ),
    "a date before Python's range": (
        _book('<row r="1"><c r="A1" s="1"><v>-700000</v></c></row>', None, [0, 14]),
        "unsupported: a date before",
    ),
    "a duration beyond Python's range": (
        _book('<row r="1"><c r="A1" s="1"><v>1e12</v></c></row>', None, [0, 46]),
        "unsupported: a duration beyond",
    ),
    # A processing instruction inside a text: calamine skips it, the streamer read it as text.
    "a processing instruction in a text": (
        _book('<row r="1"><c r="A1" t="inlineStr"><is><r><t>a<?pi x?>b</t></r></is></c></row>'),
        "unsupported: a cell or element",
    ),
    "a processing instruction in a shared text": (
        _book('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', ["<si><t>a<?pi x?>b</t></si>"]),
        "unsupported: shared strings written",
    ),
    # _xHHHH_ escapes: calamine undoes _x0000_ .. _x00FF_ only; the streamer made any code
    # point of them, a lone surrogate too (a text that cannot be written as UTF-8).
    "escapes beyond _x00FF_": (
        _book(
            '<row r="1"><c r="A1" t="inlineStr"><is><t>_xD83D__xDE00_ _x4E2D_</t></is></c>'
            '<c r="B1" t="s"><v>0</v></c></row>',
            ["<si><t>_x0100_ _x00e9_ _x00FF_ _xFFFE_</t></si>"],
        ),
        "streamed",
    ),
    # Numbers Python's float() reads and calamine does not: streamed as 1000.0 and 1.0,
    # calamine refuses the sheet (or, without styles, gives the text).
    "numbers with underscores or spaces": (
        _book('<row r="1"><c r="A1"><v>1_000</v></c><c r="B1" s="0"><v> 1</v></c></row>', [], [0]),
        "unsupported: a number that is not one",
    ),
    # An error cell without a code: calamine leaves it out of the used range, readers.ranges
    # puts #VALUE! in where it falls inside; the streamer read nothing (first), then #VALUE!
    # in a corner calamine's range does not reach.
    "error cells without a code": (
        _book(
            '<row r="1"><c r="A1" t="e"><v></v></c></row><row r="2"><c r="B2"><v>1</v></c>'
            '<c r="C2" t="e"/><c r="D2" t="e"><v></v></c><c r="E2"><v>1</v></c></row>'
        ),
        "unsupported: an error cell without a code",
    ),
    # An error cell whose attributes are separated by a tab: csat's calamine path reads it
    # empty (readers.ranges looks for ' t="e"'), the streamer read the error.
    "attributes separated by a tab": (
        _book('<row r="1"><c r="A1"><v>0</v></c><c r="B1"\tt="e"><v>#N/A</v></c></row>'),
        "unsupported: attributes separated",
    ),
    # An empty cell far from the table (Excel writes a formatted empty cell so): the used
    # range csat bounds counts it (readers.ranges measures every reference), so a small sheet
    # is refused as beyond the bound; the streamer left it out and read the sheet.
    "a far empty cell": (
        _book('<row r="1"><c r="A1" s="0"/></row><row r="901"><c r="Z901"><v>1</v></c></row>'),
        "refused",
    ),
    "a far empty cell after the table": (
        _book('<row r="1"><c r="A1"><v>1</v></c></row><row r="901"><c r="Z901" s="0"/></row>'),
        "refused",
    ),
    # An empty row far below the table (a custom height, as a form template formatted far
    # down has): calamine and the exact scan leave it out of the used range, readers.ranges'
    # fast scan counted its number and refused the sheet as beyond the bound.
    "a far empty row": (
        _book(
            '<row r="1"><c r="A1"><v>1</v></c><c r="Z1"><v>2</v></c></row>'
            '<row r="901" ht="20" customHeight="1"/>'
        ),
        "streamed",
    ),
    "an empty row above the table": (
        _book(
            '<row r="1" ht="30" customHeight="1"/><row r="2"><c r="A2"><v>1</v></c></row>'
            '<row r="3"><c r="Z3"><v>2</v></c></row><row r="5000" ht="9" customHeight="1"/>'
        ),
        "streamed",
    ),
    # An error value calamine does not know (newer Excel's #SPILL!, #GETTING_DATA, a code
    # with spaces): calamine refuses the sheet as damaged, the streamer read the code.
    "unknown error values": (
        _book('<row r="1"><c r="A1" t="e"><v>#SPILL!</v></c><c r="B1"><v>1</v></c></row>'),
        "unsupported: an error value",
    ),
    # A formula whose value is empty, of any type: nothing, as calamine reads it (the
    # streamer handed the sheet to calamine).
    "formulas with an empty value": (
        _book(
            '<row r="1"><c r="A1"><v>1</v></c><c r="B1"><f>1+1</f><v></v></c>'
            '<c r="C1" t="b"><f>TRUE()</f><v></v></c></row>'
        ),
        "streamed",
    ),
    "error values padded": (
        _book('<row r="1"><c r="A1" t="e"><f>1/0</f><v> #N/A </v></c></row>'),
        "unsupported: an error value",
    ),
}


@pytest.mark.parametrize(("parts", "how"), FOUND.values(), ids=FOUND.keys())
def test_each_difference_found_reads_the_same_both_ways(
    tmp_path: Path, parts: dict[str, str], how: str
) -> None:
    assert _compare(_write(tmp_path / "found.xlsx", parts)).startswith(how)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "fuzz.xlsx"


@SETTINGS
@given(parts=package(), chunk=st.sampled_from([0, 0, 0, 16, 100, 300]))
def test_a_generated_workbook_reads_the_same_streamed_or_by_calamine(
    book: Path, parts: dict[str, str], chunk: int
) -> None:
    event(_compare(_write(book, parts), chunk))


def test_a_panic_inside_calamine_refuses_the_sheet_not_the_run(tmp_path: Path) -> None:
    """calamine panics (pyo3's PanicException, a BaseException) on a duration-formatted -1e20;
    that used to reach the user as a traceback. The sheet is refused as damaged, the run goes
    on to the next file and exits 3; Rust's note of the panic stays one line, not its stack."""
    rows = '<row r="1"><c r="A1" t="inlineStr"><is><t>客户名称</t></is></c>'
    rows += '<c r="B1" s="1"><v>-1e20</v></c></row>'
    bad = _write(tmp_path / "panic.xlsx", _book(rows, styles=[0, 46]))
    good = Path(__file__).parent.parent / "examples" / "surveys-2024H1.xlsx"
    done = subprocess.run(
        [sys.executable, "-m", "csat", "score", str(bad), str(good), "--dry-run", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "RUST_BACKTRACE": "1"},  # csat turns it off but for --debug
        check=False,
    )
    assert done.returncode == 3 and "Traceback" not in done.stderr
    assert "stack backtrace" not in done.stderr and len(done.stderr.splitlines()) <= 4
    got = json.loads(done.stdout)
    [refused] = got["rejected"]
    assert refused["file"].endswith("panic.xlsx") and refused["reason"].startswith("damaged sheet")
    assert got["summary"]["scored"] > 0
