"""Intake (SPEC §3): one input file -> responses, rejections and notices, sheet by sheet.

Nothing here stops the batch: every problem becomes a Rejection naming the file, sheet and cell,
and whatever was read but deserves a look becomes a Notice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from operator import itemgetter
from typing import Any

from csat.config import Rules
from csat.errors import UsageError
from csat.intake.cells import as_text, is_blank
from csat.intake.dates import BadDate, parse_date
from csat.intake.files import InputFile
from csat.intake.form import FormLayout, find_form, read_form
from csat.intake.grid import Sheet
from csat.intake.raw import RawResponse
from csat.intake.readers import SheetRefused, UnreadableWorkbook, open_book
from csat.intake.scales import BadRating
from csat.intake.table import (
    TablePlan,
    TableRows,
    find_table,
    plan_table,
    read_table,
    recommend_answer,
    replies,
)
from csat.models import Levels, Notice, Rejection, Response, RowCells, Skipped, Source
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
    columnar: bool = True,
) -> Iterator[Read]:
    """Every response, rejection and notice of one input file, in sheet and row order.
    `scale` pins the rating scale (else chosen per sheet); `today` bounds plausible dates.
    `columnar=False` reads tables by the general path alone (the reference for tests)."""
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
            settle = _Settle(rules, period, today) if own is None and columnar else None
            for got in _read_sheet(sheet, rules, shown, scale, settle):
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
    sheet: Sheet, rules: Rules, file: str, scale: str | None, settle: _Settle | None = None
) -> Iterator[RawResponse | Response | Rejection | Notice]:
    """A sheet's raw replies, rejections and notices; a table's replies finished already
    (by `settle`, the columnar path) when given one."""
    layout = find_table(sheet, rules)
    if layout is not None:
        plan = plan_table(sheet, layout, rules, scale)
        yield from table_notices(sheet, plan, rules, file)
        if settle is not None:
            yield from settle.table(sheet, plan, file)
        else:
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


_NEW: Any = object()


class _Settle:
    """The columnar hot path of a table (issue 12): `finish(read_table(...))`, the same
    replies, rejections and notices in the same order, with each row costing only its
    customer, code, comment, row number and a few dict lookups. Per sheet, each item column's
    distinct values were mapped to levels once (plan_table); here each combination of levels
    becomes one shared `Levels` (scored once by the Scorer), each distinct date cell is parsed
    and given its period once, each distinct comment is checked once. A row that is anything
    but plain (a refused cell, a bad or missing date, a long name or comment, a recommend
    answer that is not one) is read by the general path, `TableRows.raw` and `finish`, so
    every message stays theirs. tests/test_json_path.py holds both paths to the same output."""

    def __init__(self, rules: Rules, period: Period | None, today: date | None) -> None:
        self.rules, self.period, self.today = rules, period, today
        self._dates: dict[tuple[type, Any], tuple[date | None, str] | None] = {}
        self._comments: dict[str, str | None] = {}

    def table(
        self, sheet: Sheet, plan: TablePlan, file: str
    ) -> Iterator[Response | Rejection | Notice]:
        rules, period, today = self.rules, self.period, self.today
        rows = TableRows(sheet, plan, rules, file)
        columns = rows.columns
        general = rows.raw
        if not all(known for *_, known in columns):  # a column read cell by cell
            for r, row in replies(sheet, plan):
                yield from finish(general(r, row), rules, period, today=today)
            return
        keys = [key for key, *_ in columns]
        knowns = [known or {} for *_, known in columns]
        values = itemgetter(*(col for _, col, *_ in columns))  # MIN_ITEMS >= 2: a tuple
        lookup = dict.__getitem__
        combos: dict[tuple[Any, ...], Levels | None] = {}
        dates, comments = self._dates, self._comments
        when_of, comment_of = self._when, self._comment
        customer_col, code_col = rows.customer_col, rows.code_col
        date_col, comments_col, recommend_col = rows.date_col, rows.comments_col, rows.recommend_col
        letters, first, last = rows.letters, rows.first_letter, rows.last_letter
        name, r0 = sheet.name, sheet.first_row
        for r, row in replies(sheet, plan):
            levels = tuple(map(lookup, knowns, values(row)))
            ratings = combos.get(levels, _NEW)
            if ratings is _NEW:
                if len(combos) >= _COMBOS_MAX:
                    combos.clear()
                ratings = combos[levels] = _levels(keys, levels)
            customer = row[customer_col]
            if ratings is None or customer.__class__ is not str:
                yield from finish(general(r, row), rules, period, today=today)
                continue
            customer = customer.strip()
            if not customer or len(customer) > MAX_NAME_CHARS:
                yield from finish(general(r, row), rules, period, today=today)
                continue
            value = row[date_col] if date_col is not None else None
            when = dates.get((value.__class__, value), _NEW)
            if when is _NEW:
                when = when_of(value)
            if when is None:
                yield from finish(general(r, row), rules, period, today=today)
                continue
            if comments_col is None:
                comment = None
            else:
                value = row[comments_col]
                if value is None:
                    comment = None
                elif value.__class__ is str:
                    comment = comments.get(value, _NEW)
                    if comment is _NEW:
                        comment = comment_of(value)
                else:
                    comment = _comment_text(as_text(value), rules)
                if comment is not None and len(comment) > MAX_COMMENT_CHARS:
                    yield from finish(general(r, row), rules, period, today=today)
                    continue
            recommend = None
            if recommend_col is not None and not is_blank(row[recommend_col]):
                recommend = recommend_answer(row[recommend_col])
                if recommend is None:
                    yield from finish(general(r, row), rules, period, today=today)
                    continue
            number = r0 + r + 1
            n = str(number)
            yield Response(
                customer,
                as_text(row[code_col]) if code_col is not None else None,
                when[0],
                when[1],
                ratings,
                comment,
                Source(file, name, number),
                RowCells(letters, n),
                f"{first}{n}:{last}{n}",
                recommend,
            )

    def _when(self, value: Any) -> tuple[date | None, str] | None:
        """A date cell's date and period as `finish` settles them, None when `finish` would
        say something about it (rejection or notice); remembered per distinct cell value."""
        got: tuple[date | None, str] | None = None
        try:
            day = parse_date(value, self.rules.dates, self.today)
        except BadDate:
            pass
        else:
            if self.period is not None:
                got = (day, str(self.period))
            elif day is not None:
                got = (day, _period_name(day, self.rules.cadence.value))
        if len(self._dates) >= _MEMO_MAX:
            self._dates.clear()
        self._dates[(value.__class__, value)] = got
        return got

    def _comment(self, value: str) -> str | None:
        got = _comment_text(as_text(value), self.rules)
        if len(self._comments) >= _MEMO_MAX:
            self._comments.clear()
        self._comments[value] = got
        return got


_MEMO_MAX = 65_536  # distinct date cells and comments remembered
# Combinations of levels kept as shared Levels (~450 bytes each): a real survey's replies fall
# on a few thousand; beyond, they are made again (the Scorer still remembers their scores).
_COMBOS_MAX = 16_384


def _levels(keys: list[str], levels: tuple[Any, ...]) -> Levels | None:
    """One combination of a table's levels as shared ratings; None when a cell is refused."""
    if any(isinstance(v, BadRating) for v in levels):
        return None
    return Levels(zip(keys, levels, strict=True))


def _comment_text(comments: str | None, rules: Rules) -> str | None:
    """A comment as `finish` keeps it: a platform's (空) or 无 is no comment (not cut)."""
    if comments is not None and normalize(comments[:20]) in rules.unanswered:
        return None
    return comments
