"""Single cell values shared by the layouts: blanks, text, tick marks.

These run for every cell of every survey, so the common cases return early.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from csat.config import Rules
from csat.text import normalize


def is_blank(value: Any) -> bool:
    return value is None or value == "" or (value.__class__ is str and not value.strip())


def as_text(value: Any) -> str | None:
    """A cell as trimmed text (customer names, codes, comments); numbers lose a trailing .0."""
    if value.__class__ is str:  # the common case, first
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip() or None


def shown(value: Any) -> str:
    """How a bad value is quoted back to the user."""
    text = as_text(value)
    return "" if text is None else text


class UnknownMark(Exception):
    """A level column's cell holds something that is neither a mark nor blank."""


class Marks:
    """Tick marks under level columns (✓ √ ✔ V X ● ■ ☑ 1 是) and boxes left empty (□ ○)."""

    def __init__(self, rules: Rules) -> None:
        self._ticked = rules.ticked
        self._unticked = rules.unticked

    def is_ticked(self, value: Any) -> bool:
        """True for a mark, False for no mark; UnknownMark otherwise."""
        if is_blank(value):
            return False
        text = normalize(as_text(value) or "")
        if text in self._ticked:
            return True
        if text in self._unticked:
            return False
        raise UnknownMark(shown(value))
