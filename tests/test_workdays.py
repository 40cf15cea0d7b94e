"""CAPA due dates in working days, on real Chinese calendars."""

from __future__ import annotations

from datetime import date

from csat.config import Capa
from csat.workdays import WorkCalendar

CN = WorkCalendar(Capa())


def test_national_day_2024_with_make_up_days() -> None:
    # Sun 29 Sep and Sat 12 Oct were worked; 1-7 Oct off.
    assert CN.is_working_day(date(2024, 9, 29)) and CN.is_working_day(date(2024, 10, 12))
    assert not any(CN.is_working_day(date(2024, 10, d)) for d in range(1, 8))
    assert CN.add_working_days(date(2024, 9, 27), 10) == date(2024, 10, 16)


def test_spring_festival_2024() -> None:
    # 10-17 Feb off; Sun 4 Feb and Sun 18 Feb worked.
    assert not CN.is_working_day(date(2024, 2, 15))
    assert CN.is_working_day(date(2024, 2, 18))
    # Working: 9, 18 (make-up), 19-23, 26, 27, 28 -> the tenth is 28 Feb.
    assert CN.add_working_days(date(2024, 2, 8), 10) == date(2024, 2, 28)


def test_plain_weeks_and_company_days() -> None:
    # Mon 3 Jun + 10: the 10th (Dragon Boat Festival) is off, so the tenth day is Tue 18 Jun.
    assert CN.add_working_days(date(2024, 6, 3), 10) == date(2024, 6, 18)
    assert CN.add_working_days(date(2024, 3, 4), 10) == date(2024, 3, 18)  # a plain fortnight
    own = WorkCalendar(Capa(extra_holidays=[date(2024, 6, 4)], makeup_workdays=[date(2024, 6, 8)]))
    assert not own.is_working_day(date(2024, 6, 4)) and own.is_working_day(date(2024, 6, 8))
    assert own.add_working_days(date(2024, 6, 3), 10) == date(2024, 6, 18)  # one off, one on
    assert own.add_working_days(date(2024, 6, 3), 4) == date(2024, 6, 8)
