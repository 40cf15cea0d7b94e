"""Statistics of a period (SPEC §6): pure accumulators over scored responses.

A report streams its responses once: each is added to a PeriodAccumulator, and `finish()` gives
the figures. Only the totals (for the median) and the flagged/comment rows are kept.
"""

from __future__ import annotations

import math
import statistics
from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from csat.config import Rules
from csat.inference import Estimate, mean_interval, nps, wilson
from csat.models import ScoredResponse


@dataclass(frozen=True)
class ItemStats:
    key: str
    answered: int
    counts: dict[str, int]  # level -> count
    shares: dict[str, float]  # level -> share of answered
    mean_points: float | None
    share_of_max: float | None  # mean points / weight
    share_dissatisfied: float | None  # share of answered rated at a flag level
    dissatisfied: int = 0  # answers at a flag level


@dataclass(frozen=True)
class ParetoRow:
    item: str
    count: int
    share: float
    cumulative_share: float


@dataclass(frozen=True)
class PeriodDetail:
    """Per-customer values, kept only where a test needs them (the report's period, the one
    before it, the segments): compact arrays, one slot per counted response. A segment keeps
    only its totals (its keys and per-item arrays are empty)."""

    keys: list[str]  # customer key per slot
    totals: array[float]
    points: dict[str, array[float]]  # item -> points, NaN when unanswered
    dissatisfied: dict[str, array[int]]  # item -> 1 at a flag level, 0 otherwise, -1 unanswered
    flagged: array[int]  # 1 when the response carries any flag


@dataclass(frozen=True)
class PeriodStats:
    period: str
    responses: int  # counted responses (one per customer and recorded period)
    superseded: int
    customers: int
    incomplete: int
    mean_total: float | None
    median_total: float | None
    grade_counts: dict[str, int]
    grade_shares: dict[str, float]
    flagged: int
    items: dict[str, ItemStats]
    pareto: list[ParetoRow]
    mean_ci: Estimate = field(default_factory=lambda: Estimate(None, None, None, 0))
    detail: PeriodDetail | None = None
    nps: Estimate | None = None  # from the 0-10 recommend answers, None when nobody gave one

    @property
    def flagged_share(self) -> float | None:
        return self.flagged / self.responses if self.responses else None

    @property
    def flagged_ci(self) -> Estimate:
        return wilson(self.flagged, self.responses)


@dataclass(frozen=True)
class Change:
    """A figure against the previous period; None where either side has no data."""

    previous_period: str
    mean_total: float | None
    item_share_of_max: dict[str, float | None]


@dataclass
class PeriodAccumulator:
    rules: Rules
    period: str
    superseded: int = 0
    totals: array[float] = field(default_factory=lambda: array("d"))  # 8 bytes a response
    customers: set[str] = field(default_factory=set)
    incomplete: int = 0
    flagged: int = 0
    grades: Counter[str] = field(default_factory=Counter)
    levels: dict[str, Counter[str]] = field(default_factory=dict)
    points: dict[str, float] = field(default_factory=dict)
    dissatisfied: Counter[str] = field(default_factory=Counter)
    # keep per-customer values for the paired tests and derived importance; "totals": only
    # the totals (a segment's test), without the keys, points and flags a period keeps
    detail: bool | Literal["totals"] = False
    _keys: list[str] = field(default_factory=list)
    _points: dict[str, array[float]] = field(default_factory=dict)
    _bad: dict[str, array[int]] = field(default_factory=dict)
    _flagged: array[int] = field(default_factory=lambda: array("b"))
    _recommend: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.levels = {k: Counter() for k in self.rules.items}
        self.points = dict.fromkeys(self.rules.items, 0.0)
        self._points = {k: array("d") for k in self.rules.items}
        self._bad = {k: array("b") for k in self.rules.items}

    def add(self, s: ScoredResponse, key: str) -> None:
        """Count one response that counts (not superseded); `key` identifies the customer."""
        self.totals.append(s.total)
        self.customers.add(key)
        self.incomplete += not s.complete
        self.flagged += bool(s.flags)
        self.grades[s.grade] += 1
        flag_levels = self.rules.flags.flag_levels
        for item, score in s.items.items():
            if score.level is None:
                continue
            self.levels[item][score.level] += 1
            self.points[item] += score.points or 0.0
            if score.level in flag_levels:
                self.dissatisfied[item] += 1
        if s.response.recommend is not None:
            self._recommend.append(s.response.recommend)
        if self.detail is True:
            self._keys.append(key)
            self._flagged.append(1 if s.flags else 0)
            for item, score in s.items.items():
                answered = score.level is not None
                self._points[item].append(score.points or 0.0 if answered else math.nan)
                self._bad[item].append((1 if score.level in flag_levels else 0) if answered else -1)

    def finish(self) -> PeriodStats:
        n = len(self.totals)
        rules = self.rules
        items = {}
        for key, item in rules.items.items():
            counts = {lv: self.levels[key][lv] for lv in rules.levels}
            answered = sum(counts.values())
            mean = self.points[key] / answered if answered else None
            items[key] = ItemStats(
                key=key,
                answered=answered,
                counts=counts,
                shares={lv: c / answered if answered else 0.0 for lv, c in counts.items()},
                mean_points=mean,
                share_of_max=mean / item.weight if mean is not None else None,
                share_dissatisfied=self.dissatisfied[key] / answered if answered else None,
                dissatisfied=self.dissatisfied[key],
            )
        return PeriodStats(
            period=self.period,
            responses=n,
            superseded=self.superseded,
            customers=len(self.customers),
            incomplete=self.incomplete,
            mean_total=sum(self.totals) / n if n else None,
            median_total=statistics.median(self.totals) if n else None,
            grade_counts={g: self.grades[g] for g in rules.grades},
            grade_shares={g: self.grades[g] / n if n else 0.0 for g in rules.grades},
            flagged=self.flagged,
            items=items,
            pareto=pareto(self.dissatisfied),
            mean_ci=mean_interval(self.totals),
            detail=PeriodDetail(
                self._keys,
                self.totals,
                self._points,
                self._bad,
                self._flagged,
            )
            if self.detail
            else None,
            nps=nps(self._recommend) if self._recommend else None,
        )


def pareto(counts: Counter[str]) -> list[ParetoRow]:
    """Dissatisfied items, most frequent first, with the cumulative share of all such ratings."""
    total = sum(counts.values())
    rows, running = [], 0
    for item, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if count == 0:
            continue
        running += count
        rows.append(ParetoRow(item, count, count / total, running / total))
    return rows


def change(current: PeriodStats, previous: PeriodStats) -> Change:
    def diff(a: float | None, b: float | None) -> float | None:
        return a - b if a is not None and b is not None else None

    return Change(
        previous_period=previous.period,
        mean_total=diff(current.mean_total, previous.mean_total),
        item_share_of_max={
            k: diff(current.items[k].share_of_max, previous.items[k].share_of_max)
            for k in current.items
        },
    )
