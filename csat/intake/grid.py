"""A sheet as every reader delivers it: a grid of plain values, and A1 cell names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Excel's error values, as a cell shows them.
ERROR_CODES = frozenset(
    {
        "#NULL!",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#N/A",
        "#GETTING_DATA",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
    }
)


class CellError(str):
    """A cell that holds no value a reply can be read from, kept distinct from text.

    Either an error value (`#DIV/0!`, `#N/A` …: the string is the code) or a formula that was
    never calculated (`CellError.UNCALCULATED`: files written by scripts that save formulas
    without their results; Excel shows a value, the file holds none). Readers put it where the
    value would be; layouts reject the reply by this cell instead of reading it as unanswered.
    It is a `str`, so code that does not know it sees the code as unknown text, never a blank.
    """

    __slots__ = ()
    UNCALCULATED = "#UNCALCULATED"

    @property
    def reason(self) -> str:
        """What is wrong with the cell and what to do, for a rejection."""
        if self == CellError.UNCALCULATED:
            return (
                "a formula without a calculated value (the file was saved by a program that "
                "does not calculate): open it in Excel, save it, and import it again"
            )
        return (
            f"the cell shows the error {self}: correct the formula or type the value, "
            "then import the file again"
        )


@dataclass(frozen=True, slots=True)
class Sheet:
    """A sheet's values as a grid, with the offset of its first cell (0-based row, column)."""

    name: str
    rows: list[list[Any]]
    first_row: int
    first_col: int


def _letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# A to ZZ, looked up: a form names a dozen cells, a table's rejections one per row (issue 12).
_KNOWN = tuple(_letters(i) for i in range(702))


def column_letter(index: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 27 -> AB)."""
    return _KNOWN[index] if 0 <= index < 702 else _letters(index)


def cell_name(row: int, col: int) -> str:
    """0-based row and column -> A1 reference."""
    return f"{_KNOWN[col] if 0 <= col < 702 else _letters(col)}{row + 1}"
