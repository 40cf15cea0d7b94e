"""What a management review asks of a period's figures: is each figure sure, is the change since
the previous period real, what to fix first, which segment differs, what customers wrote.

Built from the finished PeriodStats (with their per-customer detail) by pure functions; the
tests and intervals are in csat.inference, the comment tags in csat.comments.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

from csat.comments import ItemComments, TaggedComment, by_item
from csat.config import Rules
from csat.inference import (
    FEW,
    Comparison,
    ControlPoint,
    Estimate,
    GroupTest,
    Quadrant,
    kruskal,
    mcnemar,
    mean_difference,
    p_chart,
    paired_change,
    quadrants,
    share_by_group,
    share_difference,
    spearman,
    wilson,
)
from csat.stats import PeriodDetail, PeriodStats

SegmentKind = Literal["class", "region", "site"]


@dataclass(frozen=True)
class ItemAnalysis:
    item: str
    stated: float  # the weight, as a share of 100
    derived: float | None  # Spearman rank correlation of the item's points with the total
    derived_p: float | None
    performance: float | None  # mean points / weight
    dissatisfied: Estimate  # share rated at a flag level, Wilson interval
    quadrant: Quadrant | None
    comments: int  # comments tagged to this item
    paired: Comparison | None  # customers in both periods: share dissatisfied, McNemar
    all_replies: Comparison | None  # all replies: share dissatisfied, Newcombe / Fisher


@dataclass(frozen=True)
class ChangeAnalysis:
    previous: str
    paired_total: Comparison  # Wilcoxon signed-rank on the totals of customers in both
    all_total: Comparison  # Welch on the mean total of all replies
    flagged: Comparison  # share flagged, all replies, Newcombe / Fisher


@dataclass(frozen=True)
class SegmentAnalysis:
    kind: SegmentKind
    name: str
    index: Estimate  # the weighted satisfaction index (the mean total, 0-100), t interval
    flagged: Estimate  # share flagged, Wilson
    totals_p: float | None  # Mann-Whitney against the rest
    flagged_p: float | None  # Fisher against the rest
    differs: bool  # differs significantly from the rest (and the overall test agrees)


@dataclass(frozen=True)
class SegmentTests:
    totals: GroupTest  # Kruskal-Wallis
    flagged: GroupTest  # chi-square or Fisher


@dataclass(frozen=True)
class Analysis:
    period: str
    mean_total: Estimate
    flagged: Estimate
    grades: dict[str, Estimate]
    change: ChangeAnalysis | None
    items: list[ItemAnalysis]
    importance_basis: Literal["derived", "stated"]
    fix_first: str | None
    control: list[ControlPoint]
    trend_means: list[tuple[str, Estimate]]
    segments: dict[SegmentKind, list[SegmentAnalysis]]
    segment_tests: dict[SegmentKind, SegmentTests]
    comments: list[ItemComments] = field(default_factory=list)
    comment_count: int = 0
    nps: Estimate | None = None

    @property
    def out_of_control(self) -> list[ControlPoint]:
        return [p for p in self.control if p.outside]

    def as_json(self) -> dict[str, object]:
        """The figures of `csat report --json` (shares as fractions, NPS in points)."""
        return {
            "mean_total": self.mean_total.as_json(2),
            "flagged_share": self.flagged.as_json(),
            "grade_shares": {g: e.as_json() for g, e in self.grades.items()},
            "change": None
            if self.change is None
            else {
                "previous": self.change.previous,
                "paired_total": self.change.paired_total.as_json(2),
                "all_replies_mean_total": self.change.all_total.as_json(2),
                "flagged_share": self.change.flagged.as_json(),
            },
            "items": {
                i.item: {
                    "stated_importance": round(i.stated, 4),
                    "derived_importance": _r(i.derived),
                    "derived_importance_p": _r(i.derived_p),
                    "performance": _r(i.performance),
                    "quadrant": i.quadrant,
                    "dissatisfied_share": i.dissatisfied.as_json(),
                    "comments": i.comments,
                    "change_paired": i.paired.as_json() if i.paired else None,
                    "change_all_replies": i.all_replies.as_json() if i.all_replies else None,
                }
                for i in self.items
            },
            "importance_basis": self.importance_basis,
            "fix_first": self.fix_first,
            "control_chart": [
                {
                    "period": p.period,
                    "n": p.n,
                    "flagged": p.count,
                    "share": _r(p.share),
                    "centre": _r(p.centre),
                    "lower": _r(p.lower),
                    "upper": _r(p.upper),
                    "outside": p.outside,
                }
                for p in self.control
            ],
            "trend_mean_total": {name: e.as_json(2) for name, e in self.trend_means},
            "segments": {
                kind: {
                    "totals_test": self.segment_tests[kind].totals.as_json(),
                    "flagged_test": self.segment_tests[kind].flagged.as_json(),
                    "groups": {
                        s.name: {
                            "index": s.index.as_json(2),
                            "flagged_share": s.flagged.as_json(),
                            "differs": s.differs,
                        }
                        for s in rows
                    },
                }
                for kind, rows in self.segments.items()
            },
            "comments": {
                "total": self.comment_count,
                "by_item": {g.item or "none": g.count for g in self.comments},
            },
            "nps": self.nps.as_json(1) if self.nps else None,
        }


def _r(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def analyse(
    rules: Rules,
    stats: PeriodStats,
    previous: PeriodStats | None,
    trend: Sequence[PeriodStats],
    segments: dict[SegmentKind, Sequence[PeriodStats]],
    comments: Collection[TaggedComment],
) -> Analysis:
    """Every figure of the review. `stats` and `previous` carry their per-customer detail."""
    n = stats.responses
    grades = {g: wilson(c, n) for g, c in stats.grade_counts.items()}
    grouped = by_item(comments, list(rules.items))
    per_item_comments = {g.item: g.count for g in grouped}
    change = _change(stats, previous) if previous is not None else None
    derived = _derived(rules, stats.detail)
    performance = {
        k: st.share_of_max for k, st in stats.items.items() if st.share_of_max is not None
    }
    use_derived = n >= FEW and all(derived[k][0] is not None for k in rules.items)
    importance = (
        {k: derived[k][0] or 0.0 for k in rules.items}
        if use_derived
        else {k: it.weight / 100 for k, it in rules.items.items()}
    )
    quads = quadrants(importance, performance)
    tests = {kind: _segment_tests(rows) for kind, rows in segments.items()}
    items = []
    for key, item in rules.items.items():
        st = stats.items[key]
        bad = st.dissatisfied
        paired = all_replies = None
        if change is not None and previous is not None:
            paired = _paired_item(key, stats.detail, previous.detail)
            before = previous.items[key]
            all_replies = share_difference(bad, st.answered, before.dissatisfied, before.answered)
        items.append(
            ItemAnalysis(
                item=key,
                stated=item.weight / 100,
                derived=derived[key][0],
                derived_p=derived[key][1],
                performance=st.share_of_max,
                dissatisfied=wilson(bad, st.answered),
                quadrant=quads.get(key),
                comments=per_item_comments.get(key, 0),
                paired=paired,
                all_replies=all_replies,
            )
        )
    return Analysis(
        period=stats.period,
        mean_total=stats.mean_ci,
        flagged=stats.flagged_ci,
        grades=grades,
        change=change,
        items=items,
        importance_basis="derived" if use_derived else "stated",
        fix_first=_fix_first(quads, performance, importance),
        control=p_chart([(s.period, s.flagged, s.responses) for s in trend]),
        trend_means=[(s.period, s.mean_ci) for s in trend],
        segments={kind: _segments(kind, rows, tests[kind]) for kind, rows in segments.items()},
        segment_tests=tests,
        comments=grouped,
        comment_count=len(comments),
        nps=stats.nps,
    )


def _change(stats: PeriodStats, previous: PeriodStats) -> ChangeAnalysis:
    now, before = stats.detail, previous.detail
    pairs: list[tuple[float, float]] = []
    if now is not None and before is not None:
        slot = {k: i for i, k in enumerate(before.keys)}
        pairs = [
            (before.totals[slot[k]], now.totals[i]) for i, k in enumerate(now.keys) if k in slot
        ]
    return ChangeAnalysis(
        previous=previous.period,
        paired_total=paired_change([b for b, _ in pairs], [a for _, a in pairs]),
        all_total=mean_difference(
            list(now.totals) if now else [], list(before.totals) if before else []
        ),
        flagged=share_difference(
            stats.flagged, stats.responses, previous.flagged, previous.responses
        ),
    )


def _paired_item(
    item: str, now: PeriodDetail | None, before: PeriodDetail | None
) -> Comparison | None:
    if now is None or before is None:
        return None
    slot = {k: i for i, k in enumerate(before.keys)}
    was, became = [], []
    for i, k in enumerate(now.keys):
        j = slot.get(k)
        if j is None:
            continue
        a, b = before.dissatisfied[item][j], now.dissatisfied[item][i]
        if a >= 0 and b >= 0:
            was.append(bool(a))
            became.append(bool(b))
    return mcnemar(was, became)


def _derived(
    rules: Rules, detail: PeriodDetail | None
) -> dict[str, tuple[float | None, float | None]]:
    """Each item's rank correlation with the total over the customers who answered it."""
    out: dict[str, tuple[float | None, float | None]] = {}
    for key in rules.items:
        if detail is None:
            out[key] = (None, None)
            continue
        pts = detail.points[key]
        pairs = [(p, t) for p, t in zip(pts, detail.totals, strict=True) if not math.isnan(p)]
        out[key] = spearman([p for p, _ in pairs], [t for _, t in pairs])
    return out


def _fix_first(
    quads: dict[str, Quadrant], performance: dict[str, float], importance: dict[str, float]
) -> str | None:
    """The weakest item among those that matter most ("concentrate here")."""
    candidates = [k for k, q in quads.items() if q == "concentrate_here"]
    if not candidates:
        return None
    return min(candidates, key=lambda k: (performance[k], -importance[k]))


def _segments(
    kind: SegmentKind, rows: Sequence[PeriodStats], tests: SegmentTests
) -> list[SegmentAnalysis]:
    differing = set(tests.totals.differing()) | set(tests.flagged.differing())
    return [
        SegmentAnalysis(
            kind=kind,
            name=s.period,
            index=s.mean_ci,
            flagged=s.flagged_ci,
            totals_p=tests.totals.each.get(s.period),
            flagged_p=tests.flagged.each.get(s.period),
            differs=s.period in differing,
        )
        for s in rows
    ]


def _segment_tests(rows: Sequence[PeriodStats]) -> SegmentTests:
    return SegmentTests(
        totals=kruskal({s.period: list(s.detail.totals) if s.detail else [] for s in rows}),
        flagged=share_by_group({s.period: (s.flagged, s.responses) for s in rows}),
    )
