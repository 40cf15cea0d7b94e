"""Statistics of a period (SPEC §6): pure accumulators over scored responses.

A report streams its responses once: each is added to a PeriodAccumulator, and `finish()` gives
the figures. Only the totals (for the median) and the flagged/comment rows are kept.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field

from csat.config import Rules
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


@dataclass(frozen=True)
class ParetoRow:
    item: str
    count: int
    share: float
    cumulative_share: float


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

    @property
    def flagged_share(self) -> float | None:
        return self.flagged / self.responses if self.responses else None


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
    totals: list[float] = field(default_factory=list)
    customers: set[str] = field(default_factory=set)
    incomplete: int = 0
    flagged: int = 0
    grades: Counter[str] = field(default_factory=Counter)
    levels: dict[str, Counter[str]] = field(default_factory=dict)
    points: dict[str, float] = field(default_factory=dict)
    dissatisfied: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.levels = {k: Counter() for k in self.rules.items}
        self.points = dict.fromkeys(self.rules.items, 0.0)

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
