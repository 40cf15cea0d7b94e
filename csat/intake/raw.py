"""A reply as a layout found it on a sheet, before its period is settled and it is scored."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from csat.models import Rejection, Source


@dataclass(slots=True)
class RawResponse:
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
    recommend: int | None = None  # 0-10, the NPS question, when the sheet asks it
    blank: bool = False  # a form with no answer in it at all (csat's own: not filled in yet)
