"""The management-review parts of the statistics workbook: the review sentences at the top of the
summary, and the sheets behind them (statistics with intervals and tests, importance and
performance, the p-chart, the segment index, comments by item).

Called by StatisticsWorkbook; written with its formats and helpers so the sheets look alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from csat.analysis import Analysis
from csat.inference import Comparison, Estimate, Verdict
from csat.render.labels import Lang

if TYPE_CHECKING:
    from csat.render.workbook import ReportView, StatisticsWorkbook

TEXT: dict[str, dict[Lang, str]] = {
    "review": {"zh": "管理评审摘要", "en": "Management review"},
    "sheet_statistics": {"zh": "统计检验", "en": "Statistics"},
    "sheet_importance": {"zh": "重要度-表现", "en": "Importance"},
    "sheet_control": {"zh": "控制图", "en": "Control chart"},
    "sheet_index": {"zh": "满意度指数", "en": "Segment index"},
    "sheet_topics": {"zh": "意见分类", "en": "Comments by item"},
    "significant": {"zh": "显著 (p < 0.05)", "en": "significant (p < 0.05)"},
    "within_noise": {"zh": "在随机波动范围内", "en": "within noise"},
    "not_testable": {
        "zh": "无法检验(回复或分组太少)",
        "en": "not testable (too few replies or groups)",
    },
    "few": {"zh": "回复少", "en": "few replies"},
    "figure": {"zh": "指标", "en": "Figure"},
    "value": {"zh": "数值/变化", "en": "Value / change"},
    "low": {"zh": "95%区间下限", "en": "95 % low"},
    "high": {"zh": "95%区间上限", "en": "95 % high"},
    "n": {"zh": "n", "en": "n"},
    "test": {"zh": "检验", "en": "Test"},
    "p": {"zh": "p值", "en": "p"},
    "verdict": {"zh": "结论", "en": "Verdict"},
    "note": {"zh": "备注", "en": "Note"},
    "mean_total": {"zh": "平均得分", "en": "Mean total"},
    "flagged_share": {"zh": "需纠正措施的比例", "en": "Share flagged"},
    "grade_share": {"zh": "等级比例", "en": "Share of grade"},
    "dissatisfied_share": {"zh": "不满意比例", "en": "Share dissatisfied"},
    "nps": {"zh": "净推荐值 NPS", "en": "Net Promoter Score"},
    "chg_paired": {"zh": "变化(两期均回复的顾客)", "en": "Change, customers in both periods"},
    "chg_all": {"zh": "变化(全部回复)", "en": "Change, all replies"},
    "wilcoxon": {"zh": "Wilcoxon符号秩", "en": "Wilcoxon signed-rank"},
    "welch": {"zh": "Welch t", "en": "Welch t"},
    "mcnemar": {"zh": "McNemar精确", "en": "McNemar exact"},
    "newcombe_fisher": {"zh": "Newcombe区间/Fisher", "en": "Newcombe interval, Fisher p"},
    "t": {"zh": "t区间", "en": "t interval"},
    "wilson": {"zh": "Wilson区间", "en": "Wilson interval"},
    "nps_ci": {"zh": "正态区间", "en": "normal interval"},
    "item": {"zh": "调查项目", "en": "Item"},
    "stated": {"zh": "权重(陈述重要度)", "en": "Stated importance (weight)"},
    "derived": {
        "zh": "推导重要度(与总分秩相关)",
        "en": "Derived importance (rank corr. with total)",
    },
    "performance": {"zh": "表现(得分率)", "en": "Performance (share of max)"},
    "comments": {"zh": "意见数", "en": "Comments"},
    "quadrant": {"zh": "象限", "en": "Quadrant"},
    "concentrate_here": {"zh": "重点改进", "en": "concentrate here"},
    "keep_up": {"zh": "继续保持", "en": "keep up the good work"},
    "low_priority": {"zh": "次要", "en": "low priority"},
    "possible_overkill": {"zh": "可能过度投入", "en": "possible overkill"},
    "fix_first": {"zh": "优先改进", "en": "fix first"},
    "basis_derived": {
        "zh": "象限按推导重要度(各项目与总分的秩相关)划分。",
        "en": "Quadrants by derived importance (each item's rank correlation with the total).",
    },
    "basis_stated": {
        "zh": "象限按权重划分：回复少于10份，或有项目的评价没有变化，无法推导重要度。",
        "en": "Quadrants by weight: derived importance needs 10 replies and every item varying.",
    },
    "ipa_chart": {"zh": "重要度-表现分析", "en": "Importance-performance"},
    "period": {"zh": "期间", "en": "Period"},
    "flagged": {"zh": "需纠正措施", "en": "Flagged"},
    "centre": {"zh": "中心线", "en": "Centre"},
    "lcl": {"zh": "下控制限", "en": "Lower limit"},
    "ucl": {"zh": "上控制限", "en": "Upper limit"},
    "outside": {"zh": "超出控制限", "en": "Outside limits"},
    "outside_share": {"zh": "超出控制限的比例", "en": "Share outside limits"},
    "above": {"zh": "高于上限", "en": "above"},
    "below": {"zh": "低于下限", "en": "below"},
    "pchart": {"zh": "需纠正措施比例 p控制图", "en": "p-chart: share flagged"},
    "mean_chart": {"zh": "平均得分及95%区间", "en": "Mean total with 95 % interval"},
    "kind": {"zh": "分类", "en": "By"},
    "class": {"zh": "客户类别", "en": "class"},
    "region": {"zh": "地区", "en": "region"},
    "site": {"zh": "厂区", "en": "site"},
    "segment": {"zh": "分组", "en": "Segment"},
    "index": {"zh": "满意度指数(0-100)", "en": "Index (0-100)"},
    "p_totals": {"zh": "得分与其余比较p", "en": "p totals vs rest"},
    "p_flagged": {"zh": "需纠正比例与其余比较p", "en": "p flagged vs rest"},
    "differs": {"zh": "与其余显著不同", "en": "Differs from the rest"},
    "overall_totals": {
        "zh": "各组得分(Kruskal-Wallis)",
        "en": "Totals across segments (Kruskal-Wallis)",
    },
    "overall_flagged": {
        "zh": "各组需纠正比例(χ²/Fisher)",
        "en": "Share flagged across segments (χ² / Fisher)",
    },
    "customer": {"zh": "客户名称", "en": "Customer"},
    "total": {"zh": "总分", "en": "Total"},
    "grade": {"zh": "等级", "en": "Grade"},
    "rated_bad": {"zh": "该项评为不满意", "en": "Rated this item dissatisfied"},
    "comment": {"zh": "意见", "en": "Comment"},
    "no_item": {"zh": "(未涉及具体项目)", "en": "(no item named)"},
    "yes": {"zh": "是", "en": "yes"},
}


def tx(key: str, lang: Lang) -> str:
    return TEXT[key][lang]


# ---------------------------------------------------------------- sentences


def _num(x: float | None, digits: int = 1, signed: bool = False) -> str:
    if x is None:
        return "—"
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


def _pct(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "—"
    return f"{100 * x:+.1f}" if signed else f"{100 * x:.1f} %"


def _p(p: float | None) -> str:
    if p is None:
        return "p —"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _interval(e: Estimate | Comparison, pct: bool, lang: Lang, points: bool = False) -> str:
    """' (95 % interval a to b)'; `points` for a change of a share (percentage points)."""
    if e.low is None or e.high is None:
        return ""
    if pct:
        lo, hi = f"{100 * e.low:.1f}", f"{100 * e.high:.1f}" + ("" if points else " %")
    else:
        lo, hi = f"{e.low:.1f}", f"{e.high:.1f}"
    return f"（95%区间 {lo} 至 {hi}）" if lang == "zh" else f" (95 % interval {lo} to {hi})"


def _few(n: int, lang: Lang) -> str:
    from csat.inference import FEW

    return f" [{tx('few', lang)}]" if n < FEW else ""


def _verdict(v: Verdict, lang: Lang) -> str:
    return tx(v, lang)


def review_lines(v: ReportView, label: Any, lang: Lang) -> list[str]:
    """The summary as sentences: where we stand, what changed and whether it is real, what to
    fix first, what is out of control, which segment differs, what customers wrote."""
    return [text for text, _ in review(v, label, lang)]


def review(v: ReportView, label: Any, lang: Lang) -> list[tuple[str, bool]]:
    """The review sentences, each with whether it calls for attention (a significant change,
    the item to fix, a period out of control, a segment that differs)."""
    a = v.analysis
    if a is None:
        return []
    zh = lang == "zh"
    out: list[tuple[str, bool]] = []
    m, f = a.mean_total, a.flagged
    if zh:
        head = (
            f"本期 {a.period}：{m.n} 份回复，平均得分 {_num(m.value)}{_interval(m, False, lang)}；"
            f"需纠正措施的顾客 {_pct(f.value)}{_interval(f, True, lang)}。{_few(m.n, lang)}"
        )
    else:
        head = (
            f"{a.period}: {m.n} replies, mean total {_num(m.value)}{_interval(m, False, lang)}; "
            f"{_pct(f.value)} of customers flagged{_interval(f, True, lang)}.{_few(m.n, lang)}"
        )
    out.append((head, False))
    significant = tx("significant", lang)
    out += [(line, significant in line) for line in _change_lines(a, label, lang)]
    out.append((_fix_line(a, label, lang), a.fix_first is not None))
    out.append((_control_line(a, lang), bool(a.out_of_control)))
    differs = any(s.differs for rows in a.segments.values() for s in rows)
    out.append((_segment_line(a, lang), differs))
    out.append((_comment_line(a, label, lang), False))
    if a.nps is not None:
        e = a.nps
        out.append(
            (
                f"净推荐值 NPS {_num(e.value, 0, signed=True)}{_interval(e, False, lang)}，"
                f"{e.n} 人回答（单独报告，不计入得分）。{_few(e.n, lang)}"
                if zh
                else f"Net Promoter Score {_num(e.value, 0, signed=True)}"
                f"{_interval(e, False, lang)} "
                f"from {e.n} answers (reported beside the score, never in it).{_few(e.n, lang)}",
                False,
            )
        )
    return out


def _change_lines(a: Analysis, label: Any, lang: Lang) -> list[str]:
    zh = lang == "zh"
    c = a.change
    if c is None:
        return [
            "没有上期数据，无法比较变化。"
            if zh
            else "No previous period recorded: no change to judge."
        ]
    pt, at, fl = c.paired_total, c.all_total, c.flagged
    lines = []
    if pt.n:
        lines.append(
            f"与上期 {c.previous} 比较：两期都回复的 {pt.n} 位顾客平均变化 "
            f"{_num(pt.change, signed=True)} 分"
            f"{_interval(pt, False, lang)}，Wilcoxon {_p(pt.p)}：{_verdict(pt.verdict, lang)}。"
            f"{_few(pt.n, lang)}"
            if zh
            else f"Against {c.previous}: the {pt.n} customers who answered both periods moved "
            f"{_num(pt.change, signed=True)} points{_interval(pt, False, lang)}, Wilcoxon "
            f"{_p(pt.p)}: {_verdict(pt.verdict, lang)}.{_few(pt.n, lang)}"
        )
    else:
        lines.append(
            f"与上期 {c.previous} 比较：没有两期都回复的顾客。"
            if zh
            else f"Against {c.previous}: no customer answered both periods."
        )
    few = f" [{tx('few', lang)}]" if at.few else ""
    lines.append(
        f"全部回复：平均得分变化 {_num(at.change, signed=True)}{_interval(at, False, lang)}，"
        f"{_p(at.p)}：{_verdict(at.verdict, lang)}；需纠正比例变化 {_pct(fl.change, True)} 个百分点"
        f"{_interval(fl, True, lang, points=True)}：{_verdict(fl.verdict, lang)}。{few}"
        if zh
        else f"All replies: mean total {_num(at.change, signed=True)}{_interval(at, False, lang)}, "
        f"{_p(at.p)}: {_verdict(at.verdict, lang)}; share flagged {_pct(fl.change, True)} "
        f"points{_interval(fl, True, lang, points=True)}: {_verdict(fl.verdict, lang)}.{few}"
    )
    moved = []
    for i in a.items:
        test = i.paired if i.paired is not None and i.paired.n else i.all_replies
        if test is not None and test.verdict == "significant":
            name = "McNemar" if test.test == "mcnemar" else "Fisher"
            pts = "个百分点" if zh else " points"
            moved.append(
                f"{label('item', i.item)} {_pct(test.change, True)}{pts} ({name} {_p(test.p)})"
            )
    if moved:
        lines.append(
            ("不满意比例显著变化的项目：" if zh else "Share dissatisfied changed significantly: ")
            + ("；".join(moved) if zh else "; ".join(moved))
            + (f"：{tx('significant', lang)}。" if zh else f": {tx('significant', lang)}.")
        )
    else:
        lines.append(
            "各项目不满意比例的变化均在随机波动范围内。"
            if zh
            else "No item's share dissatisfied changed beyond noise."
        )
    return lines


def _fix_line(a: Analysis, label: Any, lang: Lang) -> str:
    zh = lang == "zh"
    basis = {"derived": ("推导重要度", "derived importance"), "stated": ("权重", "weight")}
    b = basis[a.importance_basis][0 if zh else 1]
    if a.fix_first is None:
        return (
            f"优先改进：没有既重要又表现弱的项目（按{b}）。"
            if zh
            else f"Fix first: no item is both important and weak (by {b})."
        )
    i = next(x for x in a.items if x.item == a.fix_first)
    imp = (
        f"ρ = {i.derived:.2f}"
        if a.importance_basis == "derived" and i.derived
        else f"{i.stated:.0%}"
    )
    d = i.dissatisfied
    if zh:
        return (
            f"优先改进：{label('item', i.item)} —— 重要（{b} {imp}）且表现弱（得分率 "
            f"{_pct(i.performance)}）；不满意 {_pct(d.value)}{_interval(d, True, lang)}；"
            f"相关意见 {i.comments} 条。"
        )
    return (
        f"Fix first: {label('item', i.item)} — important ({b} {imp}) and weak "
        f"({_pct(i.performance)} of max); {_pct(d.value)} dissatisfied"
        f"{_interval(d, True, lang)}; {i.comments} comment{'' if i.comments == 1 else 's'} "
        "about it."
    )


def _control_line(a: Analysis, lang: Lang) -> str:
    zh = lang == "zh"
    if len(a.control) < 2:
        return (
            "控制图：只有一个期间，尚无控制限。"
            if zh
            else "Control chart: one period only, no control limits yet."
        )
    out = a.out_of_control
    if not out:
        return (
            f"控制图：{len(a.control)} 个期间的需纠正比例均在控制限内。"
            if zh
            else "Control chart: the share flagged is within its limits in "
            + ("both periods." if len(a.control) == 2 else f"all {len(a.control)} periods.")
        )
    parts = []
    for p in out:
        limit = p.upper if p.outside == "above" else p.lower
        assert p.outside is not None
        parts.append(f"{p.period} {_pct(p.share)} {tx(p.outside, lang)} {_pct(limit)}")
    return (
        ("控制图：超出控制限的期间：" + "；".join(parts) + "。")
        if zh
        else ("Control chart, outside the limits: " + "; ".join(parts) + ".")
    )


def _segment_line(a: Analysis, lang: Lang) -> str:
    zh = lang == "zh"
    parts = []
    for kind, rows in a.segments.items():
        for s in rows:
            if s.differs:
                parts.append(
                    f"{tx(kind, lang)} {s.name}（指数 {_num(s.index.value)}，"
                    f"需纠正 {_pct(s.flagged.value)}）"
                    if zh
                    else f"{tx(kind, lang)} {s.name} (index {_num(s.index.value)}, "
                    f"{_pct(s.flagged.value)} flagged)"
                )
    testable = [
        t
        for tests in a.segment_tests.values()
        for t in (tests.totals, tests.flagged)
        if t.verdict != "not_testable"
    ]
    if not parts and not testable:
        return (
            "分组：无法比较(只有一个客户类别和地区；"
            "用 csat survey 记录发出的调查表可按类别/地区分组)。"
            if zh
            else "Segments: not comparable (one customer class and region only; forms recorded "
            "by csat survey give each customer's class and region)."
        )
    if not parts:
        if "site" in a.segments:
            return (
                "分组：没有客户类别、地区或厂区与其余显著不同。"
                if zh
                else "Segments: no customer class, region or site differs significantly from "
                "the rest."
            )
        return (
            "分组：没有客户类别或地区与其余显著不同。"
            if zh
            else "Segments: no customer class or region differs significantly from the rest."
        )
    return (
        ("与其余显著不同的分组：" + "；".join(parts) + "。")
        if zh
        else ("Differs significantly from the rest: " + "; ".join(parts) + ".")
    )


def _comment_line(a: Analysis, label: Any, lang: Lang) -> str:
    zh = lang == "zh"
    top = [g for g in a.comments if g.item][:3]
    if not a.comment_count:
        return "本期没有顾客意见。" if zh else "No comments this period."
    about = ("、" if zh else ", ").join(f"{label('item', g.item)} ({g.count})" for g in top)
    if zh:
        return f"顾客意见 {a.comment_count} 条" + (f"，最多涉及：{about}。" if top else "。")
    plural = "" if a.comment_count == 1 else "s"
    return f"{a.comment_count} comment{plural}" + (f"; most about {about}." if top else ".")


# ---------------------------------------------------------------- sheets


def change_verdict(v: ReportView, lang: Lang) -> str | None:
    """One cell beside the summary's change of the mean total: is it real?"""
    a = v.analysis
    if a is None or a.change is None:
        return None
    c = a.change.paired_total if a.change.paired_total.n else a.change.all_total
    test = tx(c.test, lang)
    return f"{tx(c.verdict, lang)} ({test}, n = {c.n}, {_p(c.p)})"


def write_review(book: StatisticsWorkbook, v: ReportView, row: int) -> int:
    """The review sentences on the summary sheet from `row`; returns the next free row."""
    lines = review(v, book._label, book.lang)
    if not lines:
        return row
    ws = book.ws["summary"]
    ws.write_string(row, 0, tx("review", book.lang), book.fmt["title"])
    notable = book.wb.add_format({"bold": True, "font_color": "#9C0006"})
    for i, (line, attention) in enumerate(lines, start=1):
        ws.write_string(row + i, 0, line, notable if attention else None)
    return row + len(lines) + 2


def write_sheets(book: StatisticsWorkbook, v: ReportView) -> None:
    """The sheets behind the review, after the workbook's own."""
    a = v.analysis
    if a is None:
        return
    for name in ("statistics", "importance", "control", "index", "topics"):
        book.ws[name] = book.wb.add_worksheet(tx(f"sheet_{name}", book.lang))
        book.ws[name].set_row(0, 44)  # room for the wrapped column heads
        book.rows[name] = 0
    _statistics(book, a)
    _importance(book, a)
    _control(book, a)
    _index(book, a)
    _topics(book, a)


def _statistics(book: StatisticsWorkbook, a: Analysis) -> None:
    L, fmt = book.lang, book.fmt
    heads = ["figure", "value", "low", "high", "n", "test", "p", "verdict", "note"]
    book._header("statistics", [tx(h, L) for h in heads], [40, 12, 11, 11, 7, 26, 9, 26, 10])
    pfmt = book.wb.add_format({"num_format": "0.000"})

    def estimate(name: str, e: Estimate, pct: bool, test: str) -> None:
        f = fmt["pct"] if pct else fmt["one"]
        book._write_row(
            "statistics",
            [
                name,
                e.value,
                e.low,
                e.high,
                e.n,
                tx(test, L),
                None,
                None,
                _few(e.n, L).strip(" []") or None,
            ],
            [None, f, f, f, None, None, None, None, None],
        )

    def comparison(name: str, c: Comparison, pct: bool) -> None:
        f = fmt["delta_pct"] if pct else fmt["delta"]
        bad = c.verdict == "significant"
        book._write_row(
            "statistics",
            [
                name,
                c.change,
                c.low,
                c.high,
                c.n,
                tx(c.test, L),
                c.p,
                tx(c.verdict, L),
                tx("few", L) if c.few else None,
            ],
            [None, f, f, f, None, None, pfmt, fmt["bad"] if bad else None, None],
        )

    estimate(tx("mean_total", L), a.mean_total, False, "t")
    estimate(tx("flagged_share", L), a.flagged, True, "wilson")
    for g, e in a.grades.items():
        estimate(f"{tx('grade_share', L)} {g}", e, True, "wilson")
    for i in a.items:
        estimate(
            f"{tx('dissatisfied_share', L)}: {book._label('item', i.item)}",
            i.dissatisfied,
            True,
            "wilson",
        )
    if a.nps is not None:
        estimate(tx("nps", L), a.nps, False, "nps_ci")
    if a.change is None:
        return
    c = a.change
    book.rows["statistics"] += 1
    comparison(f"{tx('chg_paired', L)}: {tx('mean_total', L)}", c.paired_total, False)
    comparison(f"{tx('chg_all', L)}: {tx('mean_total', L)}", c.all_total, False)
    comparison(f"{tx('chg_all', L)}: {tx('flagged_share', L)}", c.flagged, True)
    for i in a.items:
        item = book._label("item", i.item)
        if i.paired is not None:
            comparison(
                f"{tx('chg_paired', L)}: {tx('dissatisfied_share', L)} {item}", i.paired, True
            )
        if i.all_replies is not None:
            comparison(
                f"{tx('chg_all', L)}: {tx('dissatisfied_share', L)} {item}", i.all_replies, True
            )


def _importance(book: StatisticsWorkbook, a: Analysis) -> None:
    L, fmt = book.lang, book.fmt
    heads = [
        tx("item", L),
        tx("stated", L),
        tx("derived", L),
        tx("p", L),
        tx("performance", L),
        tx("dissatisfied_share", L),
        tx("low", L),
        tx("high", L),
        tx("comments", L),
        tx("quadrant", L),
        tx("fix_first", L),
    ]
    book._header("importance", heads, [22, 12, 14, 8, 12, 11, 10, 10, 8, 20, 10])
    pfmt = book.wb.add_format({"num_format": "0.000"})
    two = book.wb.add_format({"num_format": "0.00"})
    for i in a.items:
        first = i.item == a.fix_first
        book._write_row(
            "importance",
            [
                book._label("item", i.item),
                i.stated,
                i.derived,
                i.derived_p,
                i.performance,
                i.dissatisfied.value,
                i.dissatisfied.low,
                i.dissatisfied.high,
                i.comments,
                tx(i.quadrant, L) if i.quadrant else None,
                tx("fix_first", L) if first else None,
            ],
            [
                fmt["bad"] if first else None,
                fmt["pct"],
                two,
                pfmt,
                fmt["pct"],
                fmt["pct"],
                fmt["pct"],
                fmt["pct"],
                None,
                fmt["bad"] if i.quadrant == "concentrate_here" else None,
                fmt["bad"] if first else None,
            ],
        )
    last = book.rows["importance"] - 1
    name = book.ws["importance"].get_name()
    x_col = 2 if a.importance_basis == "derived" else 1
    chart = book.wb.add_chart({"type": "scatter"})
    for row in range(1, last + 1):
        item = a.items[row - 1]
        chart.add_series(
            {
                "name": [name, row, 0],
                "categories": [name, row, x_col, row, x_col],
                "values": [name, row, 4, row, 4],
                "marker": {
                    "type": "diamond" if item.item == a.fix_first else "circle",
                    "size": 11 if item.item == a.fix_first else 8,
                },
                "data_labels": {"series_name": True, "position": "right"},
            }
        )
    chart.set_title({"name": tx("ipa_chart", L)})
    chart.set_x_axis({"name": heads[x_col], "num_format": "0.00" if x_col == 2 else "0%"})
    chart.set_y_axis({"name": heads[4], "num_format": "0%", "min": 0, "max": 1})
    chart.set_legend({"none": True})
    chart.set_size({"width": 720, "height": 400})
    book.ws["importance"].write_string(last + 2, 0, tx(f"basis_{a.importance_basis}", L))
    book.ws["importance"].insert_chart(last + 4, 0, chart)


def _control(book: StatisticsWorkbook, a: Analysis) -> None:
    L, fmt = book.lang, book.fmt
    heads = ["period", "n", "flagged", "flagged_share", "centre", "lcl", "ucl", "outside"]
    heads2 = ["mean_total", "low", "high", "outside_share"]
    book._header(
        "control",
        [tx(h, L) for h in heads + heads2],
        [10, 7, 9, 12, 9, 11, 11, 12, 10, 11, 11, 14],
    )
    bad_pct = book.wb.add_format(
        {"num_format": "0.0%", "bg_color": "#FFC7CE", "font_color": "#9C0006"}
    )
    means = dict(a.trend_means)
    for p in a.control:
        m = means.get(p.period, Estimate(None, None, None, 0))
        out = tx(p.outside, L) if p.outside else None
        book._write_row(
            "control",
            [
                p.period,
                p.n,
                p.count,
                p.share,
                p.centre,
                p.lower,
                p.upper,
                out,
                m.value,
                m.low,
                m.high,
                p.share if out else None,  # its own series: red points on the chart
            ],
            [
                None,
                None,
                None,
                bad_pct if out else fmt["pct"],
                fmt["pct"],
                fmt["pct"],
                fmt["pct"],
                fmt["bad"] if out else None,
                fmt["one"],
                fmt["one"],
                fmt["one"],
                bad_pct if out else None,
            ],
        )
    last = book.rows["control"] - 1
    if last < 1:
        return
    name = book.ws["control"].get_name()
    chart = book.wb.add_chart({"type": "line"})
    cats = [name, 1, 0, last, 0]
    chart.add_series(
        {
            "name": [name, 0, 3],
            "categories": cats,
            "values": [name, 1, 3, last, 3],
            "marker": {"type": "circle", "size": 7},
            "data_labels": {"value": True, "num_format": "0%"},
        }
    )
    for col, colour, dash in (
        (4, "#404040", "solid"),
        (5, "#C62828", "dash"),
        (6, "#C62828", "dash"),
    ):
        chart.add_series(
            {
                "name": [name, 0, col],
                "categories": cats,
                "values": [name, 1, col, last, col],
                "line": {"color": colour, "dash_type": dash, "width": 1.25},
                "marker": {"type": "none"},
            }
        )
    if a.out_of_control:
        chart.add_series(
            {
                "name": [name, 0, 11],
                "categories": cats,
                "values": [name, 1, 11, last, 11],
                "line": {"none": True},
                "marker": {
                    "type": "diamond",
                    "size": 11,
                    "fill": {"color": "#C62828"},
                    "border": {"color": "#C62828"},
                },
            }
        )
    chart.set_title({"name": tx("pchart", L)})
    chart.set_y_axis({"num_format": "0%", "min": 0})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 720, "height": 270})
    book.ws["control"].insert_chart(last + 2, 0, chart)
    mean = book.wb.add_chart({"type": "line"})
    mean.add_series(
        {
            "name": [name, 0, 8],
            "categories": cats,
            "values": [name, 1, 8, last, 8],
            "marker": {"type": "circle"},
            "data_labels": {"value": True, "num_format": "0.0"},
        }
    )
    for col in (9, 10):
        mean.add_series(
            {
                "name": [name, 0, col],
                "categories": cats,
                "values": [name, 1, col, last, col],
                "line": {"color": "#7F7F7F", "dash_type": "dash", "width": 1},
                "marker": {"type": "none"},
            }
        )
    mean.set_title({"name": tx("mean_chart", L)})
    lows = [m.low if m.low is not None else m.value for _, m in a.trend_means]
    floor = min((x for x in lows if x is not None), default=0.0)
    mean.set_y_axis({"min": max(0, int(floor // 10) * 10 - 10), "max": 100})
    mean.set_legend({"position": "bottom"})
    mean.set_size({"width": 720, "height": 270})
    book.ws["control"].insert_chart(last + 17, 0, mean)


def _index(book: StatisticsWorkbook, a: Analysis) -> None:
    L, fmt = book.lang, book.fmt
    heads = [
        "kind",
        "segment",
        "n",
        "index",
        "low",
        "high",
        "flagged_share",
        "low",
        "high",
        "p_totals",
        "p_flagged",
        "differs",
        "note",
    ]
    book._header(
        "index", [tx(h, L) for h in heads], [10, 16, 7, 12, 10, 10, 12, 10, 10, 12, 12, 12, 10]
    )
    pfmt = book.wb.add_format({"num_format": "0.000"})
    for kind, rows in a.segments.items():
        for s in rows:
            book._write_row(
                "index",
                [
                    tx(kind, L),
                    s.name,
                    s.index.n,
                    s.index.value,
                    s.index.low,
                    s.index.high,
                    s.flagged.value,
                    s.flagged.low,
                    s.flagged.high,
                    s.totals_p,
                    s.flagged_p,
                    tx("yes", L) if s.differs else None,
                    _few(s.index.n, L).strip(" []") or None,
                ],
                [
                    None,
                    None,
                    None,
                    fmt["one"],
                    fmt["one"],
                    fmt["one"],
                    fmt["pct"],
                    fmt["pct"],
                    fmt["pct"],
                    pfmt,
                    pfmt,
                    fmt["bad"] if s.differs else None,
                    None,
                ],
            )
    book.rows["index"] += 1
    for kind, tests in a.segment_tests.items():
        for key, test in (("overall_totals", tests.totals), ("overall_flagged", tests.flagged)):
            book._write_row(
                "index",
                [
                    tx(kind, L),
                    tx(key, L),
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    test.p,
                    None,
                    tx(test.verdict, L),
                ],
                [
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    pfmt,
                    None,
                    fmt["bad"] if test.verdict == "significant" else None,
                ],
            )


def _topics(book: StatisticsWorkbook, a: Analysis) -> None:
    """Counts per item beside its dissatisfied share, then the comment texts grouped by item."""
    L, fmt = book.lang, book.fmt
    heads = [tx(h, L) for h in ("item", "comments", "dissatisfied_share", "low", "high")]
    book._header("topics", heads, [30, 9, 12, 14, 70])
    for it in a.items:
        d = it.dissatisfied
        book._write_row(
            "topics",
            [book._label("item", it.item), it.comments, d.value, d.low, d.high],
            [None, None, fmt["pct"], fmt["pct"], fmt["pct"]],
        )
    book.rows["topics"] += 1
    book._subheader(
        "topics", [tx(h, L) for h in ("customer", "total", "grade", "rated_bad", "comment")]
    )
    for group in a.comments:
        name = book._label("item", group.item) if group.item else tx("no_item", L)
        book._title_row("topics", f"{name} ({group.count})")
        for c in group.comments:
            rated = bool(group.item) and group.item in c.dissatisfied
            book._write_row(
                "topics",
                [c.customer, c.total, c.grade, tx("yes", L) if rated else None, c.text],
                [None, fmt["one"], None, fmt["bad"] if rated else None, None],
            )
