"""Every figure that shared/samples/README.md states, read from the returned surveys themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from csat import parse_period, score_files
from csat.config import Rules

DATA = Path(__file__).parent / "data"


def by_customer(run):  # type: ignore[no-untyped-def]
    return {s.response.customer: s for s in run.scored}


def flags_of(scored):  # type: ignore[no-untyped-def]
    return sorted((f.type, f.item, f.level) for f in scored.flags)


@pytest.mark.parametrize(
    ("file", "customer", "total", "grade", "flags", "comment"),
    [
        (
            "returned-form-zh-东莞精密.xlsx",
            "东莞市精密五金制品有限公司",
            82.0,
            "B",
            [("dissatisfied_item", "improvement", "dissatisfied")],
            "最近两批交货包装有破损,请加强。",
        ),
        ("returned-form-zh-苏州科创.xlsx", "苏州科创电子科技有限公司", 98.0, "A", [], None),
        (
            "returned-form-en-Nordlicht.xlsx",
            "Nordlicht Elektronik GmbH",
            64.0,
            "C",
            [
                ("dissatisfied_item", "delivery_date", "dissatisfied"),
                ("dissatisfied_item", "improvement", "very_dissatisfied"),
                ("dissatisfied_item", "service", "dissatisfied"),
                ("low_score", None, None),
            ],
            "Two late deliveries in May; the 8D answer took three weeks.",
        ),
    ],
)
def test_returned_forms_score_as_the_readme_says(
    rules: Rules,
    file: str,
    customer: str,
    total: float,
    grade: str,
    flags: list,
    comment: str | None,
) -> None:
    run = score_files([str(DATA / file)], rules, parse_period("2024H1"))
    assert run.rejected == []
    [scored] = run.scored
    assert scored.response.customer == customer
    assert (scored.total, scored.grade, scored.complete) == (total, grade, True)
    assert flags_of(scored) == flags
    assert scored.response.comments == comment
    assert scored.response.source.row is None
    assert scored.response.period == "2024H1"


def test_nordlicht_reply_in_july_belongs_to_h2_without_period(rules: Rules) -> None:
    run = score_files([str(DATA / "returned-form-en-Nordlicht.xlsx")], rules)
    [scored] = run.scored
    assert scored.response.date.isoformat() == "2024-07-02"
    assert scored.response.period == "2024H2"


def test_consolidated_table(rules: Rules) -> None:
    run = score_files([str(DATA / "consolidated-2024H1.xlsx")], rules)
    assert len(run.scored) == 29
    [rejected] = run.rejected
    assert (rejected.sheet, rejected.cell) == ("2024上半年", "F17")
    assert "很好" in rejected.reason and "RoHS情况" in rejected.reason
    assert all(s.response.period == "2024H1" for s in run.scored)
    rows = {s.response.source.row for s in run.scored}
    assert 13 not in rows and 26 not in rows and 17 not in rows  # blank rows and the rejected one

    customers = by_customer(run)
    incomplete = [s for s in run.scored if not s.complete]
    assert [s.response.customer for s in incomplete] == ["成都立讯电器有限公司"]
    rescaled = incomplete[0]
    assert (rescaled.total, rescaled.grade) == (96.3, "A")
    assert rescaled.items["service"].level is None and rescaled.items["service"].points is None

    numbers = customers["厦门永盛科技股份有限公司"]  # row 31, typed as 5 4 4 3 5 2 4
    assert numbers.response.source.row == 31
    assert [numbers.items[k].level for k in rules.items] == [
        "very_satisfied",
        "satisfied",
        "satisfied",
        "neutral",
        "very_satisfied",
        "dissatisfied",
        "satisfied",
    ]
    assert numbers.total == 88.0
    assert flags_of(numbers) == [("dissatisfied_item", "delivery_date", "dissatisfied")]

    first = customers["天津立讯电子有限公司"]
    assert first.response.customer_code == "C1001"
    assert first.response.date.isoformat() == "2024-03-02"
    assert first.response.comments == "服务很好,继续保持"
    assert first.response.source.row == 5

    low = customers["厦门博远科技股份有限公司"]
    assert (low.total, low.grade) == (69.0, "C")
    assert ("low_score", None, None) in flags_of(low)


def test_whole_samples_folder(rules: Rules) -> None:
    run = score_files([str(DATA)], rules, parse_period("2024H1"))
    assert len(run.scored) == 32
    assert len(run.rejected) == 1
    assert [s.file for s in run.skipped] == [str(DATA / "README.md")]
