"""What every reader shares: the refusal of a whole file, and of one sheet."""

from __future__ import annotations

from dataclasses import dataclass


class UnreadableWorkbook(Exception):
    """The file as a whole cannot be read; the message is the reason shown to the user."""


@dataclass(frozen=True, slots=True)
class SheetRefused:
    """One sheet that is not read (beyond the size bound, damaged); the other sheets are.

    `cell` names the cell that decided it (the far cell of a too-large used range), if any.
    """

    name: str
    cell: str | None
    reason: str
