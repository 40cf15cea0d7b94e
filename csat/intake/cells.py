"""Reading single cell values: ratings, tick marks, dates, names. Shared by both layouts.

These run once per cell of every survey, so text is normalised through caches and the common
cases (a level word, a number 1-5) return early.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from csat.config import Rules
from csat.text import normalize


class UnknownValue(Exception):
    """The cell holds something that is not a rating/mark/date; the message quotes it."""


def is_blank(value: Any) -> bool:
    return value is None or value == "" or (value.__class__ is str and not value.strip())


def as_text(value: Any) -> str | None:
    """A cell as trimmed text (customer names, codes, comments); numbers lose a trailing .0."""
    if value.__class__ is str:  # the common case, first
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def shown(value: Any) -> str:
    """How a bad value is quoted back to the user."""
    text = as_text(value)
    return "" if text is None else text


class RatingReader:
    """Turns a rating cell into a level key, None (unanswered), or raises UnknownValue."""

    def __init__(self, rules: Rules) -> None:
        self._by_alias = rules.level_by_alias
        self._by_number = rules.level_by_number
        self._unanswered = rules.unanswered
        self._ticked = rules.ticked
        self._unticked = rules.unticked
        self._cache: dict[str, str | None] = {}

    def level(self, value: Any) -> str | None:
        if isinstance(value, str):
            try:
                return self._cache[value]
            except KeyError:
                pass
            result = self._level_of_text(value)
            if len(self._cache) < 4096:
                self._cache[value] = result
            return result
        if value is None:
            return None
        if isinstance(value, bool):
            raise UnknownValue(str(value))
        if isinstance(value, int | float):
            return self._level_of_number(value, shown(value))
        raise UnknownValue(shown(value))

    def _level_of_text(self, value: str) -> str | None:
        text = normalize(value)
        if not text or text in self._unanswered:
            return None
        level = self._by_alias.get(text)
        if level is not None:
            return level
        try:
            number = float(text)
        except ValueError:
            raise UnknownValue(value.strip()) from None
        return self._level_of_number(number, value.strip())

    def _level_of_number(self, number: float, as_written: str) -> str:
        if float(number).is_integer() and int(number) in self._by_number:
            return self._by_number[int(number)]
        raise UnknownValue(as_written)

    def is_ticked(self, value: Any) -> bool:
        """A level column's cell: True for a mark, False for no mark, UnknownValue otherwise."""
        if is_blank(value):
            return False
        text = normalize(as_text(value) or "")
        if text in self._ticked:
            return True
        if text in self._unticked:
            return False
        raise UnknownValue(shown(value))


_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
# Excel day numbers of 2000-01-01 .. 2099-12-31, for a date typed into a number cell.
_SERIAL_RANGE = (36526, 73415)


def describe_date_problem(value: Any) -> str:
    return f"'{shown(value)}' is not a date: write the reply date as 2024-06-12 or 2024/6/12"


def parse_date(value: Any) -> date | None:
    """A reply date: a date cell, 2024/6/12, 2024-06-12, 2024.6.12, 2024年6月12日, or an
    Excel day number. None when blank; UnknownValue when it is not a date."""
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if _SERIAL_RANGE[0] <= value <= _SERIAL_RANGE[1]:
            return date(1899, 12, 30) + timedelta(days=int(value))
        raise UnknownValue(shown(value))
    text = str(value).strip()
    m = _DATE_TEXT.match(normalize(text).replace(" ", ""))
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            pass
    raise UnknownValue(text)
