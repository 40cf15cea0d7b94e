"""FORMATS.md §3: tables companies make themselves — title rows, two-row merged headers, the
clerk's columns, summary and sign-off rows, formulas, several sheets, whole-question headers,
zh-Hant. Expected totals from SPEC §2's points table:
quality 25/20/16/10/5, rohs 20/18/16/10/4, service 20/18/16/12/6, improvement 15/13/11/8/4,
packaging 10/9/8/6/3, delivery_date 5/4/3/2/1, delivery_quantity 5/4/3/2/1.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from formats_builders import (
    CSAT,
    CSAT_HANT,
    EN_SATISFACTION,
    ITEMS_HANT,
    ITEMS_ZH,
    levels,
    notices,
    save,
)

from csat import parse_period, score_files
from csat.config import Rules

H1 = parse_period("2024H1")
VS, S, N, D, VD = "very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied"
vs, s, n, d, vd = CSAT

SUMMARY_LABELS = ["合计", "总计", "平均", "平均分", "小计", "Total", "Average"]
SIGN_OFF = "制表：张三    审核：李四    批准：王五"
NOTE = "注：评价等级 非常满意 较满意 一般 不满意 非常不满意，请在相应栏内填写。"


def _company_table() -> tuple[list[list[Any]], list[str], dict[str, tuple[str, Any]]]:
    """Title rows, a two-row merged header (客户名称 over rows 3-4, 评价项目 over the items),
    the clerk's columns, three replies in rows 5-7, then rows that are not replies."""
    rows: list[list[Any]] = [
        ["2024年上半年顾客满意度调查汇总表"],
        ["部门：业务部"],
        ["序号", "客户名称", "联系人", "电话", "评价项目", *[None] * 6, "总分", "等级", "备注"],
        [None, None, None, None, *ITEMS_ZH, None, None, None],
        [1, "深圳市华强电子有限公司", "张经理", "0755-12345678",
         vs, s, s, n, vs, s, s, None, "B", None],
        [2, "东莞精密模具有限公司", "李工", "0769-87654321",
         s, None, d, s, s, n, vs, 82, "B", None],  # F6 is a formula (below)
        [3, None, "王女士", "0512-11112222", *[vs] * 7, 100, "A", "交期需要改善"],
        [],
        [4],  # only a sequence number: a blank row
    ]  # fmt: skip
    for i, label in enumerate(SUMMARY_LABELS):
        # Some clerks write the label in 序号, some in 客户名称; the cells hold sums or means.
        label_cells = [label, None] if i % 2 else [None, label]
        rows.append([*label_cells, None, None, *[4.33] * 7, 91.0, None, None])
    rows += [[SIGN_OFF], [NOTE]]
    merges = ["A1:N1", "A3:A4", "B3:B4", "C3:C4", "D3:D4", "E3:K3", "L3:L4", "M3:M4", "N3:N4"]
    formulas = {
        "L5": ("=90", 90),  # the clerk's 总分: a formula with its cached value
        "F6": ('=IF(1,"非常满意","")', "非常满意"),  # an item cell that is a formula
        "B7": ('="苏州科创电子科技有限公司"', "苏州科创电子科技有限公司"),
    }
    return rows, merges, formulas


def test_company_table_two_row_merged_header_and_summary_rows(rules: Rules, tmp_path: Path) -> None:
    rows, merges, formulas = _company_table()
    path = save(
        tmp_path / "汇总表.xlsx",
        {"2024上半年": rows},
        merges={"2024上半年": merges},
        formulas={"2024上半年": formulas},
    )
    run = score_files([str(path)], rules, H1)
    assert run.rejected == []  # summary, sign-off and note rows are never rejected either
    assert [s.response.customer for s in run.scored] == [
        "深圳市华强电子有限公司",
        "东莞精密模具有限公司",
        "苏州科创电子科技有限公司",  # the cached value of a formula
    ]
    a, b, c = run.scored
    assert [x.response.source.row for x in run.scored] == [5, 6, 7]
    # 25 + 18 + 18 + 11 + 10 + 4 + 4 = 90 -> B; the clerk's 总分/等级 columns are not items
    assert (a.total, a.grade, a.complete) == (90.0, "B", True)
    assert levels(b) == [S, VS, D, S, S, N, VS]  # F6's cached 非常满意
    # 20 + 20 + 12 + 13 + 9 + 3 + 5 = 82 -> B, 不满意 on service flagged
    assert (b.total, b.grade) == (82.0, "B")
    assert [(f.type, f.item) for f in b.flags] == [("dissatisfied_item", "service")]
    assert (c.total, c.response.comments) == (100.0, "交期需要改善")  # 备注 is a comments header
    assert all(x.response.customer_code is None for x in run.scored)  # 电话 is no code

    # 7 summary rows + the sign-off line + the note: skipped, never scored, and counted in
    # the notices (10 when the blank row holding only 序号 4 is counted with them).
    sheet = notices(run, "2024上半年")
    skipped = [m for m in sheet if "skip" in m.message.lower()]
    first_numbers = [re.search(r"\d+", m.message) for m in skipped]
    counted = {int(x.group()) for x in first_numbers if x}
    assert len(skipped) in (9, 10) or counted & {9, 10}, sheet


@pytest.mark.parametrize(
    "label", [*SUMMARY_LABELS, SIGN_OFF, NOTE, "制表:", "审核人：李四"], ids=lambda s: s[:6]
)
def test_rows_that_are_not_replies_are_skipped(rules: Rules, tmp_path: Path, label: str) -> None:
    header = ["序号", "客户名称", *ITEMS_ZH]
    rows: list[list[Any]] = [
        header,
        [1, "甲公司", *[vs] * 7],
        [None, label, *[4.33] * 7] if label in SUMMARY_LABELS else [label],
    ]
    path = save(tmp_path / "t.xlsx", {"Sheet1": rows})
    run = score_files([str(path)], rules, H1)
    assert [x.response.customer for x in run.scored] == ["甲公司"]
    assert run.rejected == []
    assert any("skip" in m.message.lower() for m in notices(run, "Sheet1"))


@pytest.mark.parametrize(
    ("customer", "date_header", "items", "words"),
    [
        ("客户名称", "回复日期", [f"您对我司{i}的满意度" for i in ITEMS_ZH], CSAT),
        ("客戶名稱", "回覆日期", [f"您對我司{i}的滿意度" for i in ITEMS_HANT], CSAT_HANT),
        ("客戶名稱", "回覆日期", ITEMS_HANT, CSAT_HANT),
    ],
    ids=["zh-question", "zh-Hant-question", "zh-Hant"],
)
def test_headers_as_whole_questions_and_zh_hant(
    rules: Rules, tmp_path: Path, customer: str, date_header: str, items: list[str],
    words: list[str],
) -> None:  # fmt: skip
    w_vs, w_s, w_n, w_d, _ = words
    rows: list[list[Any]] = [
        ["顧客滿意度調查" if words is CSAT_HANT else "顾客满意度调查"],
        ["序号", customer, date_header, *items],
        [1, "華強電子", "2024/6/12", w_vs, w_s, w_s, w_n, w_vs, w_s, w_s],
        [2, "精密模具", "2024-06-13", w_s, w_s, w_d, w_s, w_s, w_n, w_vs],
    ]
    path = save(tmp_path / "q.xlsx", {"Sheet1": rows})
    run = score_files([str(path)], rules)
    assert run.rejected == []
    first, second = run.scored
    assert levels(first) == [VS, S, S, N, VS, S, S]
    # 25 + 18 + 18 + 11 + 10 + 4 + 4 = 90
    assert (first.total, first.response.date, first.response.period) == (
        90.0,
        date(2024, 6, 12),
        "2024H1",
    )
    # 20 + 18 + 12 + 13 + 9 + 3 + 5 = 80 -> C
    assert (second.total, second.grade) == (80.0, "C")
    assert not any("no column" in m.message for m in notices(run, "Sheet1"))


def test_several_sheets_and_empty_ones(rules: Rules, tmp_path: Path) -> None:
    """One sheet per month or region; empty extra sheets skipped silently."""
    header = ["客户名称", "日期", *ITEMS_ZH]
    sheets = {
        "1月": [["一月份满意度调查"], header, ["甲公司", "2024-01-15", *[vs] * 7]],
        "2月": [header, ["乙公司", "2024-02-20", *[s] * 7], [], ["丙公司", "2024-02-21", *[n] * 7]],
        "Sheet3": [],
        "华南区": [header, ["丁公司", "2024-03-01", *[d] * 7]],
    }
    path = save(tmp_path / "months.xlsx", sheets)
    run = score_files([str(path)], rules)
    assert run.rejected == []
    got = {(x.response.source.sheet, x.response.customer): x.total for x in run.scored}
    # one level everywhere gives that level's column sum: 100 / 86 / 73 / 50
    assert got == {
        ("1月", "甲公司"): 100.0,
        ("2月", "乙公司"): 86.0,
        ("2月", "丙公司"): 73.0,
        ("华南区", "丁公司"): 50.0,
    }
    assert not [m for m in notices(run) if m.sheet == "Sheet3"]


def test_missing_item_column_is_a_notice_naming_the_headers(rules: Rules, tmp_path: Path) -> None:
    """A sheet without a column for an item: read with it unanswered, and a notice names the
    item and the header cells that matched nothing."""
    header = ["序号", "客户名称", "回复日期", *ITEMS_ZH[:4], "物流", *ITEMS_ZH[5:]]
    rows: list[list[Any]] = [header, [1, "甲公司", "2024-06-12", *[vs] * 7]]
    path = save(tmp_path / "lost.xlsx", {"Sheet1": rows})
    run = score_files([str(path)], rules)
    [got] = run.scored
    assert got.items["packaging"].level is None and not got.complete
    assert got.total == 100.0  # 90 of 90 answered weight, rescaled
    [lost] = [m for m in notices(run, "Sheet1") if "包装运输" in m.message]
    assert lost.file == str(path)
    assert "H1" in lost.message and "物流" in lost.message, lost.message


def test_customers_never_from_person_or_phone_columns(rules: Rules, tmp_path: Path) -> None:
    """联系人 and 电话 are the clerk's columns: a table without a customer column is refused
    rather than scored under a contact person's name."""
    rows: list[list[Any]] = [
        ["序号", "联系人", "电话", *ITEMS_ZH],
        [1, "张经理", "0755-1234", *[vs] * 7],
    ]
    path = save(tmp_path / "nocust.xlsx", {"Sheet1": rows})
    run = score_files([str(path)], rules, H1)
    assert run.scored == []
    assert run.rejected and all("customer" in r.reason for r in run.rejected)


def test_numbered_english_question_headers(rules: Rules, tmp_path: Path) -> None:
    """Another platform's pattern (FORMATS §2, last point): `Q3.` / `3.` numbering, question text
    containing the item's name, metadata first."""
    header = [
        "Response ID",
        "Submitted at",
        "Q1. Company",
        "Q2. How satisfied are you with our product quality?",
        "Q3. How do you rate our RoHS compliance?",
        "4. Service",
        "5. Improvement responsiveness",
        "6. Packaging and transport",
        "7. Delivery date",
        "8. Delivery quantity",
    ]
    vs, s, n = EN_SATISFACTION[:3]
    rows: list[list[Any]] = [
        header,
        ["r1", "2024-06-12 10:00:00", "ACME Ltd.", s, s, vs, n, s, s, s],
    ]
    run = score_files([str(save(tmp_path / "q.xlsx", {"Sheet1": rows}))], rules, H1)
    assert run.rejected == []
    [got] = run.scored
    assert got.response.customer == "ACME Ltd."
    # 20 + 18 + 20 + 11 + 9 + 4 + 4 = 86
    assert (got.total, got.complete) == (86.0, True)


def test_a_header_naming_two_items_matches_neither(rules: Rules, tmp_path: Path) -> None:
    """`您对我司交付日期和交付数量的满意度` contains two items' names: it is neither, and the
    notices name both items and that header cell."""
    header = ["客户名称", *ITEMS_ZH[:5], "您对我司交付日期和交付数量的满意度"]
    rows: list[list[Any]] = [header, ["甲公司", *[vs] * 6]]
    path = save(tmp_path / "two.xlsx", {"Sheet1": rows})
    run = score_files([str(path)], rules, H1)
    [got] = run.scored
    assert got.items["delivery_date"].level is None
    assert got.items["delivery_quantity"].level is None
    # answered 25 + 20 + 20 + 15 + 10 = 90 of weight 90 -> 100, incomplete
    assert (got.total, got.complete) == (100.0, False)
    sheet = notices(run, "Sheet1")
    for item in ("交付日期", "交付数量"):
        assert any(item in m.message and "G1" in m.message for m in sheet), sheet


def test_formula_without_a_saved_value_is_not_read_as_unanswered(
    rules: Rules, tmp_path: Path
) -> None:
    """A workbook written by a program that never calculated it (ERP exports, scripts) holds
    formulas with no saved value: the answer exists but cannot be seen. Reading it as
    unanswered would silently rescale the customer; it is refused naming the cell instead."""
    rows: list[list[Any]] = [["客户名称", *ITEMS_ZH], ["甲公司", None, *[vs] * 6]]
    path = tmp_path / "uncalculated.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    ws["B2"] = '=IF(1,"较满意","")'  # openpyxl saves the formula only, never its value
    wb.save(path)
    run = score_files([str(path)], rules, H1)
    assert run.scored == []
    [rej] = run.rejected
    assert (rej.sheet, rej.cell) == ("Sheet", "B2") and "formula" in rej.reason.lower()


@pytest.mark.parametrize(
    "label", ["合计(7家)", "平均（四舍五入）", "平均得分", "本期平均", "Overall average"]
)
def test_summary_rows_with_whole_number_values_are_never_customers(
    rules: Rules, tmp_path: Path, label: str
) -> None:
    """A summary row whose cells happen to be whole numbers 1-5 (rounded means, modes) looks
    like a reply: its label (a summary word with a note, or inside a phrase) decides."""
    rows: list[list[Any]] = [
        ["序号", "客户名称", *ITEMS_ZH],
        [1, "甲公司", *[vs] * 7],
        [2, "乙公司", *[s] * 7],
        [None, label, *[4] * 7],
    ]
    run = score_files([str(save(tmp_path / "t.xlsx", {"Sheet1": rows}))], rules, H1)
    assert [x.response.customer for x in run.scored] == ["甲公司", "乙公司"]
    assert run.rejected == []
    assert any("skip" in m.message.lower() for m in notices(run, "Sheet1"))
