"""Readers: one per file format, each turning a file into a `Book` of `Sheet` grids.

The format is decided from the bytes (readers.sniff), not the name. Every reader checks what it
opens before it parses (zip bombs, XML entities, a sheet's used range, size bounds) and raises
UnreadableWorkbook with a reason a person can act on; a single sheet that cannot be read is a
SheetRefused among the sheets, and the others are read. What a file *says* (its layout, its
ratings) is not a reader's business: layouts read the grids.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from csat.config import Limits
from csat.intake.grid import Sheet
from csat.intake.readers.base import SheetRefused, UnreadableWorkbook
from csat.intake.readers.sniff import sniff_open

__all__ = ["Book", "SheetRefused", "UnreadableWorkbook", "open_book"]


@dataclass
class Book:
    """An opened input file: its format, how its text was decoded, csat's own marks, sheets."""

    format: str  # "xlsx", "xlsm", "xlsb", "xls", "ods", "csv", "tsv"
    sheets: Iterator[Sheet | SheetRefused]
    marks: dict[str, str] = field(default_factory=dict)  # csat-* custom document properties
    encoding: str | None = None  # text files: the encoding detected
    delimiter: str | None = None  # text files: the separator detected


def open_book(path: Path, limits: Limits) -> Book:
    """Open any supported input file safely; raise UnreadableWorkbook when it cannot be read."""
    fmt, zf = sniff_open(path)
    if fmt == "text":
        from csat.intake.readers.text import read_text

        sheet, encoding, delimiter = read_text(path, limits)
        return Book("tsv" if delimiter == "\t" else "csv", iter([sheet]), {}, encoding, delimiter)
    from csat.intake.readers.workbook import open_workbook

    marks, sheets = open_workbook(path, fmt, limits, zf)
    return Book(fmt, sheets, marks)
