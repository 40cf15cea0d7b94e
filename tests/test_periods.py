"""Periods: parsing, formatting, containment, previous, period of a date."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csat.errors import UsageError
from csat.periods import Period, parse_period, period_of

CADENCES = ["half_year", "quarter", "month", "year"]
periods = st.one_of(
    st.builds(lambda y, h: f"{y}H{h}", st.integers(1990, 2099), st.integers(1, 2)),
    st.builds(lambda y, q: f"{y}Q{q}", st.integers(1990, 2099), st.integers(1, 4)),
    st.builds(lambda y, m: f"{y}-{m:02d}", st.integers(1990, 2099), st.integers(1, 12)),
    st.builds(str, st.integers(1990, 2099)),
)


@given(text=periods)
def test_round_trip(text: str) -> None:
    assert str(parse_period(text)) == text


@given(day=st.dates(date(1990, 1, 1), date(2099, 12, 31)))
def test_every_date_in_exactly_one_period_of_each_cadence(day: date) -> None:
    for cadence in CADENCES:
        p = period_of(day, cadence)
        neighbours = [
            p.previous(),
            p,
            Period(
                p.year + (p.start + p.months - 1) // 12, (p.start + p.months - 1) % 12 + 1, p.months
            ),
        ]
        holding = [q for q in neighbours if q.contains(period_of(day, "month"))]
        assert holding == [p]
        assert parse_period(str(period_of(day, "year"))).contains(p)


def test_previous_and_contains() -> None:
    assert str(parse_period("2024H1").previous()) == "2023H2"
    assert str(parse_period("2024Q1").previous()) == "2023Q4"
    assert str(parse_period("2024-01").previous()) == "2023-12"
    assert parse_period("2024").contains(parse_period("2024H2"))
    assert not parse_period("2024H1").contains(parse_period("2024Q3"))
    assert parse_period("2024h1") == parse_period("2024H1")


@pytest.mark.parametrize("bad", ["2024H3", "24H1", "2024-13", "2024Q5", "H1", "2024 H1", ""])
def test_malformed_period_names_the_accepted_forms(bad: str) -> None:
    with pytest.raises(UsageError, match="2024H1"):
        parse_period(bad)
