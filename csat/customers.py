"""The customer list (who gets a survey): xlsx or csv with a header row.

Columns (any order; zh or en headers): customer code, name, language (zh/en), region, class,
contact, e-mail. Every bad row is listed with its cell and reason; nothing is generated until
the list is clean.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csat.config import Rules
from csat.errors import CsatError
from csat.intake.cells import as_text
from csat.intake.grid import column_letter
from csat.intake.readers.xlsx import UnreadableWorkbook, check_workbook, read_sheets
from csat.models import Rejection
from csat.text import normalize_label

HEADERS: dict[str, list[str]] = {
    "code": ["客户编号", "客户代码", "编号", "Customer code", "Code"],
    "name": ["客户名称", "客户", "Customer", "Customer name", "Name"],
    "language": ["语言", "Language", "Lang"],
    "region": ["地区", "区域", "Region"],
    "class": ["类别", "等级", "客户等级", "Class", "Category"],
    "contact": ["联系人", "Contact"],
    "email": ["邮箱", "电子邮件", "E-mail", "Email"],
}
REQUIRED = ("code", "name", "language")
LANGUAGES = {
    "zh": "zh",
    "中文": "zh",
    "chinese": "zh",
    "cn": "zh",
    "en": "en",
    "英文": "en",
    "english": "en",
}
# C0 (but tab and line breaks), DEL, C1: a form cannot hold them and a terminal would obey them
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BY_HEADER = {normalize_label(a): key for key, aliases in HEADERS.items() for a in aliases}


@dataclass(frozen=True)
class Customer:
    code: str
    name: str
    language: str  # "zh" | "en"
    region: str | None = None
    klass: str | None = None
    contact: str | None = None
    email: str | None = None


class CustomerListError(CsatError):
    """The customer list has problems; each is a rejection with its cell."""

    def __init__(self, problems: list[Rejection]) -> None:
        self.problems = problems
        lines = [
            f"{p.file} {p.sheet or ''} {p.cell or ''}: {p.reason}".replace("  ", " ")
            for p in problems
        ]
        super().__init__(
            "the customer list has problems; nothing was generated:\n  " + "\n  ".join(lines)
        )


def read_customers(path: Path, rules: Rules) -> list[Customer]:
    """All customers of the list, or CustomerListError naming every bad cell."""
    shown = str(path)
    if not path.is_file():
        raise CustomerListError([Rejection(shown, None, None, "file not found")])
    try:
        if path.suffix.lower() == ".csv":
            sheet, rows = None, _csv_rows(path)
        else:
            check_workbook(path, rules.limits)
            first = next(iter(read_sheets(path)), None)
            if first is None:
                raise UnreadableWorkbook("the workbook has no sheet")
            sheet, rows = first.name, first.rows
    except (UnreadableWorkbook, OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CustomerListError([Rejection(shown, None, None, f"cannot be read: {exc}")]) from None
    return _validate(rows, shown, sheet)


def _csv_rows(path: Path) -> list[list[Any]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [list(row) for row in csv.reader(fh)]


def _validate(rows: list[list[Any]], shown: str, sheet: str | None) -> list[Customer]:
    problems: list[Rejection] = []
    header_at = next(
        (
            i
            for i, row in enumerate(rows[:20])
            if sum(isinstance(v, str) and normalize_label(v) in _BY_HEADER for v in row) >= 2
        ),
        None,
    )
    if header_at is None:
        raise CustomerListError(
            [
                Rejection(
                    shown,
                    sheet,
                    None,
                    "no header row: expected columns "
                    "客户编号/Customer code, 客户名称/Customer, 语言/Language",
                )
            ]
        )
    columns: dict[str, int] = {}
    for c, value in enumerate(rows[header_at]):
        key = _BY_HEADER.get(normalize_label(value)) if isinstance(value, str) else None
        if key:
            columns.setdefault(key, c)
    missing = [k for k in REQUIRED if k not in columns]
    if missing:
        raise CustomerListError(
            [
                Rejection(
                    shown,
                    sheet,
                    f"{header_at + 1}:{header_at + 1}",
                    f"missing column(s): {', '.join(missing)}",
                )
            ]
        )
    customers: list[Customer] = []
    seen: dict[str, str] = {}
    for r in range(header_at + 1, len(rows)):
        row = rows[r]

        def get(key: str, row: list[Any] = row) -> str | None:
            col = columns.get(key)
            return as_text(row[col]) if col is not None and col < len(row) else None

        def cell(key: str, r: int = r) -> str:
            return f"{column_letter(columns[key])}{r + 1}"

        values = {k: get(k) for k in HEADERS}
        if not any(values.values()):
            continue
        ok = True
        for key, value in values.items():
            bad = _CONTROL.search(value or "")
            if bad:
                problems.append(
                    Rejection(
                        shown,
                        sheet,
                        cell(key),
                        f"control character U+{ord(bad.group()):04X} in the {key}: remove it "
                        "(it cannot be printed on a form)",
                    )
                )
                ok = False
        code, name, language = values["code"], values["name"], values["language"]
        for key in REQUIRED:
            if not values[key]:
                problems.append(Rejection(shown, sheet, cell(key), f"no {key}: fill it in"))
                ok = False
        lang = LANGUAGES.get((language or "").strip().casefold())
        if language and lang is None:
            problems.append(
                Rejection(
                    shown, sheet, cell("language"), f"unknown language '{language}': use zh or en"
                )
            )
            ok = False
        email = values["email"]
        if email and not _EMAIL.match(email):
            problems.append(
                Rejection(shown, sheet, cell("email"), f"'{email}' is not an e-mail address")
            )
            ok = False
        if code:
            if code in seen:
                problems.append(
                    Rejection(
                        shown,
                        sheet,
                        cell("code"),
                        f"customer code {code} is also in {seen[code]}: codes must be unique",
                    )
                )
                ok = False
            else:
                seen[code] = cell("code")
        if ok and code and name and lang:
            customers.append(
                Customer(
                    code, name, lang, values["region"], values["class"], values["contact"], email
                )
            )
    if problems:
        raise CustomerListError(problems)
    if not customers:
        raise CustomerListError([Rejection(shown, sheet, None, "the list has no customers")])
    return customers
