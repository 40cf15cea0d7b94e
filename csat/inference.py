"""Intervals and tests a management review asks for: is a figure sure, is a change real.

Pure functions over plain numbers; scipy does the statistics (t, Wilson, Wilcoxon, exact
binomial/McNemar, Fisher, chi-square, Kruskal-Wallis, Spearman). Only the combinations that
scipy has no function for are written here, each with its reference: Newcombe's interval for a
difference of shares (built from scipy's Wilson intervals), p-chart limits and the NPS variance.
A figure on fewer than FEW replies is marked `few` so nobody reads much into it.
"""

from __future__ import annotations

import functools
import importlib
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

import numpy as np

if TYPE_CHECKING:
    from scipy import stats as sps
else:

    class _Imported:
        """scipy.stats (~75 MiB over numpy) is imported at the first figure that needs it:
        a report imports it once its responses are read, not before it holds them."""

        def __getattr__(self, name: str) -> Any:
            return getattr(importlib.import_module("scipy.stats"), name)

    sps = _Imported()

CONFIDENCE = 0.95
ALPHA = 0.05
FEW = 10  # below this many replies a figure is marked "few replies"

Verdict = Literal["significant", "within_noise", "not_testable"]
Quadrant = Literal["concentrate_here", "keep_up", "low_priority", "possible_overkill"]


P = ParamSpec("P")
R = TypeVar("R")


def _quiet(fn: Callable[P, R]) -> Callable[P, R]:
    """scipy warns on stderr about constant or tiny samples; we handle those cases ourselves,
    and a report must not print library warnings."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)

    return run


def verdict(p: float | None) -> Verdict:
    """ "significant (p < 0.05)", "within noise", or no test possible (too few data)."""
    if p is None:
        return "not_testable"
    return "significant" if p < ALPHA else "within_noise"


@dataclass(frozen=True)
class Estimate:
    """A figure with its 95 % interval (None where it cannot be computed) and its n."""

    value: float | None
    low: float | None
    high: float | None
    n: int

    @property
    def few(self) -> bool:
        return self.n < FEW

    def as_json(self, digits: int = 4) -> dict[str, object]:
        return {
            "value": _r(self.value, digits),
            "low": _r(self.low, digits),
            "high": _r(self.high, digits),
            "n": self.n,
            "few_replies": self.few,
        }


def _r(x: float | None, digits: int) -> float | None:
    return None if x is None else round(x, digits)


def _clean(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


@_quiet
def mean_interval(values: Sequence[float]) -> Estimate:
    """Mean with Student's t interval; one value has no interval, identical values a zero one."""
    n = len(values)
    if n == 0:
        return Estimate(None, None, None, 0)
    mean = float(np.mean(values))
    if n == 1:
        return Estimate(mean, None, None, 1)
    sem = float(sps.sem(values))
    if sem == 0:
        return Estimate(mean, mean, mean, n)
    low, high = sps.t.interval(CONFIDENCE, n - 1, loc=mean, scale=sem)
    return Estimate(mean, float(low), float(high), n)


@_quiet
def wilson(k: int, n: int) -> Estimate:
    """Share k/n with the Wilson score interval (good at 0 %, 100 % and small n)."""
    if n == 0:
        return Estimate(None, None, None, 0)
    ci = sps.binomtest(k, n).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return Estimate(k / n, float(ci.low), float(ci.high), n)


@dataclass(frozen=True)
class Comparison:
    """A change (current - previous) with its interval, test and p-value."""

    test: str
    n: int  # pairs for a paired test, replies on both sides for an unpaired one
    change: float | None
    low: float | None
    high: float | None
    p: float | None
    least: int | None = None  # unpaired: replies on the smaller side, which decides "few"

    @property
    def verdict(self) -> Verdict:
        return verdict(self.p)

    @property
    def few(self) -> bool:
        return (self.n if self.least is None else self.least) < FEW

    def as_json(self, digits: int = 4) -> dict[str, object]:
        return {
            "test": self.test,
            "n": self.n,
            "change": _r(self.change, digits),
            "low": _r(self.low, digits),
            "high": _r(self.high, digits),
            "p": _r(self.p, digits),
            "verdict": self.verdict,
            "few_replies": self.few,
        }


@_quiet
def paired_change(before: Sequence[float], after: Sequence[float]) -> Comparison:
    """Customers who answered both periods: mean change and the Wilcoxon signed-rank test.

    No pair: nothing to test. All pairs unchanged: p = 1 (no change at all)."""
    n = len(before)
    if n == 0:
        return Comparison("wilcoxon", 0, None, None, None, None)
    diffs = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    est = mean_interval(list(diffs))
    if not np.any(diffs):
        p: float | None = 1.0
    else:
        p = _clean(float(sps.wilcoxon(diffs).pvalue))
    return Comparison("wilcoxon", n, est.value, est.low, est.high, p)


@_quiet
def mcnemar(before: Sequence[bool], after: Sequence[bool]) -> Comparison:
    """Paired yes/no per customer (rated an item dissatisfied before / now): the change of the
    share with its Wald interval, and the exact McNemar test (a binomial test on the customers
    whose answer changed)."""
    n = len(before)
    if n == 0:
        return Comparison("mcnemar", 0, None, None, None, None)
    b = sum(1 for x, y in zip(before, after, strict=True) if x and not y)  # got better
    c = sum(1 for x, y in zip(before, after, strict=True) if y and not x)  # got worse
    change = (c - b) / n
    p = 1.0 if b + c == 0 else float(sps.binomtest(b, b + c, 0.5).pvalue)
    z = float(sps.norm.ppf(1 - ALPHA / 2))
    se = math.sqrt(max((b + c) / n - change**2, 0.0) / n)
    return Comparison("mcnemar", n, change, change - z * se, change + z * se, p)


@_quiet
def share_difference(k1: int, n1: int, k0: int, n0: int) -> Comparison:
    """Current share k1/n1 minus previous k0/n0 over all replies: Newcombe's hybrid score
    interval (Newcombe 1998, method 10, from the two Wilson intervals) and Fisher's exact p."""
    least = min(n1, n0)
    if n1 == 0 or n0 == 0:
        return Comparison("newcombe_fisher", n1 + n0, None, None, None, None, least)
    a, b = wilson(k1, n1), wilson(k0, n0)
    assert a.value is not None and a.low is not None and a.high is not None
    assert b.value is not None and b.low is not None and b.high is not None
    d = a.value - b.value
    low = d - math.sqrt((a.value - a.low) ** 2 + (b.high - b.value) ** 2)
    high = d + math.sqrt((a.high - a.value) ** 2 + (b.value - b.low) ** 2)
    p = float(sps.fisher_exact([[k1, n1 - k1], [k0, n0 - k0]]).pvalue)
    return Comparison("newcombe_fisher", n1 + n0, d, low, high, min(p, 1.0), least)


@_quiet
def mean_difference(current: Sequence[float], previous: Sequence[float]) -> Comparison:
    """Mean total of all replies against the previous period's: Welch's t test and interval."""
    n, least = len(current) + len(previous), min(len(current), len(previous))
    if not current or not previous:
        return Comparison("welch", n, None, None, None, None, least)
    d = float(np.mean(current) - np.mean(previous))
    if len(current) < 2 or len(previous) < 2:
        return Comparison("welch", n, d, None, None, None, least)
    if np.var(current) == 0 and np.var(previous) == 0:
        return Comparison("welch", n, d, d, d, 1.0 if d == 0 else 0.0, least)
    res = sps.ttest_ind(current, previous, equal_var=False)
    ci = res.confidence_interval(CONFIDENCE)
    p = _clean(float(res.pvalue))
    return Comparison("welch", n, d, float(ci.low), float(ci.high), p, least)


@dataclass(frozen=True)
class ControlPoint:
    """One period on a p-chart: its share, the centre line and 3-sigma limits from its n."""

    period: str
    count: int
    n: int
    share: float | None
    centre: float
    lower: float
    upper: float

    @property
    def outside(self) -> Literal["above", "below"] | None:
        if self.share is None:
            return None
        if self.share > self.upper:
            return "above"
        if self.share < self.lower:
            return "below"
        return None


def p_chart(points: Sequence[tuple[str, int, int]]) -> list[ControlPoint]:
    """Shewhart p-chart over (period, count, n): centre p = sum count / sum n, limits
    p +- 3 sqrt(p (1 - p) / n_i) clipped to 0..1 (Montgomery, Statistical Quality Control)."""
    total_n = sum(n for _, _, n in points)
    centre = sum(k for _, k, _ in points) / total_n if total_n else 0.0
    out = []
    for period, k, n in points:
        half = 3 * math.sqrt(centre * (1 - centre) / n) if n else 0.0
        out.append(
            ControlPoint(
                period,
                k,
                n,
                k / n if n else None,
                centre,
                max(0.0, centre - half),
                min(1.0, centre + half),
            )
        )
    return out


@_quiet
def spearman(x: Sequence[float], y: Sequence[float]) -> tuple[float | None, float | None]:
    """Rank correlation and its p; None where either side is constant or n < 3."""
    if len(x) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
        return None, None
    res = sps.spearmanr(x, y)
    return _clean(float(res.statistic)), _clean(float(res.pvalue))


def quadrants(
    importance: Mapping[str, float], performance: Mapping[str, float]
) -> dict[str, Quadrant]:
    """Importance-performance analysis: each item against the mean importance and the mean
    performance of all items (Martilla and James 1977)."""
    keys = [k for k in importance if k in performance]
    if not keys:
        return {}
    mi = sum(importance[k] for k in keys) / len(keys)
    mp = sum(performance[k] for k in keys) / len(keys)
    out: dict[str, Quadrant] = {}
    for k in keys:
        high_i, high_p = importance[k] >= mi, performance[k] >= mp
        if high_i:
            out[k] = "keep_up" if high_p else "concentrate_here"
        else:
            out[k] = "possible_overkill" if high_p else "low_priority"
    return out


@dataclass(frozen=True)
class GroupTest:
    """Do groups differ? One overall test, and each group against the rest of the replies."""

    test: str
    p: float | None
    each: dict[str, float | None]  # group -> p of that group against all others

    @property
    def verdict(self) -> Verdict:
        return verdict(self.p)

    def differing(self) -> list[str]:
        """Groups that differ from the rest, only when the overall test says groups differ."""
        if self.verdict != "significant":
            return []
        return [g for g, p in self.each.items() if p is not None and p < ALPHA]

    def as_json(self) -> dict[str, object]:
        return {
            "test": self.test,
            "p": _r(self.p, 4),
            "verdict": self.verdict,
            "each_vs_rest": {g: _r(p, 4) for g, p in self.each.items()},
            "differing": self.differing(),
        }


@_quiet
def kruskal(groups: Mapping[str, Sequence[float]]) -> GroupTest:
    """Totals by segment: Kruskal-Wallis over all groups, Mann-Whitney U of each against the
    rest. Fewer than two groups with replies, or all totals identical: not testable."""
    filled = {g: list(v) for g, v in groups.items() if v}
    every = [x for v in filled.values() for x in v]
    if len(filled) < 2 or len(set(every)) < 2:
        return GroupTest("kruskal", None, dict.fromkeys(groups))
    p = _clean(float(sps.kruskal(*filled.values()).pvalue))
    each: dict[str, float | None] = {}
    for g in groups:
        rest = [x for h, v in filled.items() if h != g for x in v]
        mine = filled.get(g, [])
        if not mine or not rest:
            each[g] = None
        else:
            each[g] = _clean(float(sps.mannwhitneyu(mine, rest).pvalue))
    return GroupTest("kruskal", p, each)


@_quiet
def share_by_group(counts: Mapping[str, tuple[int, int]]) -> GroupTest:
    """Share flagged by segment, (count, n) per group: chi-square over the table, or Fisher's
    exact test when an expected count is under 5; each group against the rest by Fisher."""
    filled = {g: (k, n) for g, (k, n) in counts.items() if n}
    k_all = sum(k for k, _ in filled.values())
    n_all = sum(n for _, n in filled.values())
    if len(filled) < 2 or k_all in (0, n_all):
        return GroupTest("chi2", None, dict.fromkeys(counts))
    table = [[k, n - k] for k, n in filled.values()]
    expected = sps.contingency.expected_freq(table)
    if float(np.min(expected)) < 5 and n_all <= 500:
        test, p = "fisher", _fisher_rxc(table)
    else:
        test, p = "chi2", float(sps.chi2_contingency(table).pvalue)
    each: dict[str, float | None] = {}
    for g, (k, n) in counts.items():
        if not n or n == n_all:
            each[g] = None
            continue
        rest = [[k, n - k], [k_all - k, n_all - n - (k_all - k)]]
        each[g] = float(sps.fisher_exact(rest).pvalue)
    return GroupTest(test, min(p, 1.0), each)


def _fisher_rxc(table: list[list[int]]) -> float:
    """Fisher's exact test on an r x 2 table. scipy computes r > 2 by Monte Carlo; a fixed seed
    keeps a report reproducible (the same store gives the same p)."""
    if len(table) == 2:
        return float(sps.fisher_exact(table).pvalue)
    method = sps.MonteCarloMethod(n_resamples=19_999, rng=np.random.default_rng(14))
    return float(sps.fisher_exact(table, method=method).pvalue)


@_quiet
def nps(scores: Sequence[int]) -> Estimate:
    """Net Promoter Score (promoters 9-10 minus detractors 0-6, in points -100..100) with the
    usual normal interval from the variance of a difference of multinomial shares."""
    n = len(scores)
    if n == 0:
        return Estimate(None, None, None, 0)
    pro = sum(1 for s in scores if s >= 9) / n
    det = sum(1 for s in scores if s <= 6) / n
    value = pro - det
    if n == 1:
        return Estimate(100 * value, None, None, 1)
    se = math.sqrt(max(pro + det - value**2, 0.0) / n)
    z = float(sps.norm.ppf(1 - ALPHA / 2))
    low, high = max(-1.0, value - z * se), min(1.0, value + z * se)
    return Estimate(100 * value, 100 * low, 100 * high, n)
