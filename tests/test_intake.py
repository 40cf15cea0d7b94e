"""Intake of both layouts, and every kind of bad input the issue names: each is a rejection with
file, sheet, cell and an actionable reason, and the rest of the batch still goes through."""

from __future__ import annotations

import io
import shutil
import time
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import DATA, EN_ITEMS, TABLE_HEADER, form_rows

from csat import parse_period, score_files
from csat.config import Rules
from csat.errors import UsageError

H1 = parse_period("2024H1")
GOOD = ["非常满意", "较满意", "较满意", "一般", "非常满意", "较满意", "较满意"]  # 90.0


def row(
    name: str | None,
    ratings: list[object],
    reply: object = None,
    code: str | None = None,
    comment: str | None = None,
) -> list[object]:
    return [1, name, code, reply, *ratings, comment]


# ------------------------------------------------------------------------ table layout


def test_header_found_below_title_rows_with_offset_and_extra_columns(
    rules: Rules, workbook: Callable[..., Path]
) -> None:
    rows = [["", "", "满意度调查汇总"], [], [], ["", "", *TABLE_HEADER, "业务员"]]
    rows.append(["", "", *row("甲公司", GOOD, datetime(2024, 5, 6), "K1", "好"), "张三"])
    rows.append(["", "", 2])  # only a sequence number: blank
    rows.append(
        ["", "", *row("乙公司", [5, 4.0, "4", "３", " 非常 满意 ", "較滿意", 4], "2024年6月12日")]
    )
    path = workbook("t.xlsx", rows)
    run = score_files([str(path)], rules)
    assert run.rejected == []
    first, second = run.scored
    assert (first.total, first.response.customer_code, first.response.comments) == (
        90.0,
        "K1",
        "好",
    )
    assert (first.response.source.sheet, first.response.source.row) == ("Sheet1", 5)
    assert second.response.source.row == 7
    assert second.response.date == date(2024, 6, 12) and second.response.period == "2024H1"
    assert [second.items[k].level for k in rules.items] == [
        "very_satisfied",
        "satisfied",
        "satisfied",
        "neutral",
        "very_satisfied",
        "satisfied",
        "satisfied",
    ]


def test_traditional_and_english_headers(rules: Rules, workbook: Callable[..., Path]) -> None:
    zh_hant = [
        "客戶名稱",
        "回覆日期",
        "產品質量(25%)",
        "RoHS情況",
        "服務情況",
        "改善情況",
        "包裝運輸",
        "交付日期",
        "交付數量",
    ]
    en = ["Customer name:", "Reply date", *EN_ITEMS]
    for name, header in [("hant.xlsx", zh_hant), ("en.xlsx", en)]:
        path = workbook(name, [header, ["X Co.", "2024/6/1", *(["Very satisfied"] * 7)]])
        [scored] = score_files([str(path)], rules).scored
        assert scored.total == 100.0, name


@pytest.mark.parametrize("text", ["2024/6/12", "2024-06-12", "2024年6月12日", "2024.6.12"])
def test_date_text_forms(rules: Rules, workbook: Callable[..., Path], text: str) -> None:
    path = workbook("d.xlsx", [TABLE_HEADER, row("甲", GOOD, text)])
    [scored] = score_files([str(path)], rules).scored
    assert scored.response.date == date(2024, 6, 12)


def test_unknown_rating_names_cell_and_text_and_the_rest_goes_through(
    rules: Rules, workbook: Callable[..., Path]
) -> None:
    bad = list(GOOD)
    bad[2] = "很好"
    path = workbook(
        "u.xlsx", [TABLE_HEADER, row("甲", GOOD, "2024-06-01"), row("乙", bad, "2024-06-01")]
    )
    run = score_files([str(path)], rules)
    assert [s.response.customer for s in run.scored] == ["甲"]
    [rej] = run.rejected
    assert (rej.sheet, rej.cell) == ("Sheet1", "G3")
    assert "'很好'" in rej.reason and "服务情况" in rej.reason


@pytest.mark.parametrize("value", [0, 4.5, "4.5", "-1"])
def test_numbers_outside_one_to_five_are_unknown(
    rules: Rules, workbook: Callable[..., Path], value: object
) -> None:
    ratings = list(GOOD)
    ratings[0] = value
    path = workbook("n.xlsx", [TABLE_HEADER, row("甲", ratings, "2024-06-01")])
    [rej] = score_files([str(path)], rules).rejected
    assert rej.cell == "E2" and "unknown rating" in rej.reason


@pytest.mark.parametrize("value", [6, 10, "7", "8分", 11, 85, "92.5"])
def test_a_value_above_five_puts_the_whole_column_on_another_range(
    rules: Rules, workbook: Callable[..., Path], value: object
) -> None:
    """A 1-10 column is not on the five levels: its 1-5 cells are not read as levels either."""
    first, second = list(GOOD), list(GOOD)
    first[0], second[0] = value, 4
    path = workbook(
        "n.xlsx",
        [TABLE_HEADER, row("甲", first, "2024-06-01"), row("乙", second, "2024-06-01")],
    )
    run = score_files([str(path)], rules)
    assert run.scored == []
    assert [r.cell for r in run.rejected] == ["E2", "E3"]
    assert all("not on the five levels" in r.reason for r in run.rejected)


def test_row_problems(rules: Rules, workbook: Callable[..., Path]) -> None:
    few = [GOOD[0], GOOD[1], None, None, None, GOOD[5], None]  # 50 of 100
    path = workbook(
        "p.xlsx",
        [
            TABLE_HEADER,
            row(None, GOOD, "2024-06-01"),  # no customer
            row("乙", GOOD, "next week"),  # not a date
            row("丙", GOOD),  # no date, no --period
            row("丁", few, "2024-06-01"),  # too few answered
            row("戊", [None] * 7, "2024-06-01"),  # customer but no rating at all
        ],
    )
    run = score_files([str(path)], rules)
    assert run.scored == []
    got = {(r.cell, r.reason.split(":")[0]) for r in run.rejected}
    assert got == {
        ("B2", "no customer name"),
        ("D3", "'next week' is not a date"),
        ("D4", "no reply date and no --period"),
        ("E5:K5", "too few items answered"),
        ("E6:K6", "no rating at all"),
    }
    # With --period the undated reply is scored, and so is the one whose date is not
    # understood (its period no longer depends on it: a notice says so).
    run = score_files([str(path)], rules, H1)
    assert [s.response.customer for s in run.scored] == ["乙", "丙"]
    [notice] = [n for n in run.notices if n.cell == "D3"]
    assert "'next week' is not a date" in notice.message and "--period" in notice.message


# ------------------------------------------------------------------------ form layout


def test_form_with_marks(rules: Rules, workbook: Callable[..., Path]) -> None:
    marks = {0: 1, 1: 0, 2: 1, 3: 3, 4: 1, 5: 2, 6: 1}  # the 东莞精密 sample: 82.0
    path = workbook("f.xlsx", form_rows("东莞精密", marks, comment="包装破损"))
    [scored] = score_files([str(path)], rules).scored
    assert (scored.total, scored.grade, scored.response.comments) == (82.0, "B", "包装破损")


def test_form_with_rating_column_and_inline_labels(
    rules: Rules, workbook: Callable[..., Path]
) -> None:
    rows = [
        ["Customer Satisfaction Survey"],
        ["Customer: ACME Ltd.", None, "Date: 2024-05-20"],
        ["No.", "Item", "Rating"],
        *[
            [i + 1, name, level]
            for i, (name, level) in enumerate(
                zip(
                    EN_ITEMS,
                    ["Very satisfied", 5, "Satisfied", "N/A", "Very satisfied", 4, "satisfied"],
                    strict=True,
                )
            )
        ],
        ["Comments:", "fine"],
    ]
    path = workbook("r.xlsx", rows)
    [scored] = score_files([str(path)], rules).scored
    assert scored.response.customer == "ACME Ltd."
    assert scored.response.date == date(2024, 5, 20)
    assert scored.items["improvement"].level is None and not scored.complete
    assert scored.total == round(100 * (25 + 20 + 18 + 10 + 4 + 4) / 85, 1)


def test_two_levels_ticked_rejects_the_whole_response_naming_both_cells(
    rules: Rules, workbook: Callable[..., Path]
) -> None:
    rows = form_rows("甲公司", dict.fromkeys(range(7), 0))
    rows[6][4] = "√"  # 产品质量 ticked under 非常满意 (D7) and 较满意 (E7)
    path = workbook("two.xlsx", rows)
    run = score_files([str(path)], rules)
    assert run.scored == []
    [rej] = run.rejected
    assert rej.cell == "D7:E7"
    assert "D7, E7" in rej.reason and "产品质量" in rej.reason


def test_form_without_customer_name(rules: Rules, workbook: Callable[..., Path]) -> None:
    path = workbook("nc.xlsx", form_rows(None, dict.fromkeys(range(7), 0)))
    [rej] = score_files([str(path)], rules).rejected
    assert rej.cell == "B4" and rej.reason.startswith("no customer name")


def test_form_with_bad_mark(rules: Rules, workbook: Callable[..., Path]) -> None:
    rows = form_rows("甲", dict.fromkeys(range(7), 0))
    rows[8][5] = "?"
    [rej] = score_files([str(workbook("m.xlsx", rows))], rules).rejected
    assert rej.cell == "F9" and "'?'" in rej.reason


# ------------------------------------------------------------------------ files and folders


def test_folder_recursion_skips_and_lock_files(rules: Rules, samples: Path) -> None:
    (samples / "sub" / "deeper").mkdir(parents=True)
    shutil.copy(DATA / "returned-form-zh-苏州科创.xlsx", samples / "sub" / "deeper" / "again.xlsx")
    (samples / "~$consolidated-2024H1.xlsx").write_bytes(b"lock")
    (samples / "notes.docx").write_text("a,b\n")
    run = score_files([str(samples)], rules, H1)
    assert len(run.scored) == 33
    files = {s.response.source.file for s in run.scored}
    assert str(samples / "sub" / "deeper" / "again.xlsx") in files
    assert sorted(s.file for s in run.skipped) == [
        str(samples / "README.md"),
        str(samples / "notes.docx"),
    ]


def test_missing_path_is_a_usage_error(rules: Rules, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        score_files([str(tmp_path / "nope.xlsx")], rules)


def _bad_files(tmp_path: Path, workbook: Callable[..., Path]) -> dict[str, Path]:
    good = (DATA / "returned-form-zh-苏州科创.xlsx").read_bytes()
    files = {
        "not excel": tmp_path / "fake.xlsx",
        "truncated": tmp_path / "truncated.xlsx",
        "empty": workbook("empty.xlsx", {"Sheet1": [], "Sheet2": []}),
        "no survey": workbook("other.xlsx", [["Price list"], ["M3 screw", 0.02]]),
    }
    files["not excel"].write_text("this is a text file\n")
    files["truncated"].write_bytes(good[: len(good) // 2])
    return files


def test_bad_files_each_get_one_clear_rejection(
    rules: Rules, tmp_path: Path, workbook: Callable[..., Path]
) -> None:
    files = _bad_files(tmp_path, workbook)
    ok = DATA / "returned-form-zh-苏州科创.xlsx"
    run = score_files([str(p) for p in files.values()] + [str(ok)], rules, H1)
    assert len(run.scored) == 1
    reasons = {r.file: r for r in run.rejected}
    assert len(run.rejected) == 4
    assert "not an Excel workbook" in reasons[str(files["not excel"])].reason
    assert "damaged or truncated" in reasons[str(files["truncated"])].reason
    assert "empty" in reasons[str(files["empty"])].reason
    no_survey = reasons[str(files["no survey"])]
    assert no_survey.sheet == "Sheet1" and "no survey found" in no_survey.reason
    assert all(r.cell is None for r in run.rejected)


def test_password_protected_workbook(rules: Rules, tmp_path: Path) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    with (DATA / "returned-form-zh-苏州科创.xlsx").open("rb") as fh:
        OOXMLFile(fh).encrypt("secret", out)
    path = tmp_path / "locked.xlsx"
    path.write_bytes(out.getvalue())
    [rej] = score_files([str(path)], rules).rejected
    assert (rej.sheet, rej.cell) == (None, None)
    assert "password-protected" in rej.reason and "remove the password" in rej.reason


def _with_member(tmp_path: Path, name: str, data: bytes) -> Path:
    """The 苏州科创 sample with one part replaced."""
    path = tmp_path / "evil.xlsx"
    with (
        zipfile.ZipFile(DATA / "returned-form-zh-苏州科创.xlsx") as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            dst.writestr(info.filename, data if info.filename == name else src.read(info))
    return path


def test_xml_entity_bomb_is_refused_quickly(rules: Rules, tmp_path: Path) -> None:
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY l0 "lol">{lol}]><workbook>&l9;</workbook>'
    )
    path = _with_member(tmp_path, "xl/workbook.xml", bomb.encode())
    started = time.perf_counter()
    [rej] = score_files([str(path)], rules).rejected
    assert time.perf_counter() - started < 5
    assert "DTD" in rej.reason


def test_zip_bomb_is_refused_before_parsing(rules: Rules, tmp_path: Path) -> None:
    path = _with_member(tmp_path, "xl/worksheets/sheet1.xml", b"<a>" + b" " * 50_000_000 + b"</a>")
    assert path.stat().st_size < 1_000_000
    [rej] = score_files([str(path)], rules).rejected
    assert "zip bomb" in rej.reason and "xl/worksheets/sheet1.xml" in rej.reason
