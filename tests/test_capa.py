"""CAPAs from a period's flags: one per customer and responsible department, numbered once."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from conftest import DATA, ROOT

from csat.capa import plan_capas
from csat.config import LoadedRules, Rules, load_rules
from csat.intake import InputFile, read_file
from csat.models import Response, ScoredResponse
from csat.periods import parse_period
from csat.pipeline import record_outcomes
from csat.report import build_report
from csat.scoring import score
from csat.store import Store

H1 = parse_period("2024H1")


@pytest.fixture
def loaded() -> LoadedRules:
    return load_rules(ROOT / "config" / "weights.yaml")


def scored_sample(name: str, rules: Rules) -> ScoredResponse:
    path = DATA / name
    got = list(read_file(InputFile(path, str(path)), rules, H1))
    [response] = [r for r in got if isinstance(r, Response)]
    result = score(response, rules)
    assert isinstance(result, ScoredResponse)
    return result


def test_one_capa_per_department_listing_all_its_flags(rules: Rules) -> None:
    nordlicht = scored_sample("returned-form-en-Nordlicht.xlsx", rules)
    plans = plan_capas([("k", nordlicht)], rules)
    got = {p.department: [(f.type, f.item) for f in p.flags] for p in plans}
    assert got == {
        "sales": [("low_score", None), ("dissatisfied_item", "service")],
        "quality": [("dissatisfied_item", "improvement")],
        "production_control": [("dissatisfied_item", "delivery_date")],
    }
    assert all(p.comments and p.comments.startswith("Two late deliveries") for p in plans)


def report(db: Path, loaded: LoadedRules, out: Path, day: date):  # type: ignore[no-untyped-def]
    with Store.open(db, create=False) as store:
        return build_report(store, H1, loaded, out, "en", day), store.path


def test_report_creates_capas_once_and_they_keep_their_numbers(
    tmp_path: Path, loaded: LoadedRules
) -> None:
    db = tmp_path / "h.db"
    with Store.open(db) as store:
        list(record_outcomes([str(DATA)], loaded, store, datetime(2024, 7, 1), H1))
    first, _ = report(db, loaded, tmp_path / "r", date(2024, 7, 15))
    with Store.open(db) as store:
        capas = store.capas("2024H1")
    # 18 flagged customers; Nordlicht needs 3 departments, 成都立讯科技 one (quality x2), ...
    assert len(capas) == first.view.capa_counts["total"]
    assert [c.number for c in capas[:3]] == [
        "CAPA-2024H1-001",
        "CAPA-2024H1-002",
        "CAPA-2024H1-003",
    ]
    chengdu = [c for c in capas if c.customer == "成都立讯科技股份有限公司"]
    assert [(c.department, [f.item for f in c.flags]) for c in chengdu] == [
        ("quality", ["quality", "improvement"])
    ]
    nordlicht = {c.department for c in capas if c.customer.startswith("Nordlicht")}
    assert nordlicht == {"sales", "quality", "production_control"}
    assert all(c.issue_date == date(2024, 7, 15) and c.due_date == date(2024, 7, 29) for c in capas)
    assert all(c.status == "open" for c in capas)

    # Again, weeks later: nothing new, same numbers, and now every open CAPA is overdue.
    again, _ = report(db, loaded, tmp_path / "r", date(2024, 9, 2))
    with Store.open(db) as store:
        assert store.capas("2024H1") == capas
    assert again.view.capa_counts == {
        "total": len(capas),
        "open": len(capas),
        "closed": 0,
        "verified": 0,
        "overdue": len(capas),
        "effective": 0,
        "ineffective": 0,
        "unjudged": len(capas),
    }

    flags = openpyxl.load_workbook(again.path)["Flags"]
    header = [c.value for c in flags[1]]
    rows = [
        dict(zip(header, (c.value for c in row), strict=True)) for row in flags.iter_rows(min_row=2)
    ]
    chengdu_rows = [r for r in rows if r["Customer"] == "成都立讯科技股份有限公司"]
    assert {r["CAPA"] for r in chengdu_rows} == {chengdu[0].number}
    assert all(r["Status"] == "open" and r["Due"].date() == date(2024, 7, 29) for r in rows)
    summary = {
        r[0].value: r[1].value
        for r in openpyxl.load_workbook(again.path)["Summary"].iter_rows(min_row=3, max_col=2)
        if r[0].value
    }
    assert summary["CAPAs overdue"] == len(capas)
