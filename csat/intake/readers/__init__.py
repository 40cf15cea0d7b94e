"""Readers: one per file format, each turning a file into a `Book` of `Sheet` grids.

Every reader checks what it opens before it parses (zip bombs, XML entities, size bounds) and
raises UnreadableWorkbook with a reason a person can act on. What a file *says* (its layout,
its ratings) is not a reader's business: layouts read the grids.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from csat.config import Limits
from csat.intake.grid import Sheet
from csat.intake.readers.xlsx import UnreadableWorkbook, check_workbook, read_sheets

__all__ = ["Book", "UnreadableWorkbook", "open_book"]


@dataclass
class Book:
    """An opened input file: its format, how its text was decoded, csat's own marks, sheets."""

    format: str  # "xlsx", "xlsm", "xlsb", "xls", "ods", "csv", "tsv"
    sheets: Iterator[Sheet]
    marks: dict[str, str] = field(default_factory=dict)  # csat-* custom document properties
    encoding: str | None = None  # text files: the encoding detected
    delimiter: str | None = None  # text files: the separator detected


def open_book(path: Path, limits: Limits) -> Book:
    """Open any supported input file safely; raise UnreadableWorkbook when it cannot be read."""
    marks = check_workbook(path, limits)
    fmt = path.suffix.lower().lstrip(".") or "xlsx"
    return Book(fmt, read_sheets(path), marks)
