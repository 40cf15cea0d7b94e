"""Reply dates as customers and platforms write them (FORMATS.md §6).

Date cells, Excel day numbers, and text: 2024/6/12, 2024-06-12, 2024.6.12, 2024年6月12日(号),
20240612, date-times (2024/6/17 11:22:31), June 12, 2024 and 12 June 2024. 12/06/2024 is 12 June
in most of the world and 6 December in the US: it is read only when the config names the order
(or the day is over 12). A date outside the plausible range is a typo, not a period.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from csat.config import DateOrder, Dates
from csat.intake.cells import is_blank, shown
from csat.text import normalize


class BadDate(Exception):
    """Not a date csat can read exactly; the message is the reason shown to the user."""


_TIME = (  # a time after the date, with am/pm and a zone: read, then ignored
    r"(?:[ t]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:am|pm|上午|下午)?"
    r"\s*(?:z|[a-z]{2,4}|gmt[+-]?\d*|[+-]\d{2}:?\d{2})?)?"
)
_YMD = re.compile(rf"^(\d{{4}})\s*[-/.年]\s*(\d{{1,2}})\s*[-/.月]\s*(\d{{1,2}})\s*[日号]?{_TIME}$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DMY_OR_MDY = re.compile(rf"^(\d{{1,2}})\s*[-/.]\s*(\d{{1,2}})\s*[-/.]\s*(\d{{4}}){_TIME}$")
_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for m in names
}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_MDY_WORDS = re.compile(rf"^{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}}){_TIME}$")
_DMY_WORDS = re.compile(rf"^(\d{{1,2}})(?:st|nd|rd|th)?[\s-]+{_MONTH}[\s,-]+(\d{{4}}){_TIME}$")
_EXCEL_EPOCH = date(1899, 12, 30)
_LAST_SERIAL = 2958465  # 9999-12-31


def parse_date(value: Any, rules: Dates, today: date | None = None) -> date | None:
    """The date a cell holds; None when blank; BadDate with the reason otherwise."""
    if is_blank(value):
        return None
    day = _read(value, rules.order)
    latest = _latest(today, rules.latest_years_ahead) if today else None
    if day < rules.earliest or (latest is not None and day > latest):
        upper = latest.isoformat() if latest else "today"
        raise BadDate(
            f"'{shown(value)}' is outside the plausible reply dates "
            f"({rules.earliest.isoformat()} to {upper}): check the year for a typo"
        )
    return day


@lru_cache(maxsize=8)
def _latest(today: date, years_ahead: int) -> date:
    return date(min(today.year + years_ahead, 9999), today.month, min(today.day, 28))


def _read(value: Any, order: DateOrder) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise BadDate(_not_a_date(value))
    if isinstance(value, int | float):
        if float(value).is_integer() and 19000101 <= value <= 29991231:
            text = str(int(value))  # 20240612 typed into a number cell
            return _make(int(text[:4]), int(text[4:6]), int(text[6:]), value)
        return _serial(value)
    text = normalize(str(value))
    m = _YMD.match(text) or _COMPACT.match(text)
    if m:
        return _make(int(m.group(1)), int(m.group(2)), int(m.group(3)), value)
    m = _MDY_WORDS.match(text)
    if m:
        return _make(int(m.group(3)), _MONTHS[m.group(1)], int(m.group(2)), value)
    m = _DMY_WORDS.match(text)
    if m:
        return _make(int(m.group(3)), _MONTHS[m.group(2)], int(m.group(1)), value)
    m = _DMY_OR_MDY.match(text)
    if m:
        a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if order is DateOrder.day_first or (order is DateOrder.ambiguous and a > 12 >= b):
            return _make(year, b, a, value)
        if order is DateOrder.month_first or (order is DateOrder.ambiguous and b > 12 >= a):
            return _make(year, a, b, value)
        if a == b:
            return _make(year, a, b, value)
        raise BadDate(
            f"'{shown(value)}' is ambiguous: {a} {_month_name(b)} or {_month_name(a)} {b}; "
            "write it as 2024-06-12, or set dates.order (day_first or month_first) in "
            "weights.yaml"
        )
    raise BadDate(_not_a_date(value))


def _serial(number: float) -> date:
    """An Excel day number. Excel counts a 29 February 1900 that never was (serial 60)."""
    if not float(number).is_integer() and number < 1:
        raise BadDate(_not_a_date(number))
    n = int(number)
    if n == 60:
        raise BadDate(
            "Excel day number 60 is 29 February 1900, a day that never was: type the real date"
        )
    if n < 1 or n > _LAST_SERIAL:
        raise BadDate(f"'{shown(number)}' is not an Excel date: type the date as 2024-06-12")
    return _EXCEL_EPOCH + timedelta(days=n if n > 60 else n + 1)


def _make(year: int, month: int, day: int, value: Any) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise BadDate(f"'{shown(value)}' is not a real date: check day and month") from None


def _month_name(month: int) -> str:
    return date(2000, month, 1).strftime("%B") if 1 <= month <= 12 else str(month)


def _not_a_date(value: Any) -> str:
    return f"'{shown(value)}' is not a date: write the reply date as 2024-06-12 or 2024/6/12"
