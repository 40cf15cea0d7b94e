"""`csat inspect`: how intake reads each file and sheet, without scoring or recording.

It runs the very layout and scale decisions that `csat score` runs (find_table, plan_table,
find_form), so what it explains is what happens.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from csat.config import Rules
from csat.intake.cells import is_blank
from csat.intake.files import InputFile
from csat.intake.form import FormLayout, find_form
from csat.intake.grid import Sheet, cell_name, column_letter
from csat.intake.readers import SheetRefused, UnreadableWorkbook, open_book
from csat.intake.scales import ScaleChoice
from csat.intake.table import TablePlan, find_table, plan_table


@dataclass
class ColumnInfo:
    cell: str  # where its header (or a form's label) stands
    header: str
    became: str  # "item quality", "field customer", "ignored", "duplicate", "nothing"
    why: str


@dataclass
class SheetInfo:
    name: str
    layout: str  # table | form | empty | none | refused
    header_rows: list[int] | None = None  # 1-based first and last header row
    columns: list[ColumnInfo] = field(default_factory=list)
    scale: str | None = None
    scale_reason: str | None = None
    ambiguous: dict[str, dict[str, str]] = field(default_factory=dict)
    replies: int = 0
    rows_skipped: list[dict[str, Any]] = field(default_factory=list)
    blank_rows: int = 0
    missing_items: list[str] = field(default_factory=list)
    refused: str | None = None  # why a reader would not load the sheet


@dataclass
class FileInfo:
    file: str
    format: str | None
    encoding: str | None = None
    delimiter: str | None = None
    kind: str = "survey"  # survey | csat form | csat report
    problem: str | None = None
    sheets: list[SheetInfo] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def inspect_file(item: InputFile, rules: Rules, scale: str | None = None) -> FileInfo:
    try:
        book = open_book(item.path, rules.limits)
    except UnreadableWorkbook as exc:
        return FileInfo(item.shown, None, problem=str(exc))
    except OSError as exc:
        return FileInfo(item.shown, None, problem=f"cannot be read: {exc.strerror or exc}")
    info = FileInfo(item.shown, book.format, book.encoding, book.delimiter)
    if "csat-report" in book.marks:
        info.kind = "csat report"
        return info
    if "csat-form-period" in book.marks:
        info.kind = f"csat form for {book.marks['csat-form-period']}"
    try:
        info.sheets = list(_sheets(book.sheets, rules, scale))
    except UnreadableWorkbook as exc:
        info.problem = str(exc)
    return info


def _sheets(
    sheets: Iterator[Sheet | SheetRefused], rules: Rules, scale: str | None
) -> Iterator[SheetInfo]:
    for sheet in sheets:
        if isinstance(sheet, SheetRefused):
            yield SheetInfo(sheet.name, "refused", refused=f"{sheet.cell}: {sheet.reason}")
            continue
        if not any(not is_blank(v) for row in sheet.rows for v in row):
            yield SheetInfo(sheet.name, "empty")
            continue
        layout = find_table(sheet, rules)
        if layout is not None:
            yield _table_info(sheet, plan_table(sheet, layout, rules, scale), rules)
            continue
        form = find_form(sheet, rules, scale)
        if form is not None:
            yield _form_info(sheet, form, rules)
            continue
        yield SheetInfo(sheet.name, "none")


def _scale(info: SheetInfo, choice: ScaleChoice, rules: Rules) -> None:
    info.scale = choice.scale
    info.scale_reason = choice.describe(rules)
    info.ambiguous = choice.ambiguous


def _table_info(sheet: Sheet, plan: TablePlan, rules: Rules) -> SheetInfo:
    layout = plan.layout
    info = SheetInfo(
        sheet.name,
        "table",
        [
            sheet.first_row + layout.first_header_row + 1,
            sheet.first_row + layout.last_header_row + 1,
        ],
        replies=len(plan.reply_rows),
        rows_skipped=[{"row": r, "why": why} for r, why in plan.skipped],
        blank_rows=plan.blank_rows,
        missing_items=[k for k in rules.items if k not in layout.items],
    )
    for c in layout.columns:
        m = c.match
        if c.became == "item" and m.name is not None:
            became = f"item {m.name}"
            why = m.why
            if m.name in plan.other_range:
                why += f"; refused: not on the five levels ({plan.other_range[m.name]})"
        elif c.became == "field":
            became, why = f"field {m.name}", m.why
        elif c.became == "duplicate":
            became, why = "ignored", f"a second column for {m.name} ({m.why}); the first counts"
        elif c.became == "ignored":
            became, why = "ignored", f"not an answer ({m.why})"
        else:
            became, why = "nothing", m.why
        info.columns.append(ColumnInfo(c.cell, c.header, became, why))
    _scale(info, plan.choice, rules)
    return info


def _form_info(sheet: Sheet, form: FormLayout, rules: Rules) -> SheetInfo:
    r0, c0 = sheet.first_row, sheet.first_col
    info = SheetInfo(
        sheet.name,
        "form",
        [r0 + form.header_row + 1] * 2 if form.header_row is not None else None,
        replies=1,
        missing_items=[k for k in rules.items if k not in form.items],
    )
    for name, (r, c) in form.labels.items():
        info.columns.append(
            ColumnInfo(cell_name(r0 + r, c0 + c), str(sheet.rows[r][c]), f"field {name}", "label")
        )
    for key, (r, c, text) in form.items.items():
        info.columns.append(ColumnInfo(cell_name(r0 + r, c0 + c), text, f"item {key}", "row label"))
    for c, level in form.level_cols.items():
        assert form.header_row is not None
        header = str(sheet.rows[form.header_row][c])
        info.columns.append(
            ColumnInfo(
                cell_name(r0 + form.header_row, c0 + c), header, f"level {level}", "level column"
            )
        )
    for col, what in ((form.rating_col, "rating column"), (form.inline_col, "inline options")):
        if col is not None:
            info.columns.append(ColumnInfo(column_letter(c0 + col), "", what, what))
    _scale(info, form.choice, rules)
    return info
