"""The xlsx reader's entry points used outside intake (the customer list)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from csat.config import Limits
from csat.intake.grid import Sheet
from csat.intake.readers.base import SheetRefused, UnreadableWorkbook
from csat.intake.readers.sniff import sniff
from csat.intake.readers.workbook import open_workbook

__all__ = ["UnreadableWorkbook", "check_workbook", "read_sheets"]


def check_workbook(path: Path, limits: Limits) -> dict[str, str]:
    """Raise UnreadableWorkbook when `path` is not a safe, readable workbook; return its csat-*
    custom properties. Kept for the customer list; intake uses readers.open_book."""
    fmt = sniff(path)
    if fmt == "text":
        raise UnreadableWorkbook("a text file, not a workbook")
    marks, sheets = open_workbook(path, fmt, limits)
    sheets.close()  # type: ignore[attr-defined]
    return marks


def read_sheets(path: Path, limits: Limits | None = None) -> Iterator[Sheet]:
    """Yield each sheet's values; call check_workbook first. A refused sheet stops the read."""
    _, sheets = open_workbook(path, sniff(path), limits or Limits())
    for sheet in sheets:
        if isinstance(sheet, SheetRefused):
            raise UnreadableWorkbook(f"sheet '{sheet.name}': {sheet.reason}")
        yield sheet
