"""Periods (SPEC §4): 2024H1/2024H2, 2024Q1-Q4, 2024-05, 2024. Pure functions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from csat.errors import UsageError

ACCEPTED = "2024H1 or 2024H2 (half-year), 2024Q1-2024Q4, 2024-05 (month) or 2024 (year)"
FIRST_YEAR, LAST_YEAR = 1990, 2099  # what a period can mean; anything else is a typo
_PATTERN = re.compile(r"^(\d{4})(?:(H[12])|(Q[1-4])|-(\d{2}))?$")
_MONTHS = {"year": 12, "half_year": 6, "quarter": 3, "month": 1}


@dataclass(frozen=True, order=True)
class Period:
    """A span of whole months: `year`, first month `start` (1-12) and length `months`."""

    year: int
    start: int
    months: int

    def __str__(self) -> str:
        if self.months == 12:
            return f"{self.year}"
        if self.months == 6:
            return f"{self.year}H{1 + (self.start - 1) // 6}"
        if self.months == 3:
            return f"{self.year}Q{1 + (self.start - 1) // 3}"
        return f"{self.year}-{self.start:02d}"

    def contains(self, other: Period) -> bool:
        first = self.year * 12 + self.start - 1
        other_first = other.year * 12 + other.start - 1
        return first <= other_first and other_first + other.months <= first + self.months

    def previous(self) -> Period:
        index = self.year * 12 + self.start - 1 - self.months
        return Period(index // 12, index % 12 + 1, self.months)


def parse_period(text: str) -> Period:
    """Parse a period; a malformed one is a usage error naming the accepted forms."""
    m = _PATTERN.match(text.strip().upper())
    if not m:
        raise UsageError(f"'{text}' is not a period: use {ACCEPTED}")
    year = int(m.group(1))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise UsageError(
            f"'{text}' is not a plausible period: the year must be {FIRST_YEAR}-{LAST_YEAR} "
            "(a typo such as 0224H1?)"
        )
    if m.group(2):
        return Period(year, 1 if m.group(2) == "H1" else 7, 6)
    if m.group(3):
        return Period(year, 3 * (int(m.group(3)[1]) - 1) + 1, 3)
    if m.group(4):
        month = int(m.group(4))
        if not 1 <= month <= 12:
            raise UsageError(f"'{text}' is not a period: there is no month {month}; use {ACCEPTED}")
        return Period(year, month, 1)
    return Period(year, 1, 12)


def enclosing(period: Period, months: int) -> Period:
    """The period `months` long (12, 6, 3 or 1) that holds the first month of `period`."""
    return Period(period.year, (period.start - 1) // months * months + 1, months)


def period_of(day: date, cadence: str) -> Period:
    """The period of the given cadence (half_year, quarter, month, year) that holds `day`."""
    months = _MONTHS[cadence]
    return Period(day.year, (day.month - 1) // months * months + 1, months)
