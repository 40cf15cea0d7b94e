"""A flag has exactly one CAPA whatever period reports it (issue 10, item 4): an annual or a
quarterly report follows the CAPAs of the replies it covers, and numbering is exact per period."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import DATA, ROOT, TABLE_HEADER

from csat.config import LoadedRules, load_rules
from csat.periods import parse_period
from csat.pipeline import record_outcomes
from csat.report import build_report
from csat.store import Store


@pytest.fixture
def loaded() -> LoadedRules:
    return load_rules(ROOT / "config" / "weights.yaml")


def test_a_year_report_issues_no_second_set_of_capas(
    tmp_path: Path, db: str | Path, loaded: LoadedRules
) -> None:
    out = tmp_path / "out"
    with Store.open(db) as store:
        list(
            record_outcomes(
                [str(DATA)], loaded, store, datetime(2024, 7, 1), parse_period("2024H1")
            )
        )
        half = build_report(store, parse_period("2024H1"), loaded, out, "zh", date(2024, 7, 15))
        issued = store.capas()
        year = build_report(store, parse_period("2024"), loaded, out, "zh", date(2024, 12, 20))
        assert store.capas() == issued  # nothing new, nothing changed
    assert len(issued) == half.view.capa_counts["total"] > 0
    assert all(c.number.startswith("CAPA-2024H1-") for c in issued)
    assert sorted(c.number for c in year.view.capas.values()) == [c.number for c in issued]
    forms = sorted(p.name for p in (out / "2024" / "capa").iterdir())
    assert forms == sorted([f"{c.number}.html" for c in issued] + ["index.html"])


def test_quarter_replies_have_one_capa_whichever_period_reports_them(
    tmp_path: Path, db: str | Path, loaded: LoadedRules, workbook: Callable[..., Path]
) -> None:
    bad = ["不满意"] * 7
    q2 = workbook("q2.xlsx", [TABLE_HEADER, [1, "甲公司", "A1", "2024-05-02", *bad, None]])
    out = tmp_path / "out"
    with Store.open(db) as store:
        list(
            record_outcomes([str(q2)], loaded, store, datetime(2024, 7, 1), parse_period("2024Q2"))
        )
        numbers = []
        for name in ("2024Q2", "2024H1", "2024", "2024Q2"):
            build_report(store, parse_period(name), loaded, out, "zh", date(2024, 7, 15))
            numbers.append(sorted(c.number for c in store.capas()))
    assert numbers[0][0] == "CAPA-2024Q2-001"
    assert all(n == numbers[0] for n in numbers)


def test_numbering_is_exact_per_period(
    tmp_path: Path, db: str | Path, loaded: LoadedRules, workbook: Callable[..., Path]
) -> None:
    bad = ["不满意"] * 7
    rows = [[i, f"客户{i}", f"C{i}", "2024-12-02", *bad, None] for i in range(1, 4)]
    december = workbook("dec.xlsx", [TABLE_HEADER, *rows])
    year = workbook("year.xlsx", [TABLE_HEADER, [1, "乙公司", "B1", "2024-12-03", *bad, None]])
    out = tmp_path / "out"
    with Store.open(db) as store:
        now = datetime(2025, 1, 5)
        list(record_outcomes([str(december)], loaded, store, now, parse_period("2024-12")))
        build_report(store, parse_period("2024-12"), loaded, out, "zh", date(2025, 1, 6))
        list(record_outcomes([str(year)], loaded, store, now, parse_period("2024")))
        build_report(store, parse_period("2024"), loaded, out, "zh", date(2025, 1, 6))
        yearly = [c.number for c in store.capas("2024")]
    assert yearly and yearly[0] == "CAPA-2024-001"  # not 013: CAPA-2024-12-… is another period
