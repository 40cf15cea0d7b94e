"""Intake (SPEC §3): paths -> responses and rejections, file by file, sheet by sheet.

Nothing here stops the batch: every problem becomes a Rejection naming the file, sheet and cell.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from csat.config import Rules
from csat.errors import UsageError
from csat.intake.cells import (
    RatingReader,
    UnknownValue,
    describe_date_problem,
    is_blank,
    parse_date,
)
from csat.intake.files import InputFile
from csat.intake.layouts import (
    RawResponse,
    find_form,
    find_table_header,
    read_form,
    read_table,
)
from csat.intake.readers import SheetRefused, UnreadableWorkbook, open_book
from csat.models import Rejection, Response, Skipped
from csat.periods import Period, parse_period, period_of


def read_file(
    item: InputFile, rules: Rules, period: Period | None
) -> Iterator[Response | Rejection | Skipped]:
    """Every response and rejection of one workbook, in sheet and row order."""
    shown = item.shown
    try:
        book = open_book(item.path, rules.limits)
        marks = book.marks
        if "csat-report" in marks:
            yield Skipped(shown, "a report csat wrote, not a returned survey")
            return
        own = _own_form(marks, rules, period, shown)
        if isinstance(own, Rejection):
            yield own
            return
        if own is not None:
            period = own.period
        sheets = book.sheets
        reader = RatingReader(rules)
        any_data = False
        for sheet in sheets:
            if isinstance(sheet, SheetRefused):
                any_data = True
                yield Rejection(shown, sheet.name, sheet.cell, sheet.reason)
                continue
            if not any(not is_blank(v) for row in sheet.rows for v in row):
                continue  # Excel's empty Sheet2, Sheet3
            any_data = True
            header = find_table_header(sheet, rules)
            if header is not None:
                for raw in read_table(sheet, header, rules, shown, reader):
                    yield from finish(raw, rules, period)
                continue
            form = find_form(sheet, rules)
            if form is not None:
                raw = read_form(sheet, form, rules, shown, reader)
                if own is not None:  # the code csat put in the form wins over edited text
                    raw.customer_code = own.code
                    raw.customer = raw.customer or own.customer
                yield from finish(raw, rules, period)
                continue
            yield Rejection(
                shown,
                sheet.name,
                None,
                "no survey found on this sheet: expected a header row with a customer column "
                "(客户名称/Customer) and item columns (产品质量, RoHS情况 …), or a form with "
                "客户名称: and the items in rows",
            )
        if not any_data:
            yield Rejection(shown, None, None, "the workbook is empty: no sheet holds any data")
    except UnreadableWorkbook as exc:
        yield Rejection(shown, None, None, str(exc))
    except OSError as exc:
        yield Rejection(shown, None, None, f"cannot be read: {exc.strerror or exc}")


@dataclass(frozen=True)
class OwnForm:
    """What a form csat generated says about itself (its custom document properties)."""

    code: str
    customer: str | None
    period: Period


def _own_form(
    marks: dict[str, str], rules: Rules, given: Period | None, shown: str
) -> OwnForm | Rejection | None:
    """Recognise a returned csat form; refuse one for another period or of another revision."""
    if "csat-form-period" not in marks:
        return None
    try:
        form_period = parse_period(marks["csat-form-period"])
    except UsageError:
        return Rejection(shown, None, None, "the form's csat metadata is damaged (period)")
    revision = marks.get("csat-form-revision", "")
    if revision != rules.survey.revision:
        return Rejection(
            shown,
            None,
            None,
            f"form revision {revision or '(none)'} is not the current {rules.survey.revision}: "
            "send the customer the current form (csat survey)",
        )
    if given is not None and given != form_period:
        return Rejection(
            shown,
            None,
            None,
            f"this form was sent for {form_period}, not {given}: import it with "
            f"--period {form_period} or without --period",
        )
    code = marks.get("csat-form-code", "")
    if not code:
        return Rejection(shown, None, None, "the form's csat metadata is damaged (customer code)")
    return OwnForm(code, marks.get("csat-form-customer") or None, form_period)


@lru_cache(maxsize=1024)
def _month_period(year: int, month: int, cadence: str) -> str:
    return str(period_of(date(year, month, 1), cadence))


def _period_name(day: date | None, cadence: str) -> str:
    assert day is not None
    return _month_period(day.year, day.month, cadence)


def finish(raw: RawResponse, rules: Rules, period: Period | None) -> Iterator[Response | Rejection]:
    """Settle customer, date and period; yield the response or one rejection per problem."""
    problems = list(raw.problems)
    file, sheet = raw.source.file, raw.source.sheet
    if raw.customer is None:
        problems.append(
            Rejection(
                file,
                sheet,
                raw.customer_cell,
                "no customer name: fill in the customer (客户名称) so the reply can be attributed",
            )
        )
    reply_date, bad_date = None, False
    try:
        reply_date = parse_date(raw.date_value)
    except UnknownValue:
        bad_date = True
        problems.append(
            Rejection(file, sheet, raw.date_cell, describe_date_problem(raw.date_value))
        )
    if period is None and reply_date is None and not bad_date:
        problems.append(
            Rejection(
                file,
                sheet,
                raw.date_cell or raw.customer_cell,
                "no reply date and no --period: fill in the date or run with --period 2024H1",
            )
        )
    if problems:
        yield from problems
        return
    assert raw.customer is not None
    assert period is not None or reply_date is not None
    yield Response(
        customer=raw.customer,
        customer_code=raw.customer_code,
        date=reply_date,
        period=str(period) if period else _period_name(reply_date, rules.cadence.value),
        ratings=raw.ratings,
        comments=raw.comments,
        source=raw.source,
        cells=raw.cells,
        span=raw.span,
    )
