"""FORMATS.md §4: per-customer forms — labels with the value beside or after a colon, every kind
of mark under level columns, options inline in one cell, a printed options column beside the
answer, and marks csat cannot see (shapes, fill colour) refused rather than read as nothing.

Every form here carries the same answers (the 东莞精密 sample): quality satisfied 20, rohs very
satisfied 20, service satisfied 18, improvement dissatisfied 8, packaging satisfied 9,
delivery_date neutral 3, delivery_quantity satisfied 4: 20+20+18+8+9+3+4 = 82 -> B, with
improvement flagged.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from formats_builders import (
    CSAT,
    CSAT_HANT,
    EN_SATISFACTION,
    ITEMS_EN,
    ITEMS_HANT,
    ITEMS_ZH,
    PLATFORM,
    PROCEDURE,
    level_form,
    levels,
    save,
)
from openpyxl.styles import PatternFill

from csat import score_files
from csat.config import Rules

VS, S, N, D, VD = "very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied"
# item index -> level index (0 = best): the answers described above
MARKS = {0: 1, 1: 0, 2: 1, 3: 3, 4: 1, 5: 2, 6: 1}
EXPECTED = [S, VS, S, D, S, N, S]


def _check_82(scored: Any) -> None:
    assert levels(scored) == EXPECTED
    # 20 + 20 + 18 + 8 + 9 + 3 + 4 = 82 -> B
    assert (scored.total, scored.grade, scored.complete) == (82.0, "B", True)
    assert [(f.type, f.item) for f in scored.flags] == [("dissatisfied_item", "improvement")]


@pytest.mark.parametrize(
    ("label", "value", "shown"),
    [
        ("客户名称:", "东莞精密模具有限公司", "东莞精密模具有限公司"),
        ("单位名称：", "东莞精密模具有限公司", "东莞精密模具有限公司"),
        ("单位名称：东莞精密模具有限公司", None, "东莞精密模具有限公司"),
        ("客戶名稱：", "東莞精密模具有限公司", "東莞精密模具有限公司"),
    ],
    ids=["beside", "单位名称-beside", "after-colon", "zh-Hant"],
)
def test_form_customer_label_beside_or_after_colon(
    rules: Rules, tmp_path: Path, label: str, value: str | None, shown: str
) -> None:
    rows = level_form(value, MARKS, customer_label=label)
    path = save(tmp_path / "form.xlsx", {"调查表": rows})
    run = score_files([str(path)], rules)
    assert run.rejected == []
    [scored] = run.scored
    assert scored.response.customer == shown
    assert scored.response.date == date(2024, 6, 12) and scored.response.period == "2024H1"
    assert scored.response.source.row is None
    _check_82(scored)


def test_form_date_after_colon_in_one_cell(rules: Rules, tmp_path: Path) -> None:
    rows = level_form("甲公司", MARKS, date_label="填表日期：2024年6月12日", date=None)
    [scored] = score_files([str(save(tmp_path / "f.xlsx", {"S": rows}))], rules).scored
    assert scored.response.date == date(2024, 6, 12)


@pytest.mark.parametrize("mark", ["✓", "√", "✔", "V", "v", "X", "x", "●", "■", "☑", 1, "1", "是"])
def test_form_marks_under_level_columns(rules: Rules, tmp_path: Path, mark: Any) -> None:
    rows = level_form("东莞精密", MARKS, mark=mark)
    run = score_files([str(save(tmp_path / "m.xlsx", {"Sheet1": rows}))], rules)
    assert run.rejected == []
    [scored] = run.scored
    _check_82(scored)


@pytest.mark.parametrize(
    ("headers", "items", "label"),
    [
        (PROCEDURE, ITEMS_ZH, "客户名称:"),  # the procedure's table: 满意 is the middle
        (PLATFORM, ITEMS_ZH, "客户名称:"),  # the platforms' default: 满意 is second best
        (CSAT_HANT, ITEMS_HANT, "客戶名稱:"),
        (EN_SATISFACTION, ITEMS_EN, "Customer:"),
    ],
    ids=["procedure", "platform", "zh-Hant", "en"],
)
def test_form_level_headers_decide_the_scale(
    rules: Rules, tmp_path: Path, headers: list[str], items: list[str], label: str
) -> None:
    """The level columns' own words are the scale: the second column is `satisfied` and the
    third `neutral`, whether they read 较满意/满意 or 满意/一般."""
    rows = level_form("ACME", MARKS, level_headers=headers, items=items, customer_label=label)
    run = score_files([str(save(tmp_path / "h.xlsx", {"Sheet1": rows}))], rules)
    assert run.rejected == []
    _check_82(run.scored[0])


def _inline_form(cells: list[str]) -> list[list[Any]]:
    return [
        ["顾客满意度调查表"],
        [],
        ["客户名称：", "东莞精密模具有限公司", None, "日期：", "2024-06-12"],
        [],
        ["序号", "调查项目", "评价（请在所选项前打√）"],
        *[[i + 1, item, cell] for i, (item, cell) in enumerate(zip(ITEMS_ZH, cells, strict=True))],
        [],
        ["其他意见：", "包装需加强"],
    ]


def _inline(level: int, on: str, off: str, words: list[str] = CSAT) -> str:
    return " ".join(f"{on if i == level else off}{w}" for i, w in enumerate(words))


@pytest.mark.parametrize(("on", "off"), [("☑", "□"), ("●", "○"), ("■", "□"), ("☒", "☐")])
def test_form_options_inline_in_one_cell(rules: Rules, tmp_path: Path, on: str, off: str) -> None:
    """`□非常满意 ☑较满意 □一般 …` and `○非常满意 ●较满意 …`: the ticked option is the answer."""
    cells = [_inline(MARKS[i], on, off) for i in range(7)]
    run = score_files([str(save(tmp_path / "inline.xlsx", {"Sheet1": _inline_form(cells)}))], rules)
    assert run.rejected == []
    [scored] = run.scored
    assert scored.response.comments == "包装需加强"
    _check_82(scored)


def test_form_inline_short_option_list(rules: Rules, tmp_path: Path) -> None:
    """Only some options printed (`☑较满意 □一般`): still one tick, still its level."""
    cells = [_inline(MARKS[i], "☑", "□") for i in range(7)]
    cells[0] = "☑较满意 □一般"
    run = score_files([str(save(tmp_path / "short.xlsx", {"Sheet1": _inline_form(cells)}))], rules)
    assert run.rejected == []
    _check_82(run.scored[0])


def test_form_inline_two_ticks_rejected_with_the_cell(rules: Rules, tmp_path: Path) -> None:
    cells = [_inline(MARKS[i], "☑", "□") for i in range(7)]
    cells[0] = "☑非常满意 ☑较满意 □一般 □不满意 □非常不满意"
    path = save(tmp_path / "two.xlsx", {"Sheet1": _inline_form(cells)})
    run = score_files([str(path)], rules)
    assert run.scored == []
    [rej] = run.rejected
    assert (rej.file, rej.sheet, rej.cell) == (str(path), "Sheet1", "C6")
    assert "产品质量" in rej.reason and "非常满意" in rej.reason and "较满意" in rej.reason


def test_form_printed_options_column_beside_the_answer(rules: Rules, tmp_path: Path) -> None:
    """The options printed in one column, the customer's choice typed into the next: the answer
    column is read, the printed list is not an answer."""
    printed = "非常满意/较满意/一般/不满意/非常不满意"
    rows: list[list[Any]] = [
        ["顾客满意度调查表"],
        ["客户名称：", "东莞精密模具有限公司"],
        ["填表日期：", "2024-06-12"],
        ["序号", "调查项目", "选项", "评价"],
        *[[i + 1, item, printed, CSAT[MARKS[i]]] for i, item in enumerate(ITEMS_ZH)],
    ]
    run = score_files([str(save(tmp_path / "printed.xlsx", {"Sheet1": rows}))], rules)
    assert run.rejected == []
    [scored] = run.scored
    assert scored.response.customer == "东莞精密模具有限公司"
    _check_82(scored)


def _says_it_cannot_see(reason: str) -> bool:
    words = ("shape", "fill", "colour", "color", "形状", "填充", "颜色")
    return "mark" in reason.lower() and any(w in reason.lower() for w in words)


def test_form_with_no_mark_at_all_is_rejected_not_unanswered(rules: Rules, tmp_path: Path) -> None:
    """A form whose marks were drawn as shapes: no cell holds a mark. Rejected saying no mark
    could be read (csat cannot see shapes or fill colour), never scored as unanswered."""
    path = save(tmp_path / "shapes.xlsx", {"Sheet1": level_form("东莞精密", {})})
    run = score_files([str(path)], rules)
    assert run.scored == []
    [rej] = run.rejected
    # items in rows 7-13, level columns D-H
    assert (rej.file, rej.sheet, rej.cell) == (str(path), "Sheet1", "D7:H13")
    assert _says_it_cannot_see(rej.reason), rej.reason


def test_form_marked_by_fill_colour_is_rejected(rules: Rules, tmp_path: Path) -> None:
    path = save(tmp_path / "fill.xlsx", {"Sheet1": level_form("东莞精密", {})})
    wb = openpyxl.load_workbook(path)
    ws = wb["Sheet1"]
    yellow = PatternFill("solid", fgColor="FFFF00")
    for i, level in MARKS.items():
        ws.cell(row=7 + i, column=4 + level).fill = yellow
    wb.save(path)
    run = score_files([str(path)], rules)
    assert run.scored == []
    [rej] = run.rejected
    assert (rej.sheet, rej.cell) == ("Sheet1", "D7:H13")
    assert _says_it_cannot_see(rej.reason), rej.reason


@pytest.mark.parametrize(
    ("headers", "reverse"),
    [
        (["非常满意(5分)", "较满意(4分)", "一般(3分)", "不满意(2分)", "非常不满意(1分)"], False),
        (["5分", "4分", "3分", "2分", "1分"], False),
        (["5", "4", "3", "2", "1"], False),
        (list(reversed(CSAT)), True),
        (["1", "2", "3", "4", "5"], True),
    ],
    ids=["word(5分)", "5分", "5-1", "worst-first", "1-5"],
)
def test_form_level_headers_with_points_or_numbers(
    rules: Rules, tmp_path: Path, headers: list[str], reverse: bool
) -> None:
    """Level columns headed `非常满意(5分)` (SPEC §2 drops a trailing bracketed note), `5分`, or
    plain level numbers, best first or worst first: the header says the level, not the order."""
    marks = {i: 4 - lv for i, lv in MARKS.items()} if reverse else MARKS
    rows = level_form("东莞精密", marks, level_headers=headers)
    run = score_files([str(save(tmp_path / "pts.xlsx", {"Sheet1": rows}))], rules)
    assert run.rejected == []
    _check_82(run.scored[0])


@pytest.mark.parametrize(("on", "off"), [("☑", "□"), ("●", "○")])
def test_form_inline_boxes_after_their_words(
    rules: Rules, tmp_path: Path, on: str, off: str
) -> None:
    """`非常满意□ 较满意☑ 一般□ …`: the box follows its word (common in forms typed in Word).
    The tick belongs to 较满意 before it, not to 一般 after it."""
    cells = [
        " ".join(f"{w}{on if i == MARKS[item] else off}" for i, w in enumerate(CSAT))
        for item in range(7)
    ]
    run = score_files([str(save(tmp_path / "after.xlsx", {"Sheet1": _inline_form(cells)}))], rules)
    assert run.rejected == []
    _check_82(run.scored[0])
