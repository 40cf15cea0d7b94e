"""Intake (SPEC §3): one input file -> responses, rejections and notices, sheet by sheet.

Nothing here stops the batch: every problem becomes a Rejection naming the file, sheet and cell,
and whatever was read but deserves a look becomes a Notice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from csat.config import Rules
from csat.errors import UsageError
from csat.intake.cells import is_blank
from csat.intake.dates import BadDate, parse_date
from csat.intake.files import InputFile
from csat.intake.form import FormLayout, find_form, read_form
from csat.intake.grid import Sheet
from csat.intake.raw import RawResponse
from csat.intake.readers import SheetRefused, UnreadableWorkbook, open_book
from csat.intake.table import TablePlan, find_table, plan_table, read_table
from csat.models import Notice, Rejection, Response, Skipped
from csat.periods import Period, parse_period, period_of
from csat.text import normalize

MAX_NAME_CHARS = 500
MAX_COMMENT_CHARS = 32767  # what one Excel cell holds

Read = Response | Rejection | Skipped | Notice


def read_file(
    item: InputFile,
    rules: Rules,
    period: Period | None = None,
    *,
    scale: str | None = None,
    today: date | None = None,
) -> Iterator[Read]:
    """Every response, rejection and notice of one input file, in sheet and row order.
    `scale` pins the rating scale (else chosen per sheet); `today` bounds plausible dates."""
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
        any_data = False
        for sheet in book.sheets:
            if isinstance(sheet, SheetRefused):
                any_data = True
                yield Rejection(shown, sheet.name, sheet.cell, sheet.reason)
                continue
            if not any(not is_blank(v) for row in sheet.rows for v in row):
                continue  # Excel's empty Sheet2, Sheet3
            any_data = True
            for got in _read_sheet(sheet, rules, shown, scale):
                if not isinstance(got, RawResponse):
                    yield got
                    continue
                if own is not None:  # the code csat put in the form wins over edited text
                    got.customer_code = own.code
                    got.customer = got.customer or own.customer
                    if got.blank:
                        yield Skipped(shown, "a csat survey form not filled in yet")
                        continue
                yield from finish(got, rules, period, period_known=own is not None, today=today)
        if not any_data:
            yield Rejection(shown, None, None, "the workbook is empty: no sheet holds any data")
    except UnreadableWorkbook as exc:
        yield Rejection(shown, None, None, str(exc))
    except OSError as exc:
        yield Rejection(shown, None, None, f"cannot be read: {exc.strerror or exc}")


def _read_sheet(
    sheet: Sheet, rules: Rules, file: str, scale: str | None
) -> Iterator[RawResponse | Rejection | Notice]:
    layout = find_table(sheet, rules)
    if layout is not None:
        plan = plan_table(sheet, layout, rules, scale)
        yield from table_notices(sheet, plan, rules, file)
        yield from read_table(sheet, plan, rules, file)
        return
    form = find_form(sheet, rules, scale)
    if form is not None:
        yield from form_notices(sheet, form, rules, file)
        yield read_form(sheet, form, rules, file)
        return
    yield Rejection(
        file,
        sheet.name,
        None,
        "no survey found on this sheet: expected a header row with a customer column "
        "(客户名称/Customer) and item columns (产品质量, RoHS情况 …), or a form with "
        "客户名称: and the items in rows",
    )


def table_notices(sheet: Sheet, plan: TablePlan, rules: Rules, file: str) -> Iterator[Notice]:
    name = sheet.name
    yield Notice(file, name, None, f"read on {plan.choice.describe(rules)}")
    unmatched = [c for c in plan.layout.columns if c.became == "none"]
    for key, item in rules.items.items():
        if key not in plan.layout.items:
            listed = ", ".join(f"{c.cell} '{_short(c.header)}'" for c in unmatched[:6])
            more = f" and {len(unmatched) - 6} more" if len(unmatched) > 6 else ""
            yield Notice(
                file,
                name,
                None,
                f"no column for {item.labels.zh} (weight {item.weight:g}): read as unanswered; "
                + (
                    f"header cells not matched: {listed}{more}"
                    if unmatched
                    else "no header cell is left that could be it"
                ),
            )
    first = {c.match.name: c for c in plan.layout.columns if c.became in ("item", "field")}
    for c in plan.layout.columns:
        if c.became == "duplicate" and c.match.name in first:
            yield Notice(
                file,
                name,
                c.cell,
                f"column {c.cell} '{_short(c.header)}' also reads as {c.match.name} "
                f"({c.match.why}); only the first, {first[c.match.name].cell}, is read",
            )
    if plan.skipped:
        rows = ", ".join(f"row {r} ({why})" for r, why in plan.skipped[:8])
        more = f" and {len(plan.skipped) - 8} more" if len(plan.skipped) > 8 else ""
        yield Notice(
            file,
            name,
            None,
            f"{_rows(len(plan.skipped))} skipped, not replies: {rows}{more}",
        )


def form_notices(sheet: Sheet, form: FormLayout, rules: Rules, file: str) -> Iterator[Notice]:
    yield Notice(file, sheet.name, None, f"read on {form.choice.describe(rules)}")
    for key, item in rules.items.items():
        if key not in form.items:
            yield Notice(
                file,
                sheet.name,
                None,
                f"no row for {item.labels.zh} (weight {item.weight:g}) on this form: read as "
                "unanswered",
            )


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


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


def finish(
    raw: RawResponse,
    rules: Rules,
    period: Period | None,
    *,
    period_known: bool = False,
    today: date | None = None,
) -> Iterator[Response | Rejection | Notice]:
    """Settle customer, date and period; yield the response or one rejection per problem.
    A date that cannot be read rejects the reply only when its period depends on the date."""
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
    elif len(raw.customer) > MAX_NAME_CHARS:
        problems.append(
            Rejection(
                file,
                sheet,
                raw.customer_cell,
                f"the customer cell holds {len(raw.customer):,} characters, not a name "
                f"(at most {MAX_NAME_CHARS}): put the customer's name alone in it",
            )
        )
    reply_date, bad_date = None, None
    try:
        reply_date = parse_date(raw.date_value, rules.dates, today)
    except BadDate as exc:
        bad_date = str(exc)
    notices: list[Notice] = []
    if bad_date is not None:
        if period is None:
            problems.append(Rejection(file, sheet, raw.date_cell, bad_date))
        else:
            given = "the form" if period_known else "--period"
            notices.append(
                Notice(
                    file,
                    sheet,
                    raw.date_cell,
                    f"reply date not understood ({bad_date}); kept, its period {period} comes "
                    f"from {given}",
                )
            )
    elif period is None and reply_date is None:
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
    comments = raw.comments
    if comments is not None and normalize(comments[:20]) in rules.unanswered:
        comments = None  # a platform's (空) for an empty answer, or 无: nothing was said
    if comments is not None and len(comments) > MAX_COMMENT_CHARS:
        notices.append(
            Notice(
                file,
                sheet,
                raw.customer_cell,
                f"comment of {len(comments):,} characters cut to {MAX_COMMENT_CHARS:,}, what one "
                "Excel cell holds",
            )
        )
        comments = comments[:MAX_COMMENT_CHARS]
    yield from notices
    assert raw.customer is not None
    assert period is not None or reply_date is not None
    yield Response(
        customer=raw.customer,
        customer_code=raw.customer_code,
        date=reply_date,
        period=str(period) if period else _period_name(reply_date, rules.cadence.value),
        ratings=raw.ratings,
        comments=comments,
        recommend=raw.recommend,
        source=raw.source,
        cells=raw.cells,
        span=raw.span,
    )
