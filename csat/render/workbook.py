"""The statistics workbook (顾客满意度调查统计表), written with XlsxWriter in constant-memory mode.

Per-customer, flag and comment rows are streamed as the report reads them; the summary, items,
Pareto, trend and rejected sheets are written at the end from the finished statistics.
Customer text is always written as a string cell: a comment "=HYPERLINK(...)" stays text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.worksheet import Worksheet

from csat.analysis import Analysis
from csat.capa import department_of
from csat.config import Rules
from csat.models import Rejection, ScoredResponse
from csat.render import analysis as review
from csat.render.labels import Lang, t
from csat.stats import Change, PeriodStats
from csat.store import CapaRecord

A4 = 9
REPORT_PROPERTY = "csat-report"  # intake skips workbooks carrying it: csat's output, not a survey
GRADE_COLOURS = {"A": "#2E7D32", "B": "#66BB6A", "C": "#FBC02D", "D": "#EF6C00", "E": "#C62828"}
LEVEL_COLOURS = ["#2E7D32", "#66BB6A", "#BDBDBD", "#EF6C00", "#C62828"]  # best level first


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
    flagged: list[tuple[str, ScoredResponse]] = field(default_factory=list)  # (customer key, …)
    capas: dict[tuple[str, str], CapaRecord] = field(default_factory=dict)  # (key, department)
    forms_sent: int = 0
    replies_to_forms: int = 0
    segments: list[PeriodStats] = field(default_factory=list)  # one per customer class
    analysis: Analysis | None = None  # intervals, tests, importance, comments by item

    @property
    def response_rate(self) -> float | None:
        return self.replies_to_forms / self.forms_sent if self.forms_sent else None

    @property
    def capa_counts(self) -> dict[str, int]:
        records = list(self.capas.values())
        return {
            "total": len(records),
            "open": sum(c.status in ("open", "reopened") for c in records),
            "closed": sum(c.status == "closed" for c in records),
            "verified": sum(c.status == "verified" for c in records),
            "overdue": sum(c.overdue(self.made_on) for c in records),
        }


class StatisticsWorkbook:
    def __init__(self, path: Path, rules: Rules, lang: Lang, made_on: date) -> None:
        self.rules = rules
        self.lang = lang
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
            {"title": t("title", lang), "created": datetime.combine(made_on, datetime.min.time())}
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
            "one": f({"num_format": "0.0"}),
            "pct": f({"num_format": "0.0%"}),
            "date": f({"num_format": "yyyy-mm-dd"}),
            "bad_date": f(
                {"num_format": "yyyy-mm-dd", "bg_color": "#FFC7CE", "font_color": "#9C0006"}
            ),
            "bad": f({"bg_color": "#FFC7CE", "font_color": "#9C0006"}),
            "bad_one": f({"bg_color": "#FFC7CE", "font_color": "#9C0006", "num_format": "0.0"}),
            "delta": f({"num_format": "+0.0;-0.0;0.0"}),
            "delta_pct": f({"num_format": "+0.0%;-0.0%;0.0%"}),
        }
        names = [
            "summary",
            "scores",
            "items",
            "pareto",
            "flags",
            "segments",
            "trend",
            "comments",
            "rejected",
        ]
        self.ws: dict[str, Worksheet] = {
            n: self.wb.add_worksheet(t(f"sheet_{n}", lang)) for n in names
        }
        self.rows = dict.fromkeys(names, 0)
        self._item_keys = list(rules.items)
        self._start_streamed_sheets()

    # ------------------------------------------------------------ helpers

    def _label(self, kind: str, key: str) -> str:
        if kind == "item":
            labels = self.rules.items[key].labels
        else:
            labels = self.rules.levels[key].labels
        return labels.zh if self.lang == "zh" else labels.en

    def _dept(self, key: str) -> str:
        d = self.rules.departments[key]
        return d.zh if self.lang == "zh" else d.en

    def _header(self, name: str, heads: list[str], widths: list[float]) -> None:
        ws = self.ws[name]
        for c, (head, width) in enumerate(zip(heads, widths, strict=True)):
            ws.write_string(self.rows[name], c, head, self.fmt["head"])
            ws.set_column(c, c, width)
        ws.freeze_panes(self.rows[name] + 1, 0)
        self._print_setup(ws, self.rows[name])
        self.rows[name] += 1

    @staticmethod
    def _print_setup(ws: Worksheet, header_row: int) -> None:
        ws.set_paper(A4)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(header_row)

    def _write_row(self, name: str, values: list[Any], formats: list[Any] | None = None) -> None:
        ws, r = self.ws[name], self.rows[name]
        for c, value in enumerate(values):
            fmt = formats[c] if formats else None
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
        self.rows[name] += 1

    def _autofilter(self, name: str, columns: int, header_row: int = 0) -> None:
        self.ws[name].autofilter(header_row, 0, max(self.rows[name] - 1, header_row), columns - 1)

    # ------------------------------------------------------------ streamed sheets

    def _start_streamed_sheets(self) -> None:
        L = self.lang
        items = [self._label("item", k) for k in self._item_keys]
        self._header(
            "scores",
            [
                t("customer", L),
                t("code", L),
                t("period", L),
                t("reply_date", L),
                *items,
                *(f"{i} {t('points', L)}" for i in items),
                t("total", L),
                t("grade", L),
                t("complete", L),
                t("flags", L),
                t("source", L),
            ],
            [30, 10, 8, 11, *[9] * len(items), *[9] * len(items), 8, 6, 7, 40, 40],
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
        )

    def add_response(self, s: ScoredResponse, topics: tuple[str, ...] = ()) -> None:
        """Stream one counted response into the scores and comments sheets; `topics` are the
        items its comment speaks about."""
        fmt, r = self.fmt, s.response
        flagged_items = {f.item for f in s.flags if f.type == "dissatisfied_item"}
        low = any(f.type == "low_score" for f in s.flags)
        levels = [s.items[k].level for k in self._item_keys]
        values: list[Any] = [
            r.customer,
            r.customer_code,
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
        self._autofilter("scores", 4 + 2 * len(self._item_keys) + 5)
        self._autofilter("comments", 7)
        self._summary(view)
        self._flags(view)
        self._items(view)
        self._pareto(view)
        self._segments(view)
        self._trend(view)
        self._rejected(view)
        review.write_sheets(self, view)
        try:
            self.wb.close()
        except FileCreateError as exc:  # XlsxWriter wraps the OS error; callers expect OSError
            cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else None
            raise cause or OSError(str(exc)) from None

    def _summary(self, v: ReportView) -> None:
        L, fmt, s = self.lang, self.fmt, v.stats
        ws = self.ws["summary"]
        ws.set_column(0, 0, 28)
        ws.set_column(1, 1, 18)
        ws.set_column(2, 2, 12)
        ws.write_string(0, 0, t("title", L), fmt["title"])
        self.rows["summary"] = review.write_review(self, v, 2)
        figures_top = self.rows["summary"]
        rows: list[tuple[str, Any, Any]] = [
            (t("period", L), v.period, None),
            (t("made_on", L), v.made_on, fmt["date"]),
            (t("rules", L), ", ".join(v.rules_hashes), None),
        ]
        if v.rescored:
            rows.append((t("rescored", L), True, None))
        rows += [
            (t("forms_sent", L), v.forms_sent, None),
            (t("replies_to_forms", L), v.replies_to_forms, None),
            (t("response_rate", L), v.response_rate, fmt["pct"]),
            (t("responses", L), s.responses, None),
            (t("customers", L), s.customers, None),
            (t("superseded", L), s.superseded, None),
            (t("incomplete", L), s.incomplete, None),
            (t("mean_total", L), s.mean_total, fmt["one"]),
            (t("median_total", L), s.median_total, fmt["one"]),
            (t("flagged", L), s.flagged, None),
            (t("flagged_share", L), s.flagged_share, fmt["pct"]),
            (t("previous", L), v.previous.period if v.previous else t("none", L), None),
            (t("previous_mean", L), v.previous.mean_total if v.previous else None, fmt["one"]),
            (t("change_mean", L), v.change.mean_total if v.change else None, fmt["delta"]),
            (t("change_real", L), review.change_verdict(v, L), None),
            (t("rejected_count", L), len(v.rejected), None),
            (t("capa_total", L), v.capa_counts["total"], None),
            (t("capa_open", L), v.capa_counts["open"], None),
            (t("capa_closed", L), v.capa_counts["closed"], None),
            (t("capa_verified", L), v.capa_counts["verified"], None),
            (t("capa_overdue", L), v.capa_counts["overdue"], None),
        ]
        for label, value, f in rows:
            self._write_row("summary", [label, value], [fmt["head"], f])
        self.rows["summary"] += 1
        top = self.rows["summary"]
        self._write_row("summary", [t("grade", L), t("count", L), t("share", L)], [fmt["head"]] * 3)
        for grade in s.grade_counts:
            self._write_row(
                "summary",
                [grade, s.grade_counts[grade], s.grade_shares[grade]],
                [None, None, fmt["pct"]],
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
        ws.insert_chart(figures_top, 4, chart)
        self._print_setup(ws, 0)

    def _flags(self, v: ReportView) -> None:
        """Every flag with the CAPA that follows it up; overdue ones highlighted."""
        L, fmt = self.lang, self.fmt
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
            "repeat_col",
            "comment",
        ]
        self._header(
            "flags", [t(h, L) for h in heads], [30, 10, 8, 14, 16, 12, 14, 18, 11, 9, 18, 40]
        )
        for key, s in v.flagged:
            r = s.response
            for flag in s.flags:
                dept = department_of(flag, self.rules)
                capa = v.capas.get((key, dept))
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
                        t(f"status_{capa.status}", L) if capa else None,
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
                        fmt["bad"] if capa and capa.repeat_of else None,
                        None,
                    ],
                )
        self._autofilter("flags", len(heads))

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
        self._header("items", heads, [22, 7, 8, *[9] * len(levels), *[9] * len(levels), 9, 9, 9, 9])
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
        chart.set_size({"width": 720, "height": 360})
        self.ws["items"].insert_chart(last + 2, 0, chart)
        # Importance (weight) against performance (share of maximum points), one point per item
        share_col = 3 + 2 * len(levels) + 1
        scatter = self.wb.add_chart({"type": "scatter"})
        for row in range(1, len(self.rules.items) + 1):
            scatter.add_series(
                {
                    "name": [name, row, 0],
                    "categories": [name, row, 1, row, 1],
                    "values": [name, row, share_col, row, share_col],
                    "marker": {"type": "circle", "size": 8},
                }
            )
        scatter.set_title({"name": t("scatter_chart", L)})
        scatter.set_x_axis({"name": t("weight", L), "min": 0})
        scatter.set_y_axis({"name": t("share_of_max", L), "num_format": "0%", "min": 0, "max": 1})
        scatter.set_size({"width": 720, "height": 360})
        self.ws["items"].insert_chart(last + 21, 0, scatter)

    def _pareto(self, v: ReportView) -> None:
        L, fmt = self.lang, self.fmt
        self._header(
            "pareto",
            [t("item", L), t("count", L), t("share", L), t("cumulative", L)],
            [22, 8, 9, 11],
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
            }
        )
        line = self.wb.add_chart({"type": "line"})
        line.add_series(
            {
                "name": t("cumulative", L),
                "categories": [name, 1, 0, last, 0],
                "values": [name, 1, 3, last, 3],
                "y2_axis": True,
                "marker": {"type": "circle"},
            }
        )
        bars.combine(line)
        bars.set_title({"name": t("pareto_chart", L)})
        line.set_y2_axis({"num_format": "0%", "max": 1, "min": 0})
        self.ws["pareto"].insert_chart(1, 5, bars)

    def _segments(self, v: ReportView) -> None:
        """Per customer class: replies, mean total, grade shares, worst item, share flagged."""
        L, fmt = self.lang, self.fmt
        grades = list(self.rules.grades)
        heads = [
            t("class", L),
            t("responses", L),
            t("mean_total", L),
            *(f"{g} %" for g in grades),
            t("worst_item", L),
            t("flagged_share", L),
        ]
        self._header("segments", heads, [12, 10, 10, *[8] * len(grades), 22, 12])
        for s in v.segments:
            worst = self._label("item", s.pareto[0].item) if s.pareto else None
            self._write_row(
                "segments",
                [
                    s.period,
                    s.responses,
                    s.mean_total,
                    *(s.grade_shares[g] for g in grades),
                    worst,
                    s.flagged_share,
                ],
                [None, None, fmt["one"], *[fmt["pct"]] * len(grades), None, fmt["pct"]],
            )

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
                "marker": {"type": "circle"},
                "data_labels": {"value": True, "num_format": "0.0"},
            }
        )
        chart.set_title({"name": t("trend_chart", L)})
        chart.set_legend({"none": True})
        chart.set_y_axis({"min": 0, "max": 100})
        self.ws["trend"].insert_chart(last + 2, 0, chart)

    def _rejected(self, v: ReportView) -> None:
        L = self.lang
        self._header(
            "rejected", [t("file", L), t("sheet", L), t("cell", L), t("reason", L)], [40, 14, 8, 90]
        )
        for r in v.rejected:
            self._write_row("rejected", [r.file, r.sheet, r.cell, r.reason])
        self._autofilter("rejected", 4)
