"""Working days for CAPA due dates: weekends and public holidays off, make-up working days
(调休) on, from the maintained `holidays` calendar plus the company's own days in the config."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cached_property

import holidays

from csat.config import Capa
from csat.errors import ConfigError, ConfigProblem


class WorkCalendar:
    def __init__(self, settings: Capa) -> None:
        self.settings = settings
        self._extra_off = frozenset(settings.extra_holidays)
        self._extra_on = frozenset(settings.makeup_workdays)

    @cached_property
    def _public(self) -> holidays.HolidayBase:
        try:
            return holidays.country_holidays(self.settings.holidays_country)
        except NotImplementedError:
            raise ConfigError(
                [
                    ConfigProblem(
                        "rules",
                        None,
                        None,
                        "capa.holidays_country",
                        f"no holiday calendar for '{self.settings.holidays_country}'",
                    )
                ]
            ) from None

    def is_working_day(self, day: date) -> bool:
        if day in self._extra_off:
            return False
        if day in self._extra_on:
            return True
        public = self._public
        if day in public:  # also loads that year's make-up workdays
            return False
        return day.weekday() < 5 or day in getattr(public, "weekend_workdays", ())

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (start itself does not count)."""
        day = start
        while days > 0:
            day += timedelta(days=1)
            days -= self.is_working_day(day)
        return day
