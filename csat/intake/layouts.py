"""The two survey layouts of SPEC §3, recognised per sheet.

Table: a header row (customer column + item columns) within the first rows, one response per row.
Form: one customer per sheet; labelled cells (客户名称: …) and items in rows, rated either in a
rating column or by a mark under one of several level columns.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from csat.config import Rules
from csat.intake.cells import RatingReader, UnknownValue, as_text, is_blank
from csat.intake.grid import Sheet, cell_name, column_letter
from csat.models import Rejection, Source
from csat.text import normalize_label

HEADER_SEARCH_ROWS = 30


@dataclass(slots=True)
class RawResponse:
    """A response as found on a sheet, before the period is settled and it is scored."""

    customer: str | None
    customer_code: str | None
    date_value: Any
    date_cell: str | None
    ratings: dict[str, str | None]
    comments: str | None
    source: Source
    cells: dict[str, str]
    span: str | None
    customer_cell: str | None
    problems: list[Rejection] = field(default_factory=list)


def _label_of(value: Any, rules: Rules) -> tuple[str, str] | None:
    """('field', name) or ('item', key) when a cell is a known header/label."""
    if not isinstance(value, str) or len(value) > 80:
        return None
    text = normalize_label(value)
    if not text:
        return None
    name = rules.field_by_alias.get(text)
    if name is not None:
        return ("field", name)
    key = rules.item_by_alias.get(text)
    if key is not None:
        return ("item", key)
    return None


def _inline_label(value: Any, rules: Rules) -> str | None:
    """The field of a form cell that holds label and value together: `客户名称：东莞精密`."""
    if not isinstance(value, str):
        return None
    for sep in (":", "："):
        if sep in value:
            name = rules.field_by_alias.get(normalize_label(value.split(sep, 1)[0]))
            return name
    return None


# --------------------------------------------------------------------------------------------
# Table layout


@dataclass(frozen=True)
class TableHeader:
    row: int  # index into sheet.rows
    fields: dict[str, int]  # customer/customer_code/date/comments -> column index
    items: dict[str, int]  # item key -> column index
    item_headers: dict[str, str]  # item key -> header as written


def find_table_header(sheet: Sheet, rules: Rules) -> TableHeader | None:
    for r, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        fields: dict[str, int] = {}
        items: dict[str, int] = {}
        headers: dict[str, str] = {}
        for c, value in enumerate(row):
            label = _label_of(value, rules)
            if label is None:
                continue
            kind, name = label
            if kind == "field":
                fields.setdefault(name, c)
            elif name not in items:
                items[name] = c
                headers[name] = str(value).strip()
        if "customer" in fields and items:
            return TableHeader(r, fields, items, headers)
    return None


def read_table(
    sheet: Sheet, header: TableHeader, rules: Rules, file: str, reader: RatingReader
) -> Iterator[RawResponse]:
    """One RawResponse per non-blank row under the header. This is the per-row hot path:
    cell names are built from precomputed column letters, values are read once."""
    r0, c0 = sheet.first_row, sheet.first_col
    f = header.fields
    customer_col = f["customer"]
    code_col, date_col, comments_col = f.get("customer_code"), f.get("date"), f.get("comments")
    items = [(key, col, column_letter(c0 + col)) for key, col in header.items.items()]
    first_letter = column_letter(c0 + min(header.items.values()))
    last_letter = column_letter(c0 + max(header.items.values()))
    customer_letter = column_letter(c0 + customer_col)
    date_letter = column_letter(c0 + date_col) if date_col is not None else None
    level = reader.level
    name = sheet.name
    for r in range(header.row + 1, len(sheet.rows)):
        row = sheet.rows[r]
        customer = as_text(row[customer_col])
        code = as_text(row[code_col]) if code_col is not None else None
        date_value = row[date_col] if date_col is not None else None
        comments = as_text(row[comments_col]) if comments_col is not None else None
        values = [row[col] for _, col, _ in items]
        if (
            customer is None
            and code is None
            and is_blank(date_value)
            and comments is None
            and all(is_blank(v) for v in values)
        ):
            continue  # a blank row, perhaps with a sequence number
        n = str(r0 + r + 1)
        ratings: dict[str, str | None] = {}
        problems: list[Rejection] = []
        for (key, _, letter), value in zip(items, values, strict=True):
            try:
                ratings[key] = level(value)
            except UnknownValue as exc:
                reason = _unknown_rating(str(exc), header.item_headers[key], rules)
                problems.append(Rejection(file, name, letter + n, reason))
        yield RawResponse(
            customer=customer,
            customer_code=code,
            date_value=date_value,
            date_cell=date_letter + n if date_letter else None,
            ratings=ratings,
            comments=comments,
            source=Source(file, name, r0 + r + 1),
            cells={key: letter + n for key, _, letter in items},
            span=f"{first_letter}{n}:{last_letter}{n}",
            customer_cell=customer_letter + n,
            problems=problems,
        )


def _unknown_rating(text: str, item_label: str, rules: Rules) -> str:
    words = "/".join(lv.labels.zh for lv in rules.levels.values())
    return f"unknown rating '{text}' for {item_label}: write one of {words} (or 1-5)"


# --------------------------------------------------------------------------------------------
# Form layout


@dataclass(frozen=True)
class FormLayout:
    labels: dict[str, tuple[int, int]]  # field name -> (row, col) of its label cell
    items: dict[str, tuple[int, int, str]]  # item key -> (row, col, label as written)
    level_cols: dict[int, str]  # column -> level key (marks layout)
    rating_col: int | None  # rating-column layout


def find_form(sheet: Sheet, rules: Rules) -> FormLayout | None:
    labels: dict[str, tuple[int, int]] = {}
    items: dict[str, tuple[int, int, str]] = {}
    item_cols: dict[int, int] = {}
    for r, row in enumerate(sheet.rows):
        for c, value in enumerate(row):
            label = _label_of(value, rules)
            if label is None:
                inline = _inline_label(value, rules)
                if inline is not None:
                    labels.setdefault(inline, (r, c))
                continue
            kind, name = label
            if kind == "field":
                labels.setdefault(name, (r, c))
            elif name not in items:
                items[name] = (r, c, str(value).strip())
                item_cols[c] = item_cols.get(c, 0) + 1
    if not items or max(item_cols.values()) < 2:
        return None
    main_col = max(item_cols, key=lambda c: item_cols[c])
    items = {k: v for k, v in items.items() if v[1] == main_col}
    first_item_row = min(r for r, _, _ in items.values())
    for r in range(first_item_row - 1, max(-1, first_item_row - 4), -1):
        level_cols: dict[int, str] = {}
        rating_col = None
        for c, value in enumerate(sheet.rows[r]):
            if not isinstance(value, str) or c <= main_col:
                continue
            level = rules.level_by_alias.get(normalize_label(value))
            if level is not None:
                level_cols.setdefault(c, level)
            elif rules.field_by_alias.get(normalize_label(value)) == "rating":
                rating_col = c
        if len(level_cols) >= 2:
            return FormLayout(labels, items, level_cols, None)
        if rating_col is not None:
            return FormLayout(labels, items, {}, rating_col)
    return FormLayout(labels, items, {}, None)


def _labelled_value(
    sheet: Sheet, form: FormLayout, name: str, rules: Rules
) -> tuple[Any, str | None, bool]:
    """(value, cell, label found) for a labelled field: the text after the label's colon,
    else the first non-empty cell to its right that is not itself a label."""
    where = form.labels.get(name)
    if where is None:
        return None, None, False
    r, c = where
    row = sheet.rows[r]
    label_text = str(row[c])
    for sep in (":", "："):
        if sep in label_text:
            rest = label_text.split(sep, 1)[1].strip()
            if rest:
                return rest, cell_name(sheet.first_row + r, sheet.first_col + c), True
    for cc in range(c + 1, len(row)):
        value = row[cc]
        if is_blank(value):
            continue
        if _label_of(value, rules) is not None:
            break
        return value, cell_name(sheet.first_row + r, sheet.first_col + cc), True
    return None, cell_name(sheet.first_row + r, sheet.first_col + c + 1), True


def read_form(
    sheet: Sheet, form: FormLayout, rules: Rules, file: str, reader: RatingReader
) -> RawResponse:
    r0, c0 = sheet.first_row, sheet.first_col
    customer, customer_cell, _ = _labelled_value(sheet, form, "customer", rules)
    code, _, _ = _labelled_value(sheet, form, "customer_code", rules)
    date_value, date_cell, _ = _labelled_value(sheet, form, "date", rules)
    comments, _, _ = _labelled_value(sheet, form, "comments", rules)
    rating_cols = sorted(form.level_cols) or (
        [form.rating_col] if form.rating_col is not None else []
    )
    rows = [r for r, _, _ in form.items.values()]
    span = None
    if rating_cols:
        span = (
            f"{cell_name(r0 + min(rows), c0 + rating_cols[0])}:"
            f"{cell_name(r0 + max(rows), c0 + rating_cols[-1])}"
        )
    response = RawResponse(
        customer=as_text(customer),
        customer_code=as_text(code),
        date_value=date_value,
        date_cell=date_cell,
        ratings={},
        comments=as_text(comments),
        source=Source(file, sheet.name, None),
        cells={},
        span=span,
        customer_cell=customer_cell,
    )
    if not rating_cols:
        response.problems.append(
            Rejection(
                file,
                sheet.name,
                None,
                "form has item rows but no level columns (非常满意 … 非常不满意) and no rating "
                "column (评价/Rating) in the header row above them",
            )
        )
        return response
    for key, (r, _, label) in form.items.items():
        row = sheet.rows[r]
        if form.rating_col is not None:
            cell = cell_name(r0 + r, c0 + form.rating_col)
            response.cells[key] = cell
            try:
                response.ratings[key] = reader.level(row[form.rating_col])
            except UnknownValue as exc:
                response.problems.append(
                    Rejection(file, sheet.name, cell, _unknown_rating(str(exc), label, rules))
                )
            continue
        _read_marks(response, row, r0 + r, c0, form, key, label, reader)
    return response


def _read_marks(
    response: RawResponse,
    row: list[Any],
    abs_row: int,
    c0: int,
    form: FormLayout,
    key: str,
    label: str,
    reader: RatingReader,
) -> None:
    file, sheet = response.source.file, response.source.sheet
    ticked: list[tuple[str, str]] = []
    for col, level in form.level_cols.items():
        value = row[col] if col < len(row) else None
        cell = cell_name(abs_row, c0 + col)
        try:
            if reader.is_ticked(value):
                ticked.append((cell, level))
        except UnknownValue as exc:
            response.problems.append(
                Rejection(
                    file,
                    sheet,
                    cell,
                    f"unrecognised mark '{exc}' for {label}: put ✓ or X in one level column only",
                )
            )
    if len(ticked) > 1:
        cells = ", ".join(c for c, _ in ticked)
        response.problems.append(
            Rejection(
                file,
                sheet,
                f"{ticked[0][0]}:{ticked[-1][0]}",
                f"{len(ticked)} levels ticked for {label} in {cells}: csat never guesses; "
                "ask the customer which one they meant",
            )
        )
        return
    response.cells[key] = ticked[0][0] if ticked else cell_name(abs_row, c0 + min(form.level_cols))
    response.ratings[key] = ticked[0][1] if ticked else None
