"""Reply dates as they arrive (FORMATS.md §6), and the plausible range that catches typos."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from csat.config import DateOrder, Dates
from csat.intake.dates import BadDate, parse_date

JUNE_12 = date(2024, 6, 12)
TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    "value",
    [
        JUNE_12,
        datetime(2024, 6, 12, 9, 30),
        45455,  # Excel's day number
        45455.0,
        20240612,
        "2024/6/12",
        "2024-06-12",
        "2024.6.12",
        "2024年6月12日",
        "2024年6月12号",
        "20240612",
        "2024/6/12 11:22:31",
        "2024-06-12T11:22:31Z",
        "June 12, 2024",
        "Jun 12 2024",
        "12 June 2024",
        "12-Jun-2024",
        "2024/06/12",
        "２０２４年６月１２日",
    ],
)
def test_every_listed_form_reads_as_the_same_day(value: object) -> None:
    assert parse_date(value, Dates(), TODAY) == JUNE_12


def test_day_month_order_is_ambiguous_unless_configured() -> None:
    with pytest.raises(BadDate, match="ambiguous.*dates.order"):
        parse_date("12/06/2024", Dates(), TODAY)
    assert parse_date("12/06/2024", Dates(order=DateOrder.day_first), TODAY) == JUNE_12
    assert parse_date("06/12/2024", Dates(order=DateOrder.month_first), TODAY) == JUNE_12
    # a day over 12 decides it by itself, and so does a day equal to its month
    assert parse_date("13/06/2024", Dates(), TODAY) == date(2024, 6, 13)
    assert parse_date("6/13/2024 11:22:31 AM", Dates(), TODAY) == date(2024, 6, 13)
    assert parse_date("06/06/2024", Dates(), TODAY) == date(2024, 6, 6)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("0224/6/12", "plausible"),
        ("2028-01-05", "plausible"),
        (60, "29 February 1900"),
        (-5, "not an Excel date"),
        ("2024-02-30", "not a real date"),
        ("next week", "not a date"),
        (True, "not a date"),
    ],
)
def test_typos_and_impossible_dates_are_refused(value: object, words: str) -> None:
    with pytest.raises(BadDate, match=words):
        parse_date(value, Dates(), TODAY)


def test_blank_is_no_date() -> None:
    assert parse_date(None, Dates(), TODAY) is None
    assert parse_date("  ", Dates(), TODAY) is None
