"""A sheet as every reader delivers it: a grid of plain values, and A1 cell names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Sheet:
    """A sheet's values as a grid, with the offset of its first cell (0-based row, column)."""

    name: str
    rows: list[list[Any]]
    first_row: int
    first_col: int


def column_letter(index: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 27 -> AB)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_name(row: int, col: int) -> str:
    """0-based row and column -> A1 reference."""
    return f"{column_letter(col)}{row + 1}"


class CellError(str):
    """A cell holding a spreadsheet error (#DIV/0!, #N/A …) rather than a value: readers
    deliver it as this type so layouts can refuse it by cell instead of reading it as text."""
