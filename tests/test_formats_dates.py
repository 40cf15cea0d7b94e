"""FORMATS.md §6: every listed date form gives the right period; `12/06/2024` is ambiguous
unless the config names a convention; a date that cannot be read rejects the reply only when the
period depends on it, else it is kept with a notice.

The convention is the YAML's `dates: {order: day_first | month_first | ambiguous}` (SPEC §3 names
the behaviour, not the key; the default is ambiguous).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import named_rules, tick
from formats_builders import ITEMS_ZH, cli_json, notices, rules_file, rules_with, save

from csat import parse_period, score_files
from csat.config import Rules, load_rules
from csat.survey import make_surveys

H1 = parse_period("2024H1")
HEADER = ["序号", "客户名称", "客户编号", "回复日期", *ITEMS_ZH]


def _dated(tmp_path: Path, value: Any) -> Path:
    rows = [HEADER, [1, "甲公司", None, value, *["非常满意"] * 7]]
    return save(tmp_path / "dated.xlsx", {"Sheet1": rows})


@pytest.mark.parametrize(
    ("value", "expected", "period"),
    [
        (datetime(2024, 6, 12, 0, 0), date(2024, 6, 12), "2024H1"),
        (datetime(2024, 6, 12, 15, 30), date(2024, 6, 12), "2024H1"),
        (45455, date(2024, 6, 12), "2024H1"),  # an Excel serial: 2024-01-01 is 45292
        (45455.625, date(2024, 6, 12), "2024H1"),
        ("2024/6/12", date(2024, 6, 12), "2024H1"),
        ("2024-06-12", date(2024, 6, 12), "2024H1"),
        ("2024.6.12", date(2024, 6, 12), "2024H1"),
        ("2024年6月12日", date(2024, 6, 12), "2024H1"),
        ("2024年6月12号", date(2024, 6, 12), "2024H1"),
        ("20240612", date(2024, 6, 12), "2024H1"),
        ("2024/6/17 11:22:31", date(2024, 6, 17), "2024H1"),
        ("2024年6月17日 11:22", date(2024, 6, 17), "2024H1"),
        ("June 12, 2024", date(2024, 6, 12), "2024H1"),
        ("12 June 2024", date(2024, 6, 12), "2024H1"),
        ("2024年12月6日", date(2024, 12, 6), "2024H2"),
        ("2024.7.1", date(2024, 7, 1), "2024H2"),
        ("December 6, 2024", date(2024, 12, 6), "2024H2"),
        ("13/06/2024", date(2024, 6, 13), "2024H1"),  # only one reading: no month 13
        ("06/13/2024", date(2024, 6, 13), "2024H1"),
    ],
)
def test_every_listed_date_form_gives_the_period(
    rules: Rules, tmp_path: Path, value: Any, expected: date, period: str
) -> None:
    run = score_files([str(_dated(tmp_path, value))], rules)
    assert run.rejected == []
    [got] = run.scored
    assert (got.response.date, got.response.period) == (expected, period)


def _says_ambiguous(reason: str) -> bool:
    r = reason.lower()
    return "ambiguous" in r or ("june" in r and "december" in r) or "2024-12-06" in r


def test_day_month_ambiguous_date_rejected_when_the_period_depends_on_it(
    rules: Rules, tmp_path: Path
) -> None:
    """12/06/2024 is 12 June in most of the world and 6 December in the US: H1 or H2."""
    path = _dated(tmp_path, "12/06/2024")
    run = score_files([str(path)], rules)
    assert run.scored == []
    [rej] = run.rejected
    assert (rej.file, rej.sheet, rej.cell) == (str(path), "Sheet1", "D2")
    assert "12/06/2024" in rej.reason and _says_ambiguous(rej.reason), rej.reason


def test_day_month_ambiguous_date_kept_with_a_notice_under_period(
    rules: Rules, tmp_path: Path
) -> None:
    path = _dated(tmp_path, "12/06/2024")
    run = score_files([str(path)], rules, H1)
    assert run.rejected == []
    [got] = run.scored
    assert (got.total, got.response.period) == (100.0, "2024H1")
    [note] = [m for m in notices(run, "Sheet1") if "12/06/2024" in m.message]
    assert (note.file, note.cell) == (str(path), "D2")


@pytest.mark.parametrize(
    ("order", "expected", "period"),
    [("day_first", date(2024, 6, 12), "2024H1"), ("month_first", date(2024, 12, 6), "2024H2")],
)
def test_configured_convention_decides_the_ambiguous_date(
    tmp_path: Path, order: str, expected: date, period: str
) -> None:
    rules = rules_with(tmp_path, dates={"order": order})
    [got] = score_files([str(_dated(tmp_path, "12/06/2024"))], rules).scored
    assert (got.response.date, got.response.period) == (expected, period)


def test_configured_convention_through_the_cli(tmp_path: Path) -> None:
    config = rules_file(tmp_path, dates={"order": "month_first"})
    code, doc = cli_json(str(_dated(tmp_path, "12/06/2024")), "--config", str(config))
    assert code == 0, doc["rejected"]
    assert [(s["date"], s["period"]) for s in doc["scored"]] == [("2024-12-06", "2024H2")]


@pytest.mark.parametrize("value", ["上周五", "2024/13/45", "next week"])
def test_unreadable_date_rejects_only_when_needed(rules: Rules, tmp_path: Path, value: str) -> None:
    path = _dated(tmp_path, value)
    run = score_files([str(path)], rules)
    assert run.scored == []
    [rej] = run.rejected
    assert (rej.sheet, rej.cell) == ("Sheet1", "D2") and value in rej.reason

    # With --period the date is not needed: the reply is kept, and a notice says so.
    run = score_files([str(path)], rules, H1)
    assert run.rejected == []
    [got] = run.scored
    assert got.total == 100.0 and got.response.date is None
    [note] = [m for m in notices(run, "Sheet1") if value in m.message]
    assert (note.file, note.sheet, note.cell) == (str(path), "Sheet1", "D2")


def test_unreadable_date_notice_in_the_json_document(tmp_path: Path) -> None:
    path = _dated(tmp_path, "上周五")
    code, doc = cli_json(str(path), "--period", "2024H1")
    assert code == 0  # notices change no exit code
    assert doc["summary"]["scored"] == 1
    assert {"file": str(path), "sheet": "Sheet1", "cell": "D2"}.items() <= next(
        n for n in doc["notices"] if "上周五" in n["message"]
    ).items()


def test_unreadable_date_on_a_form_that_knows_its_period(tmp_path: Path) -> None:
    """A csat form carries its period in its metadata: the date is not needed, so a date the
    customer wrote as 上周五 keeps the reply, with a notice naming the cell."""
    loaded = load_rules(named_rules(tmp_path))
    listing = tmp_path / "customers.csv"
    listing.write_text("客户编号,客户名称,语言\nC1001,天津立讯电子有限公司,zh\n", encoding="utf-8")
    made = make_surveys(listing, H1, loaded, tmp_path / "out", date(2024, 6, 20), None)
    [(_, _, form)] = made.written
    tick(form, ["非常满意", "较满意", "较满意", "一般", "非常满意", "较满意", "较满意"])
    wb = openpyxl.load_workbook(form)
    wb.active["F6"] = "上周五"  # the date cell of csat's form
    wb.save(form)
    run = score_files([str(form)], loaded.rules)
    assert run.rejected == []
    [got] = run.scored
    # 25 + 18 + 18 + 11 + 10 + 4 + 4 = 90, period from the form's metadata
    assert (got.total, got.response.period, got.response.date) == (90.0, "2024H1", None)
    assert any(m.cell == "F6" and "上周五" in m.message for m in notices(run))
