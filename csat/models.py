"""Typed records passed between stages: intake -> scoring -> output (and later the store).

Plain slotted dataclasses, not pydantic, and not frozen where one is built per survey row:
construction cost is most of the per-row budget. Treat them as read-only all the same.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson


@dataclass(slots=True)
class Source:
    """Where a response came from: the path as given, the sheet, and the 1-based row (tables)."""

    file: str
    sheet: str | None = None
    row: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "sheet": self.sheet, "row": self.row}


class RowCells(Mapping[str, str]):
    """A table row's item cells (item key -> `F12`), named when asked for: the store asks once
    per recorded rating, a dry run never, so a row costs one small object, not seven strings
    and a dict (issue 12). Equal to the plain dict of the same cells."""

    __slots__ = ("_letters", "_row")

    def __init__(self, letters: Mapping[str, str], row: str) -> None:
        self._letters = letters  # item key -> column letters, shared by the sheet's rows
        self._row = row

    def __getitem__(self, key: str) -> str:
        return self._letters[key] + self._row

    def __iter__(self) -> Iterator[str]:
        return iter(self._letters)

    def __len__(self) -> int:
        return len(self._letters)

    def __repr__(self) -> str:
        return repr(dict(self))


class Levels(dict[str, str | None]):
    """Ratings (item key -> level key) shared by every reply of a table that gave the same
    levels. Read-only by contract, like the records: a Scorer keeps its result for the
    combination on it (`scored`), so a row's score is one attribute read (issue 12)."""

    __slots__ = ("scored",)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.scored: tuple[object, Any] | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled (to and from --jobs workers) as its levels alone, never with a Scorer.
        return (Levels, (dict(self),))


@dataclass(slots=True)
class Response:
    """One customer's answers as read from a file, ratings already matched to level keys."""

    customer: str
    customer_code: str | None
    date: date | None
    period: str
    ratings: dict[str, str | None]  # item key -> level key, None when unanswered
    comments: str | None
    source: Source
    cells: Mapping[str, str] = field(default_factory=dict)  # item key -> cell it was read from
    span: str | None = None  # cells of the whole response, for rejections about all of it
    recommend: int | None = None  # 0-10 "would you recommend us", when the file asks it (NPS)


@dataclass(frozen=True, slots=True)
class Flag:
    type: str  # "low_score" | "dissatisfied_item"
    item: str | None = None
    level: str | None = None
    total: float | None = None

    def as_json(self) -> dict[str, Any]:
        if self.type == "low_score":
            return {"type": self.type, "total": self.total}
        return {"type": self.type, "item": self.item, "level": self.level}


@dataclass(frozen=True, slots=True)
class ItemScore:
    """Shared between responses: scoring builds one per (item, level) and reuses it."""

    level: str | None
    points: float | None  # the table's points, not rescaled

    def as_json(self) -> dict[str, Any]:
        return {"level": self.level, "points": self.points}


@dataclass(slots=True)
class ScoredResponse:
    response: Response
    items: dict[str, ItemScore]  # shared by the responses of one combination of levels
    total: float
    grade: str
    complete: bool
    flags: tuple[Flag, ...]
    # The JSON of total..flags, made once per combination of levels by the Scorer.
    fragment: bytes | None = field(default=None, repr=False, compare=False)

    def as_json(self) -> dict[str, Any]:
        r = self.response
        return {
            "customer": r.customer,
            "customer_code": r.customer_code,
            "period": r.period,
            "date": r.date.isoformat() if r.date else None,
            "total": self.total,
            "grade": self.grade,
            "complete": self.complete,
            "items": {k: v.as_json() for k, v in self.items.items()},
            "flags": [f.as_json() for f in self.flags],
            "comments": r.comments,
            "source": r.source.as_json(),
        }

    def json_bytes(self) -> bytes:
        """orjson.dumps(self.as_json()), byte for byte (tests/test_json_path.py), assembled from
        parts: the per-combination part (total to flags) serialised once per combination by
        the Scorer, the period and date and the source's file and sheet once per value, and
        only the customer, code, comment and row number per response."""
        fragment = self.fragment
        if fragment is None:
            fragment = score_fragment(self.items, self.total, self.grade, self.complete, self.flags)
        r = self.response
        src = r.source
        dated = _DATED.get((r.period, r.date))
        if dated is None:
            dated = _remember(_DATED, (r.period, r.date), _dated(r.period, r.date))
        where = _WHERE.get((src.file, src.sheet))
        if where is None:
            where = _remember(_WHERE, (src.file, src.sheet), _where(src.file, src.sheet))
        return b"".join(
            (
                b'{"customer":',
                _dumps(r.customer),
                b',"customer_code":',
                _dumps(r.customer_code),
                dated,
                fragment,
                b',"comments":',
                _dumps(r.comments),
                where,
                b"null}}" if src.row is None else b"%d}}" % src.row,
            )
        )


_dumps = orjson.dumps
_PARTS_MAX = 4096  # distinct (period, date) and (file, sheet) parts remembered
_DATED: dict[tuple[str, date | None], bytes] = {}
_WHERE: dict[tuple[str, str | None], bytes] = {}


def _remember(memo: dict[Any, bytes], key: Any, value: bytes) -> bytes:
    if len(memo) >= _PARTS_MAX:
        memo.clear()
    memo[key] = value
    return value


def _dated(period: str, day: date | None) -> bytes:
    """`,"period":…,"date":…,` as orjson writes them inside the entry."""
    part = orjson.dumps({"period": period, "date": day.isoformat() if day else None})
    return b"," + part[1:-1] + b","


def _where(file: str, sheet: str | None) -> bytes:
    """`,"source":{"file":…,"sheet":…,"row":` : all of the source but its row number."""
    part = orjson.dumps({"source": {"file": file, "sheet": sheet, "row": None}})
    return b"," + part[1 : -len(b"null}}")]


def score_fragment(
    items: dict[str, ItemScore],
    total: float,
    grade: str,
    complete: bool,
    flags: tuple[Flag, ...] | list[Flag],
) -> bytes:
    """`"total":…,"grade":…,"complete":…,"items":{…},"flags":[…]` as ScoredResponse.as_json
    would serialise them (orjson, compact), without the braces."""
    part = {
        "total": total,
        "grade": grade,
        "complete": complete,
        "items": {k: v.as_json() for k, v in items.items()},
        "flags": [f.as_json() for f in flags],
    }
    return orjson.dumps(part)[1:-1]


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row, sheet or file that could not be scored, and what the user should do about it."""

    file: str
    sheet: str | None
    cell: str | None
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "sheet": self.sheet, "cell": self.cell, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file in a folder that is not a workbook: listed, not rejected."""

    file: str
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Notice:
    """Something read that deserves a look (a missing item column, the scale chosen, rows
    skipped as summary lines): reported, never changes a score or an exit code."""

    file: str
    sheet: str | None
    cell: str | None
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "sheet": self.sheet, "cell": self.cell, "message": self.message}


Outcome = ScoredResponse | Rejection | Skipped | Notice


@dataclass
class ScoreRun:
    """Everything one `csat score` run produced, in input order."""

    period: str | None
    scored: list[ScoredResponse] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        if isinstance(outcome, ScoredResponse):
            self.scored.append(outcome)
        elif isinstance(outcome, Rejection):
            self.rejected.append(outcome)
        elif isinstance(outcome, Notice):
            self.notices.append(outcome)
        else:
            self.skipped.append(outcome)
