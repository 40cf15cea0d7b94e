"""The statistics workbook (顾客满意度调查统计表), written with XlsxWriter in constant-memory mode.

Per-customer, flag and comment rows are streamed as the report reads them; the summary, items,
Pareto, trend and rejected sheets are written at the end from the finished statistics.
Customer text is always written as a string cell: a comment "=HYPERLINK(...)" stays text.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.utility import _preserve_whitespace, xl_col_to_name
from xlsxwriter.worksheet import Worksheet
from xlsxwriter.xmlwriter import XMLwriter

from csat.analysis import Analysis
from csat.capa import department_of, evidence_text
from csat.config import Rules
from csat.models import Flag, Rejection, ScoredResponse
from csat.render import analysis as review
from csat.render.labels import Lang, t
from csat.stats import Change, PeriodStats
from csat.store import CapaRecord

A4 = 9
REPORT_PROPERTY = "csat-report"  # intake skips workbooks carrying it: csat's output, not a survey
GRADE_COLOURS = {"A": "#2E7D32", "B": "#66BB6A", "C": "#FBC02D", "D": "#EF6C00", "E": "#C62828"}
LEVEL_COLOURS = ["#2E7D32", "#66BB6A", "#BDBDBD", "#EF6C00", "#C62828"]  # best level first
# One explicit colour per series, so Excel and LibreOffice draw the same chart
SERIES_COLOURS = [
    "#1F77B4",
    "#FF7F0E",
    "#2CA02C",
    "#D62728",
    "#9467BD",
    "#8C564B",
    "#E377C2",
    "#7F7F7F",
    "#BCBD22",
    "#17BECF",
]
LINE_HEIGHT = 16  # points per wrapped header line (CJK fallback fonts are taller than 11 pt)
DATA_LINE_HEIGHT = 15
TITLE_HEIGHT = 21  # points of a 14 pt bold title line: streamed rows are not measured on opening
HASH_SHOWN = 12
# Sheets whose rows are only ever written whole by _write_row, top to bottom: their cells are
# serialised here (see _RowWriter), not one XlsxWriter call per cell.
STREAMED = frozenset({"scores", "comments", "flags", "capas", "topics", "unanswered", "rejected"})
# Text XlsxWriter would change: XML specials, control characters and its own _xHHHH_ escapes
_PLAIN_UNSAFE = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_STRMAX = 32767
_TAILS = 512  # cells remembered per streamed column (see _stream_row)


@lru_cache(maxsize=4096)  # level names, grades and flag texts repeat on every row
def text_width(text: str) -> float:
    """Width in Excel character units: CJK characters count two."""
    return sum(2.0 if unicodedata.east_asian_width(ch) in "WF" else 1.0 for ch in text)


_WORD = re.compile(r"[\u2e80-\u9fff\uff00-\uffef]|[^\s\u2e80-\u9fff\uff00-\uffef]+")


@lru_cache(maxsize=4096)
def wrapped_lines(text: str, width: float, bold: bool = True) -> int:
    """Lines `text` takes wrapped in a column `width` characters wide (words stay whole unless
    longer than the column; CJK text breaks between any two characters, as LibreOffice and
    Excel break it). An estimate on the safe side: row heights are set from it."""
    return 1 if fits_one_line(text, width, bold) else measured_lines(text, width, bold)


def measured_lines(text: str, width: float, bold: bool = True) -> int:
    """wrapped_lines, word by word."""
    usable = max(width - 1.5, 1.0)
    scale = 1.1 if bold else 0.9
    lines = 0
    for paragraph in text.split("\n"):
        lines, used = lines + 1, 0.0
        for word in _WORD.findall(paragraph):
            w = text_width(word) * scale
            gap = 0.0 if used == 0 or text_width(word) == 2.0 else 1.0
            if used and used + gap + w > usable:
                lines, used = lines + 1, 0.0
                gap = 0.0
            while w > usable:  # a path or a long word breaks anywhere
                lines, w = lines + 1, w - usable
            used += gap + w
    return max(lines, 1)


def fits_one_line(text: str, width: float, bold: bool = True) -> bool:
    """Whether `text` is surely one line in measured_lines, without measuring it: a text
    shorter than the column, whatever its words. measured_lines adds `scale` a character
    (twice a wide one) and 1 before each word but the first whose width is not 2: at most
    2 * scale + 1/2 a character (a word of two wide characters), and for ASCII text, whose
    words have a space between them, at most max(scale, 1). Most cells of a streamed row are
    short: names, sources (tests/test_workbook_rows.py compares the two)."""
    if "\n" in text:
        return False
    scale = 1.1 if bold else 0.9
    per_char = max(scale, 1.0) if text.isascii() else 2 * scale + 0.5
    return len(text) * per_char <= max(width - 1.5, 1.0)


def _header_height(heads: Sequence[str], widths: Sequence[float]) -> float:
    """Points of a header row whose bold heads wrap in columns of these widths."""
    return max(wrapped_lines(h, w) for h, w in zip(heads, widths, strict=True)) * LINE_HEIGHT + 4


def fit_width(text: str, width: float) -> float:
    """A column at least as wide as the longest word of its header, so no word is split."""
    words = re.split(r"\s+", text)
    return max(width, max(text_width(w) * 1.1 + 2 for w in words) if words else width)


def _integer_axis(largest: float) -> dict[str, Any]:
    """Count axes tick at whole numbers (no 0.5, 1.5 …)."""
    unit = max(1, math.ceil(largest / 8)) if largest > 0 else 1
    return {
        "min": 0,
        "major_unit": unit,
        "num_format": "0",
        "max": max(unit, math.ceil(largest / unit) * unit),
    }


@dataclass(frozen=True)
class Unanswered:
    """A customer sent a form for the period with no reply recorded."""

    code: str
    customer: str
    klass: str | None
    language: str
    contact: str | None
    email: str | None
    sent_on: date
    reply_by: date


@dataclass(frozen=True, slots=True)
class FlaggedReply:
    """What the flags sheet shows of a flagged reply: the reply itself is not kept, so a
    report holds a few hundred bytes per flagged customer instead of the scored response."""

    key: str  # the customer key its CAPAs are filed under
    customer: str
    customer_code: str | None
    period: str
    flags: tuple[Flag, ...]
    comments: str | None

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled as plain values (a report spills these, see csat.spill): a slots dataclass
        pickles through dataclasses.fields() for itself and every flag, 5x slower."""
        flags = tuple((f.type, f.item, f.level, f.total) for f in self.flags)
        return _flagged_reply, (
            self.key,
            self.customer,
            self.customer_code,
            self.period,
            flags,
            self.comments,
        )


def _flagged_reply(
    key: str,
    customer: str,
    code: str | None,
    period: str,
    flags: tuple[tuple[str, str | None, str | None, float | None], ...],
    comments: str | None,
) -> FlaggedReply:
    return FlaggedReply(key, customer, code, period, tuple(Flag(*f) for f in flags), comments)


@dataclass(frozen=True)
class ReportView:
    """Everything the end sheets show."""

    period: str
    made_on: date
    rules_hashes: list[str]
    rescored: bool
    stats: PeriodStats
    previous: PeriodStats | None
    change: Change | None
    trend: list[PeriodStats]
    rejected: list[Rejection]
    flagged: Collection[FlaggedReply] = field(default_factory=list)  # a Spill in a report
    # the report's own CAPAs by (reply period, customer key, department); in a report both
    # are read from a file as needed (csat.report.CapaSlots, csat.spill.Spill)
    capas: Mapping[tuple[str, str, str], CapaRecord] = field(default_factory=dict)
    # own CAPAs, then earlier ones still being followed or judged by this period's replies
    register: Sequence[CapaRecord] = field(default_factory=list)
    forms_sent: int = 0
    replies_to_forms: int = 0
    segments: list[PeriodStats] = field(default_factory=list)  # one per customer class
    unanswered: list[Unanswered] = field(default_factory=list)
    analysis: Analysis | None = None  # intervals, tests, importance, comments by item
    site: str | None = None  # the one site reported; None: the group (every site)
    site_segments: list[PeriodStats] = field(default_factory=list)  # per site, when several

    @property
    def response_rate(self) -> float | None:
        return self.replies_to_forms / self.forms_sent if self.forms_sent else None

    @cached_property
    def capa_counts(self) -> dict[str, int]:
        """Counted once, in one pass over each: a report's CAPAs are read from a file."""
        names = ("total", "open", "closed", "verified", "overdue")
        counts = dict.fromkeys((*names, "effective", "ineffective", "unjudged"), 0)
        for c in self.capas.values():
            counts["total"] += 1
            counts["open"] += c.status in ("open", "reopened")
            counts["closed"] += c.status == "closed"
            counts["verified"] += c.status == "verified"
            counts["overdue"] += c.overdue(self.made_on)
        for c in self.register:
            counts["effective"] += c.effectiveness == "effective"
            counts["ineffective"] += c.effectiveness == "ineffective"
            counts["unjudged"] += c.effectiveness is None
        return counts


def _lines(text: str | None, width: float) -> int:
    """Lines `text` takes wrapped in a column `width` characters wide (CJK counts double)."""
    if not text:
        return 1
    return sum(
        max(1, -(-sum(2 if ord(ch) > 0x2E80 else 1 for ch in part) // int(width)))
        for part in text.splitlines() or [""]
    )


class _RowWriter:
    """One row's cells as the XML XlsxWriter's constant-memory mode writes for them (the
    same <row> and <c> elements: inline strings, numbers, dates as serial numbers, styled
    blanks), in one write per row instead of a dozen calls and tuples per cell. What XlsxWriter
    keeps of a row (its dimensions, the row before it, set_row heights) is kept as it keeps it;
    anything unusual (a row XlsxWriter already holds cells of, a comment, a row out of bounds)
    is left to XlsxWriter. tests/test_workbook_rows.py holds it equal to XlsxWriter's own calls,
    byte for byte."""

    def __init__(self) -> None:
        self.columns: list[str] = []
        # format -> ' s="N"': XlsxWriter numbers formats in the order they are first used, so
        # each is asked once, when its first cell is written, as XlsxWriter would ask
        self._styles: dict[int, str] = {}

    def column(self, c: int) -> str:
        while len(self.columns) <= c:
            self.columns.append(xl_col_to_name(len(self.columns)))
        return self.columns[c]

    def style(self, fmt: Any) -> str:
        if fmt is None:
            return ""
        s = self._styles.get(id(fmt))
        if s is None:
            s = self._styles[id(fmt)] = f' s="{fmt._get_xf_index()}"'
        return s

    @staticmethod
    def fits(ws: Worksheet, r: int, last: int) -> bool:
        """Whether row `r` with cells up to column `last` can be written here: a later row
        than any XlsxWriter holds, inside the sheet, with no note on it."""
        return ws.previous_row < r < ws.xls_rowmax and last < ws.xls_colmax and r not in ws.comments

    @staticmethod
    def open(ws: Worksheet, r: int, first: int, last: int) -> str:
        """Start row `r` (cells in columns first..last, `fits`) as XlsxWriter starts it: its
        dimensions, the row before it written out, its set_row height; returns the <row>
        element still to write ("" when XlsxWriter wrote it)."""
        # Worksheet._check_dimensions for the row's first and last cell
        if ws.dim_rowmin is None or r < ws.dim_rowmin:
            ws.dim_rowmin = r
        if ws.dim_rowmax is None or r > ws.dim_rowmax:
            ws.dim_rowmax = r
        if ws.dim_colmin is None or first < ws.dim_colmin:
            ws.dim_colmin = first
        if ws.dim_colmax is None or last > ws.dim_colmax:
            ws.dim_colmax = last
        before = ws.previous_row
        if ws.table or before in ws.row_info or before in ws.comments:
            ws._write_single_row(r)  # what XlsxWriter still holds of the row before
        else:
            ws.previous_row = r  # all that _write_single_row does when it holds nothing
        info = ws.row_info.pop(r, None)
        if info is None and ws.default_row_height == ws.original_row_height:
            return f'<row r="{r + 1}">'  # Worksheet._write_row without attributes
        ws._write_row(r, None, info)
        return ""

    def write(self, ws: Worksheet, r: int, cells: list[tuple[int, Any, Any]]) -> bool:
        """Write (column, value, format) cells of row `r`; False (nothing written) when
        XlsxWriter must write them (see start)."""
        if not cells or not self.fits(ws, r, cells[-1][0]):
            return False
        head = self.open(ws, r, cells[0][0], cells[-1][0])
        number = str(r + 1)
        out = [head]
        for c, value, fmt in cells:
            ref = self.column(c) + number
            style = self.style(fmt)
            if value is None:
                out.append(f'<c r="{ref}"{style}/>')
            elif isinstance(value, str):
                out.append(f'<c r="{ref}"{style}{inline_string(value)}')
            else:
                if isinstance(value, datetime):
                    value = ws._convert_date_time(value)
                out.append(f'<c r="{ref}"{style}><v>{value:.16G}</v></c>')
        out.append("</row>")
        ws.fh.write("".join(out))
        return True


# Anything inline_string must look at closer: what _PLAIN_UNSAFE or _preserve_whitespace finds
_NOT_PLAIN = re.compile(_PLAIN_UNSAFE.pattern + r"|^\s|\s$")


def inline_string(value: str) -> str:
    """The rest of an inline-string <c> element after its r and s attributes, as XlsxWriter
    writes `value` (truncated to Excel's limit, control characters _xHHHH_-escaped, XML
    specials escaped, leading or trailing space preserved)."""
    if len(value) > _STRMAX // 2:
        value = _truncate(value)
    if not _NOT_PLAIN.search(value):  # one search for the common case: nothing to change
        return f' t="inlineStr"><is><t>{value}</t></is></c>'
    space = ""
    if _PLAIN_UNSAFE.search(value):
        value = XMLwriter._escape_control_characters(value)
        if _preserve_whitespace(value):
            space = ' xml:space="preserve"'
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    elif _preserve_whitespace(value):
        space = ' xml:space="preserve"'
    return f' t="inlineStr"><is><t{space}>{value}</t></is></c>'


def _truncate(text: str) -> str:
    """Excel's limit of 32,767 UTF-16 units a cell, as XlsxWriter applies it."""
    from xlsxwriter.utility import _utf16_len, _utf16_truncate

    return _utf16_truncate(text, _STRMAX) if _utf16_len(text) > _STRMAX else text


class StatisticsWorkbook:
    def __init__(
        self,
        path: Path,
        rules: Rules,
        lang: Lang,
        made_on: date,
        sites: Sequence[str] = (),
        site: str | None = None,
    ) -> None:
        """`sites`: those of the replies; once one is named the scores sheet has a column for
        them. `site`: the one site reported, named in the title and footer."""
        self.rules = rules
        self.lang = lang
        self.site = site
        self._site_column = any(sites)
        self._site_width = max([12.0, *(text_width(s) + 2 for s in sites)])
        self._lead = 5 if self._site_column else 4  # columns before the ratings
        self.wb = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self.wb.set_custom_property(REPORT_PROPERTY, "statistics")
        self.wb.set_properties(
            {"title": self._title(), "created": datetime.combine(made_on, datetime.min.time())}
        )
        f = self.wb.add_format
        self.fmt = {
            "title": f({"bold": True, "font_size": 14}),
            "head": f(
                {
                    "bold": True,
                    "bg_color": "#DDEBF7",
                    "border": 1,
                    "text_wrap": True,
                    "valign": "top",
                }
            ),
            "one": f({"valign": "top", "num_format": "0.0"}),
            "wrap": f({"text_wrap": True, "valign": "top"}),
            "top": f({"valign": "top"}),
            "value": f({"valign": "top", "align": "right"}),
            "value_date": f({"valign": "top", "align": "right", "num_format": "yyyy-mm-dd"}),
            "value_one": f({"valign": "top", "align": "right", "num_format": "0.0"}),
            "value_pct": f({"valign": "top", "align": "right", "num_format": "0.0%"}),
            "value_delta": f({"valign": "top", "align": "right", "num_format": "+0.0;-0.0;0.0"}),
            "label": f({"bold": True, "bg_color": "#DDEBF7", "border": 1, "valign": "top"}),
            "pct": f({"valign": "top", "num_format": "0.0%"}),
            "date": f({"valign": "top", "num_format": "yyyy-mm-dd"}),
            "bad_date": f(
                {
                    "valign": "top",
                    "num_format": "yyyy-mm-dd",
                    "bg_color": "#FFC7CE",
                    "font_color": "#9C0006",
                }
            ),
            "bad": f(
                {"valign": "top", "bg_color": "#FFC7CE", "font_color": "#9C0006", "text_wrap": True}
            ),
            "bad_one": f(
                {
                    "valign": "top",
                    "bg_color": "#FFC7CE",
                    "font_color": "#9C0006",
                    "num_format": "0.0",
                }
            ),
            "delta": f({"valign": "top", "num_format": "+0.0;-0.0;0.0"}),
            "delta_pct": f({"valign": "top", "num_format": "+0.0%;-0.0%;0.0%"}),
        }
        names = [
            "summary",
            "scores",
            "items",
            "pareto",
            "flags",
            "capas",
            "unanswered",
            "segments",
            "trend",
            "comments",
            "rejected",
        ]
        self.ws: dict[str, Worksheet] = {
            n: self.wb.add_worksheet(t(f"sheet_{n}", lang)) for n in names
        }
        self.rows = dict.fromkeys(names, 0)
        self._wrap: dict[str, dict[int, float]] = {}  # sheet -> wrapped column -> width
        self._widths: dict[str, list[float]] = {}  # sheet -> its columns' widths (the header's)
        self._item_keys = list(rules.items)
        self._rows = _RowWriter()
        self._tails: dict[str, list[dict[tuple[type, Any, int], str]]] = {}  # see _stream_row
        self._start_streamed_sheets()

    # ------------------------------------------------------------ helpers

    def _label(self, kind: str, key: str) -> str:
        if kind == "item":
            labels = self.rules.items[key].labels
        else:
            labels = self.rules.levels[key].labels
        return labels.zh if self.lang == "zh" else labels.en

    def _title(self) -> str:
        """The workbook's title, with the site when it reports one."""
        if self.site is None:
            return t("title", self.lang)
        return f"{t('title', self.lang)} · {t('site', self.lang)} {self.site}"

    def _item_width(self) -> float:
        """The item column shows every item name whole."""
        return max([14.0, *(text_width(self._label("item", k)) + 2 for k in self._item_keys)])

    def _dept(self, key: str) -> str:
        d = self.rules.departments[key]
        return d.zh if self.lang == "zh" else d.en

    def _header(
        self,
        name: str,
        heads: list[str],
        widths: list[float],
        wide: bool = False,
        wrap: set[int] | None = None,
    ) -> None:
        """A header row that wraps at word boundaries into a fixed height, so every header is
        shown whole in Excel and LibreOffice alike. `wide` sheets print on as many pages wide as
        they need, with the first column repeated; the others fit one page wide. Columns in
        `wrap` wrap their data cells."""
        ws, row = self.ws[name], self.rows[name]
        fitted = [fit_width(h, w) for h, w in zip(heads, widths, strict=True)]
        self._widths[name] = fitted
        ws.set_row(row, _header_height(heads, fitted))
        for c, (head, width) in enumerate(zip(heads, fitted, strict=True)):
            ws.set_column(c, c, width, self.fmt["wrap"] if wrap and c in wrap else None)
            ws.write_string(row, c, head, self.fmt["head"])
        self._wrap[name] = {c: fitted[c] for c in wrap or ()}
        ws.freeze_panes(row + 1, 1 if wide else 0)
        self._print_setup(ws, row, wide)
        self.rows[name] += 1

    def _subheader(self, name: str, heads: list[str]) -> None:
        """A second header row further down a sheet, in the columns of its first, as tall as
        its wrapped heads (set: no application measures a streamed row)."""
        widths = self._widths[name][: len(heads)]
        self.ws[name].set_row(self.rows[name], _header_height(heads, widths))
        self._write_row(name, heads, [self.fmt["head"]] * len(heads))

    def _title_row(self, name: str, text: str) -> None:
        """A group title inside a sheet, in the title font, with the height that font needs."""
        self.ws[name].set_row(self.rows[name], TITLE_HEIGHT)
        self._write_row(name, [text], [self.fmt["title"]])

    @staticmethod
    def _print_setup(ws: Worksheet, header_row: int | None, wide: bool = False) -> None:
        ws.set_paper(A4)
        ws.set_landscape()
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
        if wide:
            ws.repeat_columns(0)
            ws.set_print_scale(70)  # 8 pt on paper: still readable, a third fewer pages
        else:
            ws.fit_to_pages(1, 0)
        if header_row is not None:
            ws.repeat_rows(header_row)

    def _footer(self, view: ReportView) -> None:
        """Page numbers, period, report date and rules hash on every printed page."""
        L = self.lang

        def esc(text: str) -> str:
            return text.replace("&", "&&")

        hashes = ", ".join(h[:HASH_SHOWN] for h in view.rules_hashes)
        site = "" if self.site is None else f" · {t('site', L)} {self.site}"
        left = esc(f"{t('title', L)} {view.period}{site} · {t('made_on', L)} {view.made_on}")
        right = esc(f"{t('rules_short', L)} {hashes}")
        footer = f"&L&8{left}&C&8{esc(t('page', L))} &P / &N&R&8{right}"
        for ws in self.ws.values():
            ws.set_footer(footer)

    def _nothing(self, name: str, key: str) -> None:
        """An empty sheet prints one line saying so, not a header over a blank page."""
        self.ws[name].set_column(0, 0, 60)
        self.ws[name].write_string(0, 0, t(key, self.lang))
        self._print_setup(self.ws[name], None)

    def _default_format(self, value: object, wrapped: bool) -> Any:
        """A cell's format when the caller gives none: a date shows as a date, not as Excel's
        serial number; text in a wrapped column wraps."""
        if isinstance(value, date):
            return self.fmt["date"]
        return self.fmt["wrap"] if wrapped else self.fmt["top"]

    def _write_row(self, name: str, values: list[Any], formats: list[Any] | None = None) -> None:
        ws, r = self.ws[name], self.rows[name]
        wrap = self._wrap.get(name)
        if wrap:
            # Rows are streamed, so no application measures them: set the height of wrapped text
            lines = 1
            for c, w in wrap.items():
                v = values[c]
                # a unique text that surely fits (a source, a name) stays out of the cache
                if isinstance(v, str) and not fits_one_line(v, w, False):
                    lines = max(lines, wrapped_lines(v, w, bold=False))
            if lines > 1:
                ws.set_row(r, lines * DATA_LINE_HEIGHT + 2)
        if not (name in STREAMED and self._stream_row(ws, r, values, formats, wrap)):
            self._write_cells(ws, r, values, formats, wrap)
        self.rows[name] += 1

    def _write_cells(
        self,
        ws: Worksheet,
        r: int,
        values: list[Any],
        formats: list[Any] | None,
        wrap: dict[int, float] | None,
    ) -> None:
        """Row `r`'s cells written by XlsxWriter, one call a cell."""
        for c, value in enumerate(values):
            fmt = formats[c] if formats else None
            if fmt is None and value is not None:
                fmt = self._default_format(value, wrap is not None and c in wrap)
            if value is None:
                if fmt is not None:
                    ws.write_blank(r, c, None, fmt)
            elif isinstance(value, str):
                ws.write_string(r, c, value, fmt)
            elif isinstance(value, bool):
                ws.write_string(r, c, t("yes" if value else "no", self.lang), fmt)
            elif isinstance(value, date):
                ws.write_datetime(
                    r, c, datetime.combine(value, datetime.min.time()), fmt or self.fmt["date"]
                )
            else:
                ws.write_number(r, c, value, fmt)

    def _stream_row(
        self,
        ws: Worksheet,
        r: int,
        values: list[Any],
        formats: list[Any] | None,
        wrap: dict[int, float] | None,
    ) -> bool:
        """Write row `r` of a streamed sheet as one string (see _RowWriter): the cells
        _write_cells would write, with the same default formats, yes/no for a bool and dates
        at midnight. False (nothing written) where _write_cells must write them: a row
        XlsxWriter holds, a row with no cell, NaN or infinity (XlsxWriter's own rules).
        tests/test_workbook_rows.py holds the two equal, byte for byte."""
        rows = self._rows
        if not rows.fits(ws, r, len(values) - 1):
            return False
        rows.column(len(values) - 1)  # named up to the last
        tails = self._tails.setdefault(ws.name, [])
        while len(tails) < len(values):
            tails.append({})
        # A column's level names, grades, dates and points repeat: each cell's XML after its
        # reference is made once. Cells not seen yet are made after the row is opened (which
        # may write the row before and number its formats), left to right, so formats are
        # numbered in the order XlsxWriter numbers them.
        cells: list[tuple[int, str | None]] = []
        new: list[tuple[int, int, Any, Any, tuple[type, Any, int]]] = []
        for c, value in enumerate(values):
            fmt = formats[c] if formats else None
            if value is None and fmt is None:
                continue
            key = (value.__class__, value, id(fmt))
            tail = tails[c].get(key)
            if tail is None:
                if isinstance(value, float) and not math.isfinite(value):
                    return False  # XlsxWriter's own rules for NaN and infinity
                new.append((len(cells), c, value, fmt, key))
            cells.append((c, tail))
        if not cells:
            return False
        head = rows.open(ws, r, cells[0][0], cells[-1][0])
        for i, c, value, fmt, key in new:
            tail = self._cell_tail(ws, value, fmt, wrap is not None and c in wrap)
            if len(tails[c]) < _TAILS and value != 0.0:  # -0.0 == 0.0, but prints "-0"
                tails[c][key] = tail
            cells[i] = (c, tail)
        columns, number = rows.columns, str(r + 1)
        ws.fh.write(
            head + "".join([f'<c r="{columns[c]}{number}"{tail}' for c, tail in cells]) + "</row>"
        )
        return True

    def _cell_tail(self, ws: Worksheet, value: Any, fmt: Any, wrapped: bool) -> str:
        """A streamed cell's XML after its r attribute: style and value, as the XlsxWriter
        loop of _write_row writes it."""
        if value is None:
            return f"{self._rows.style(fmt)}/>"
        if fmt is None:
            fmt = self._default_format(value, wrapped)
        style = self._rows.style(fmt)
        if isinstance(value, str):
            return style + inline_string(value)
        if isinstance(value, bool):
            return style + inline_string(t("yes" if value else "no", self.lang))
        if isinstance(value, date):
            if not isinstance(value, datetime):
                value = datetime.combine(value, datetime.min.time())
            value = ws._convert_date_time(value)
        return f"{style}><v>{value:.16G}</v></c>"

    def _autofilter(self, name: str, columns: int, header_row: int = 0) -> None:
        self.ws[name].autofilter(header_row, 0, max(self.rows[name] - 1, header_row), columns - 1)

    # ------------------------------------------------------------ streamed sheets

    def _start_streamed_sheets(self) -> None:
        L = self.lang
        items = [self._label("item", k) for k in self._item_keys]
        n = len(items)
        # wide enough for the longest word of a level name; longer names wrap
        rating = max(fit_width(self._label("level", k), 8) for k in self.rules.levels)
        lead = self._lead
        self._header(
            "scores",
            [
                t("customer", L),
                t("code", L),
                *([t("site", L)] if self._site_column else []),
                t("period", L),
                t("reply_date", L),
                *items,
                *(f"{i}\n{t('points', L)}" for i in items),  # the item name whole
                t("total", L),
                t("grade", L),
                t("complete", L),
                t("flags", L),
                t("source", L),
            ],
            [
                30,
                10,
                *([self._site_width] if self._site_column else []),
                8,
                11,
                *[rating] * n,
                *[8] * n,
            ]
            + [8, 6, 8, 36, 60],
            wide=True,
            wrap={*range(lead, lead + n), lead + 2 * n + 3, lead + 2 * n + 4},
        )
        self._header(
            "comments",
            [
                t("customer", L),
                t("code", L),
                t("period", L),
                t("total", L),
                t("grade", L),
                t("comment", L),
                t("comment_items", L),
            ],
            [30, 10, 8, 8, 6, 80, 24],
            wrap={0, 5, 6},
        )

    def add_response(self, s: ScoredResponse, topics: tuple[str, ...] = (), site: str = "") -> None:
        """Stream one counted response into the scores and comments sheets; `topics` are the
        items its comment speaks about, `site` the site its import was recorded for."""
        fmt, r = self.fmt, s.response
        flagged_items = {f.item for f in s.flags if f.type == "dissatisfied_item"}
        low = any(f.type == "low_score" for f in s.flags)
        levels = [s.items[k].level for k in self._item_keys]
        values: list[Any] = [
            r.customer,
            r.customer_code,
            *([site or None] if self._site_column else []),
            r.period,
            r.date,
            *(self._label("level", lv) if lv else None for lv in levels),
            *(s.items[k].points for k in self._item_keys),
            s.total,
            s.grade,
            s.complete,
            self._flag_text(s),
            self._source_text(s),
        ]
        formats: list[Any] = [
            None,
            None,
            *([None] if self._site_column else []),
            None,
            fmt["date"],
            *(fmt["bad"] if k in flagged_items else None for k in self._item_keys),
            *(fmt["bad_one"] if k in flagged_items else fmt["one"] for k in self._item_keys),
            fmt["bad_one"] if low else fmt["one"],
            fmt["bad"] if low else None,
            None,
            None,
            None,
        ]
        self._write_row("scores", values, formats)
        if r.comments:
            self._write_row(
                "comments",
                [
                    r.customer,
                    r.customer_code,
                    r.period,
                    s.total,
                    s.grade,
                    r.comments,
                    "; ".join(self._label("item", k) for k in topics) or None,
                ],
                [None, None, None, fmt["one"], None, None, None],
            )

    def _flag_text(self, s: ScoredResponse) -> str:
        parts = []
        for f in s.flags:
            if f.type == "low_score":
                parts.append(f"{t('low_score', self.lang)} {self.rules.flags.low_score_below:g}")
            else:
                assert f.item is not None and f.level is not None
                parts.append(f"{self._label('item', f.item)} {self._label('level', f.level)}")
        return "; ".join(parts)

    @staticmethod
    def _source_text(s: ScoredResponse) -> str:
        src = s.response.source
        where = f"{src.sheet}!{src.row}" if src.row else (src.sheet or "")
        return f"{src.file} {where}".strip()

    # ------------------------------------------------------------ end sheets

    def finish(self, view: ReportView) -> None:
        self._autofilter("scores", self._lead + 2 * len(self._item_keys) + 5)
        self._autofilter("comments", 7)
        self._summary(view)
        self._flags(view)
        self._capa_register(view)
        self._unanswered(view)
        self._items(view)
        self._pareto(view)
        self._segments(view)
        self._trend(view)
        self._rejected(view)
        review.write_sheets(self, view)
        self._footer(view)
        try:
            self.wb.close()
        except FileCreateError as exc:  # XlsxWriter wraps the OS error; callers expect OSError
            cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else None
            raise cause or OSError(str(exc)) from None

    def _summary(self, v: ReportView) -> None:
        L, fmt, s = self.lang, self.fmt, v.stats
        ws = self.ws["summary"]
        ws.set_column(0, 0, 34)
        ws.set_column(1, 1, 16)
        ws.set_column(2, 2, 10)
        ws.write_string(0, 0, self._title(), fmt["title"])
        self.rows["summary"] = review.write_review(self, v, 2)
        figures_top = self.rows["summary"]
        rate = v.response_rate
        rows: list[tuple[str, Any, Any]] = [
            (t("period", L), v.period, fmt["value"]),
            *([(t("site", L), v.site, fmt["value"])] if v.site is not None else []),
            (t("made_on", L), v.made_on, fmt["value_date"]),
            (t("rules", L), ", ".join(h[:HASH_SHOWN] for h in v.rules_hashes), fmt["value"]),
        ]
        if v.rescored:
            rows.append((t("rescored", L), True, fmt["value"]))
        # Forms csat sent: a table import has none, and then no response rate to state
        rows += [
            (t("forms_sent", L), v.forms_sent, fmt["value"]),
            (t("replies_to_forms", L), v.replies_to_forms if v.forms_sent else None, fmt["value"]),
            (t("response_rate", L), rate, fmt["value_pct"]),
            (t("responses", L), s.responses, fmt["value"]),
            (t("customers", L), s.customers, fmt["value"]),
            (t("superseded", L), s.superseded, fmt["value"]),
            (t("incomplete", L), s.incomplete, fmt["value"]),
            (t("mean_total", L), s.mean_total, fmt["value_one"]),
            (t("median_total", L), s.median_total, fmt["value_one"]),
            (t("flagged", L), s.flagged, fmt["value"]),
            (t("flagged_share", L), s.flagged_share, fmt["value_pct"]),
            (
                t("previous", L),
                v.previous.period if v.previous else t("none", L),
                fmt["value"],
            ),
            (
                t("previous_mean", L),
                v.previous.mean_total if v.previous else None,
                fmt["value_one"],
            ),
            (
                t("change_mean", L),
                v.change.mean_total if v.change else None,
                fmt["value_delta"],
            ),
            (t("change_real", L), review.change_verdict(v, L), fmt["value"]),
            (t("rejected_count", L), len(v.rejected), fmt["value"]),
            (t("capa_total", L), v.capa_counts["total"], fmt["value"]),
            (t("capa_open", L), v.capa_counts["open"], fmt["value"]),
            (t("capa_closed", L), v.capa_counts["closed"], fmt["value"]),
            (t("capa_verified", L), v.capa_counts["verified"], fmt["value"]),
            (t("capa_overdue", L), v.capa_counts["overdue"], fmt["value"]),
            (t("capa_effective", L), v.capa_counts["effective"], fmt["value"]),
            (t("capa_ineffective", L), v.capa_counts["ineffective"], fmt["value"]),
            (t("capa_unjudged", L), v.capa_counts["unjudged"], fmt["value"]),
        ]
        for label, value, f in rows:
            self._write_row("summary", [label, value], [fmt["label"], f])
            row = self.rows["summary"] - 1  # still the current row (constant-memory mode)
            if label == t("rules", L):
                # the full hash, for checking the rules file, in a note on the shortened one
                ws.write_comment(
                    row, 1, "SHA-256:\n" + "\n".join(v.rules_hashes), {"x_scale": 3, "y_scale": 1}
                )
            elif label == t("response_rate", L) and not v.forms_sent:
                ws.write_string(
                    row, 2, t("no_forms_sent" if v.site is None else "site_no_forms", L)
                )
        self.rows["summary"] += 1
        top = self.rows["summary"]
        self._write_row("summary", [t("grade", L), t("count", L), t("share", L)], [fmt["head"]] * 3)
        for grade in s.grade_counts:
            self._write_row(
                "summary",
                [grade, s.grade_counts[grade], s.grade_shares[grade]],
                [fmt["value"], fmt["value"], fmt["value_pct"]],
            )
        last = self.rows["summary"] - 1
        chart = self.wb.add_chart({"type": "column"})
        name = ws.get_name()
        chart.add_series(
            {
                "name": t("count", L),
                "categories": [name, top + 1, 0, last, 0],
                "values": [name, top + 1, 1, last, 1],
                "points": [
                    {"fill": {"color": GRADE_COLOURS.get(g, "#4472C4")}} for g in s.grade_counts
                ],
                "data_labels": {"value": True},
            }
        )
        chart.set_title({"name": t("grade_chart", L)})
        chart.set_legend({"none": True})
        chart.set_y_axis(_integer_axis(max(s.grade_counts.values(), default=0)))
        ws.insert_chart(figures_top, 6, chart)
        self._print_setup(ws, None)

    def _flags(self, v: ReportView) -> None:
        """Every flag with the CAPA that follows it up; overdue ones highlighted."""
        L, fmt = self.lang, self.fmt
        if not v.flagged:
            self._nothing("flags", "none_flags")
            return
        heads = [
            "customer",
            "code",
            "period",
            "flag_type",
            "item",
            "rating_or_total",
            "department",
            "capa",
            "due_date",
            "status",
            "verdict",
            "repeat_col",
            "comment",
        ]
        self._header(
            "flags",
            [t(h, L) for h in heads],
            [30, 10, 8, 14, 16, 12, 14, 18, 11, 24, 16, 18, 40],
            wrap={0, 9, 12},
        )
        for r in v.flagged:
            for flag in r.flags:
                dept = department_of(flag, self.rules)
                capa = v.capas.get((r.period, r.key, dept))
                rating: str | float | None
                if flag.type == "low_score":
                    kind = f"{t('low_score', L)} {self.rules.flags.low_score_below:g}"
                    item, rating = None, flag.total
                else:
                    assert flag.item is not None and flag.level is not None
                    kind = t("dissatisfied_item", L)
                    item, rating = self._label("item", flag.item), self._label("level", flag.level)
                late = capa is not None and capa.overdue(v.made_on)
                self._write_row(
                    "flags",
                    [
                        r.customer,
                        r.customer_code,
                        r.period,
                        kind,
                        item,
                        rating,
                        self._dept(dept),
                        capa.number if capa else None,
                        capa.due_date if capa else None,
                        self._status(capa) if capa else None,
                        self._verdict(capa) if capa else None,
                        capa.repeat_of if capa else None,
                        r.comments,
                    ],
                    [
                        None,
                        None,
                        None,
                        None,
                        None,
                        fmt["one"] if isinstance(rating, float) else None,
                        None,
                        None,
                        fmt["bad_date"] if late else fmt["date"],
                        fmt["bad"] if late else None,
                        fmt["bad"] if capa and capa.effectiveness == "ineffective" else None,
                        fmt["bad"] if capa and capa.repeat_of else None,
                        None,
                    ],
                )
        self._autofilter("flags", len(heads))

    def _status(self, c: CapaRecord) -> str:
        return t("ready_to_verify" if c.ready_to_verify else f"status_{c.status}", self.lang)

    def _verdict(self, c: CapaRecord) -> str:
        return t(f"verdict_{c.effectiveness or 'none'}", self.lang)

    def _capa_register(self, v: ReportView) -> None:
        """Every CAPA the period follows: its own, then earlier ones still open or judged by
        this period's replies; what was done and whether it worked."""
        L, fmt = self.lang, self.fmt
        heads = [
            "capa",
            "customer",
            "department",
            "issue_date",
            "due_date",
            "status",
            "days_open",
            "action",
            "verdict",
            "evidence",
            "repeat_col",
        ]
        self._header(
            "capas",
            [t(h, L) for h in heads],
            [17, 28, 14, 11, 11, 24, 9, 36, 16, 50, 17],
            wide=True,  # printed pages wide with the CAPA number repeated: readable on paper
        )
        for c in v.register:
            late = c.overdue(v.made_on)
            evidence = evidence_text(c.evidence, self.rules, L) if c.evidence else None
            # wrapped cells need their row height: neither Excel nor LibreOffice sizes them
            lines = max(_lines(c.action, 36), _lines(evidence, 50))
            if lines > 1:
                self.ws["capas"].set_row(self.rows["capas"], 15 * lines)
            self._write_row(
                "capas",
                [
                    c.number,
                    c.customer,
                    self._dept(c.department) if c.department in self.rules.departments else None,
                    c.issue_date,
                    c.due_date,
                    self._status(c),
                    c.days_open(v.made_on),
                    c.action,
                    self._verdict(c),
                    evidence,
                    c.repeat_of,
                ],
                [
                    None,
                    None,
                    None,
                    fmt["date"],
                    fmt["bad_date"] if late else fmt["date"],
                    fmt["bad"] if late else None,
                    None,
                    fmt["wrap"],
                    fmt["bad"] if c.effectiveness == "ineffective" else None,
                    fmt["wrap"],
                    fmt["bad"] if c.repeat_of else None,
                ],
            )
        self._autofilter("capas", len(heads))

    def _items(self, v: ReportView) -> None:
        L, fmt, s = self.lang, self.fmt, v.stats
        levels = list(self.rules.levels)
        heads = [
            t("item", L),
            t("weight", L),
            t("answered", L),
            *(self._label("level", lv) for lv in levels),
            *(f"{self._label('level', lv)} %" for lv in levels),
            t("mean_points", L),
            t("share_of_max", L),
            t("share_dissatisfied", L),
            t("change_share", L),
        ]
        w = self._item_width()
        self._header("items", heads, [w, 7, 8, *[9] * len(levels), *[9] * len(levels), 9, 9, 9, 9])
        for key, st in s.items.items():
            delta = v.change.item_share_of_max.get(key) if v.change else None
            self._write_row(
                "items",
                [
                    self._label("item", key),
                    self.rules.items[key].weight,
                    st.answered,
                    *(st.counts[lv] for lv in levels),
                    *(st.shares[lv] for lv in levels),
                    st.mean_points,
                    st.share_of_max,
                    st.share_dissatisfied,
                    delta,
                ],
                [
                    None,
                    None,
                    None,
                    *[None] * len(levels),
                    *[fmt["pct"]] * len(levels),
                    fmt["one"],
                    fmt["pct"],
                    fmt["pct"],
                    fmt["delta_pct"],
                ],
            )
        last = self.rows["items"] - 1
        name = self.ws["items"].get_name()
        chart = self.wb.add_chart({"type": "bar", "subtype": "percent_stacked"})
        chart.set_x_axis({"num_format": "0%"})
        for i in range(len(levels)):
            chart.add_series(
                {
                    "name": [name, 0, 3 + i],
                    "categories": [name, 1, 0, last, 0],
                    "values": [name, 1, 3 + i, last, 3 + i],
                    "fill": {"color": LEVEL_COLOURS[min(i, len(LEVEL_COLOURS) - 1)]},
                }
            )
        chart.set_title({"name": t("items_chart", L)})
        chart.set_y_axis({"reverse": True})
        chart.set_size({"width": 560, "height": 440})
        share_col = 3 + 2 * len(levels) + 1
        scatter = self._quadrants(v, share_col)
        # side by side, so the table and both charts print on one landscape page
        self.ws["items"].insert_chart(self.rows["items"] + 1, 0, chart)
        self.ws["items"].insert_chart(self.rows["items"] + 1, 0, scatter, {"x_offset": 580})

    def _quadrants(self, v: ReportView, share_col: int) -> Any:
        """Martilla & James importance-performance analysis: one labelled point per item, the
        mean importance and mean performance lines, the four quadrants named. Writes the mean
        row and the quadrant table under the items table; returns the chart."""
        L, fmt, name = self.lang, self.fmt, self.ws["items"].get_name()
        points = [
            (key, self.rules.items[key].weight, st.share_of_max)
            for key, st in v.stats.items.items()
            if st.share_of_max is not None
        ]
        first = 1
        columns = share_col + 3
        if not points:
            return self.wb.add_chart({"type": "scatter"})
        mean_w = sum(w for _, w, _ in points) / len(points)
        mean_p = sum(p for _, _, p in points) / len(points)
        mean_row = self.rows["items"]
        means: list[Any] = [None] * columns
        means[0], means[1], means[share_col] = t("mean", L), mean_w, mean_p
        formats: list[Any] = [None] * columns
        formats[0], formats[1], formats[share_col] = fmt["label"], fmt["one"], fmt["pct"]
        self._write_row("items", means, formats)
        x_max = math.ceil(max(w for _, w, _ in points) / 5) * 5 + 5
        y_min = max(0.0, math.floor(min(p for _, _, p in points) * 10 - 1) / 10)
        y_span = 1 - y_min
        # Quadrant labels sit in the corners, away from the points in the middle
        quadrants = [
            ("q_overkill", x_max * 0.12, 1 - y_span * 0.05),
            ("q_low", x_max * 0.12, y_min + y_span * 0.05),
            ("q_keep", x_max * 0.86, 1 - y_span * 0.05),
            ("q_concentrate", x_max * 0.86, y_min + y_span * 0.05),
        ]
        self.rows["items"] += 1
        q_head = self.rows["items"]
        self.ws["items"].set_row(q_head, 2 * LINE_HEIGHT + 4)
        self._write_row(
            "items",
            [t("quadrant", L), t("chart_x", L), t("chart_y", L), t("meaning", L)],
            [fmt["head"]] * 4,
        )
        for key, x, y in quadrants:
            self._write_row(
                "items",
                [t(key, L), x, y, t(f"{key}_means", L)],
                [None, fmt["one"], fmt["pct"], None],
            )
        scatter = self.wb.add_chart({"type": "scatter"})
        # nearby points with the same weight get their labels on alternate sides
        side: dict[str, str] = {}
        for i, (key, _, _) in enumerate(sorted(points, key=lambda p: (p[1], p[2]))):
            side[key] = "right" if i % 2 == 0 else "left"
        keys = list(v.stats.items)
        for i, (key, _, _) in enumerate(points):
            row = first + keys.index(key)
            colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
            scatter.add_series(
                {
                    "name": [name, row, 0],
                    "categories": [name, row, 1, row, 1],
                    "values": [name, row, share_col, row, share_col],
                    "marker": {
                        "type": "circle",
                        "size": 8,
                        "fill": {"color": colour},
                        "border": {"color": colour},
                    },
                    "data_labels": {
                        "series_name": True,
                        "position": side[key],
                        "font": {"color": colour, "size": 9},
                    },
                }
            )
        # the mean point, with error bars across the whole plot: the quadrant lines
        scatter.add_series(
            {
                "name": t("mean", L),
                "categories": [name, mean_row, 1, mean_row, 1],
                "values": [name, mean_row, share_col, mean_row, share_col],
                "marker": {"type": "none"},
                "x_error_bars": {
                    "type": "fixed",
                    "value": x_max,
                    "end_style": 0,
                    "line": {"color": "#808080", "dash_type": "dash", "width": 1},
                },
                "y_error_bars": {
                    "type": "fixed",
                    "value": 1,
                    "end_style": 0,
                    "line": {"color": "#808080", "dash_type": "dash", "width": 1},
                },
            }
        )
        scatter.add_series(
            {
                "categories": [name, q_head + 1, 1, q_head + 4, 1],
                "values": [name, q_head + 1, 2, q_head + 4, 2],
                "marker": {"type": "none"},
                "data_labels": {
                    # literal text: LibreOffice ignores labels taken from cells
                    "custom": [
                        {"value": t(key, L), "font": {"bold": True, "color": "#595959"}}
                        for key, _, _ in quadrants
                    ],
                    "position": "center",
                },
            }
        )
        scatter.set_title({"name": t("scatter_chart", L)})
        scatter.set_x_axis(
            {"name": t("weight", L), "min": 0, "max": x_max, "major_gridlines": {"visible": False}}
        )
        scatter.set_y_axis(
            {
                "name": t("share_of_max", L),
                "num_format": "0%",
                "min": y_min,
                "max": 1,
                "major_gridlines": {"visible": False},
            }
        )
        scatter.set_legend({"none": True})
        scatter.set_size({"width": 600, "height": 440})
        return scatter

    def _pareto(self, v: ReportView) -> None:
        L, fmt = self.lang, self.fmt
        if not v.stats.pareto:
            self._nothing("pareto", "none_pareto")
            return
        self._header(
            "pareto",
            [t("item", L), t("count", L), t("share", L), t("cumulative", L)],
            [self._item_width(), 8, 9, 11],
        )
        for row in v.stats.pareto:
            self._write_row(
                "pareto",
                [self._label("item", row.item), row.count, row.share, row.cumulative_share],
                [None, None, fmt["pct"], fmt["pct"]],
            )
        last = self.rows["pareto"] - 1
        if last < 1:
            return
        name = self.ws["pareto"].get_name()
        bars = self.wb.add_chart({"type": "column"})
        bars.add_series(
            {
                "name": t("count", L),
                "categories": [name, 1, 0, last, 0],
                "values": [name, 1, 1, last, 1],
                "fill": {"color": SERIES_COLOURS[0]},
            }
        )
        bars.set_y_axis(_integer_axis(max(row.count for row in v.stats.pareto)))
        line = self.wb.add_chart({"type": "line"})
        line.add_series(
            {
                "name": t("cumulative", L),
                "categories": [name, 1, 0, last, 0],
                "values": [name, 1, 3, last, 3],
                "y2_axis": True,
                "line": {"color": SERIES_COLOURS[1]},
                "marker": {
                    "type": "circle",
                    "fill": {"color": SERIES_COLOURS[1]},
                    "border": {"color": SERIES_COLOURS[1]},
                },
            }
        )
        bars.combine(line)
        bars.set_title({"name": t("pareto_chart", L)})
        bars.set_size({"width": 640, "height": 400})
        line.set_y2_axis({"num_format": "0%", "max": 1, "min": 0})
        self.ws["pareto"].insert_chart(1, 5, bars)

    def _segments(self, v: ReportView) -> None:
        """Per customer class: replies, mean total, grade shares, worst item, share flagged."""
        L, fmt = self.lang, self.fmt
        if not v.segments:
            self._nothing("segments", "none_segments")
            return
        grades = list(self.rules.grades)
        heads = [
            t("class", L),
            t("responses", L),
            t("mean_total", L),
            *(f"{g} %" for g in grades),
            t("worst_item", L),
            t("flagged_share", L),
        ]
        widths: list[float] = [12, 10, 10, *[8] * len(grades), 22, 12]
        self._header("segments", heads, widths)
        formats = [None, None, fmt["one"], *[fmt["pct"]] * len(grades), None, fmt["pct"]]

        def segment_row(s: PeriodStats) -> list[Any]:
            worst = self._label("item", s.pareto[0].item) if s.pareto else None
            grade_shares = (s.grade_shares[g] for g in grades)
            return [s.period, s.responses, s.mean_total, *grade_shares, worst, s.flagged_share]

        for s in v.segments:
            self._write_row("segments", segment_row(s), formats)
        if v.site_segments:  # the same figures per site, below the classes
            self.rows["segments"] += 1
            sub = [t("site", L), *heads[1:]]
            lines = max(wrapped_lines(h, fit_width(h, w)) for h, w in zip(sub, widths, strict=True))
            self.ws["segments"].set_row(self.rows["segments"], lines * LINE_HEIGHT + 4)
            self._write_row("segments", sub, [fmt["head"]] * len(heads))
            for s in v.site_segments:
                self._write_row("segments", segment_row(s), formats)

    def _trend(self, v: ReportView) -> None:
        L, fmt = self.lang, self.fmt
        grades = list(self.rules.grades)
        self._header(
            "trend",
            [t("period", L), t("responses", L), t("mean_total", L), *(f"{g} %" for g in grades)],
            [10, 10, 10, *[8] * len(grades)],
        )
        for s in v.trend:
            self._write_row(
                "trend",
                [
                    s.period,
                    s.responses,
                    s.mean_total,
                    *(s.grade_shares.get(g, 0.0) for g in grades),
                ],
                [None, None, fmt["one"], *[fmt["pct"]] * len(grades)],
            )
        last = self.rows["trend"] - 1
        name = self.ws["trend"].get_name()
        chart = self.wb.add_chart({"type": "line"})
        chart.add_series(
            {
                "name": t("mean_total", L),
                "categories": [name, 1, 0, last, 0],
                "values": [name, 1, 2, last, 2],
                "line": {"color": SERIES_COLOURS[0]},
                "marker": {
                    "type": "circle",
                    "fill": {"color": SERIES_COLOURS[0]},
                    "border": {"color": SERIES_COLOURS[0]},
                },
                "data_labels": {"value": True, "num_format": "0.0"},
            }
        )
        chart.set_title({"name": t("trend_chart", L)})
        chart.set_legend({"none": True})
        chart.set_y_axis({"min": 0, "max": 100})
        self.ws["trend"].insert_chart(last + 2, 0, chart)

    def _unanswered(self, v: ReportView) -> None:
        """Customers sent a form for the period with no reply: who to chase."""
        L = self.lang
        if not v.unanswered:
            self._nothing("unanswered", "none_unanswered" if v.site is None else "site_no_forms")
            return
        heads = ["code", "customer", "class", "language", "contact", "email", "sent_on", "reply_by"]
        self._header(
            "unanswered", [t(h, L) for h in heads], [12, 30, 8, 8, 16, 26, 11, 11], wrap={1}
        )
        for u in v.unanswered:
            self._write_row(
                "unanswered",
                [
                    u.code,
                    u.customer,
                    u.klass,
                    u.language,
                    u.contact,
                    u.email,
                    u.sent_on,
                    u.reply_by,
                ],
            )
        self._autofilter("unanswered", len(heads))

    def _rejected(self, v: ReportView) -> None:
        L = self.lang
        if not v.rejected:
            self._nothing("rejected", "none_rejected")
            return
        self._header(
            "rejected",
            [t("file", L), t("sheet", L), t("cell", L), t("reason", L)],
            [40, 14, 8, 80],
            wrap={0, 3},
        )
        for r in v.rejected:
            self._write_row("rejected", [r.file, r.sheet, r.cell, r.reason])
        self._autofilter("rejected", 4)
