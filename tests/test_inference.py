"""Intervals and tests, against values computed by hand or published, on the edge cases a small
customer base gives: n = 1, n = 2, all identical, one period only."""

from __future__ import annotations

import math

import pytest

from csat.inference import (
    FEW,
    kruskal,
    mcnemar,
    mean_difference,
    mean_interval,
    nps,
    p_chart,
    paired_change,
    quadrants,
    share_by_group,
    share_difference,
    spearman,
    verdict,
    wilson,
)


def test_mean_interval_is_students_t() -> None:
    # n = 2: mean 80, sem = sd / sqrt(2) = 10, t(0.975, 1) = 12.7062
    est = mean_interval([70.0, 90.0])
    assert est.value == 80.0 and est.n == 2 and est.few
    assert est.low == pytest.approx(80 - 12.7062047 * 10)
    assert est.high == pytest.approx(80 + 12.7062047 * 10)
    # n = 5: 60, 70, 80, 90, 100: sd 15.811, sem 7.0711, t(0.975, 4) = 2.776445
    est = mean_interval([60.0, 70.0, 80.0, 90.0, 100.0])
    half = 2.776445 * 7.0710678
    assert (est.low, est.high) == pytest.approx((80 - half, 80 + half))


def test_mean_interval_edges() -> None:
    assert mean_interval([]).value is None
    one = mean_interval([73.0])
    assert (one.value, one.low, one.high, one.few) == (73.0, None, None, True)
    same = mean_interval([86.0] * 12)
    assert (same.value, same.low, same.high, same.few) == (86.0, 86.0, 86.0, False)
    assert mean_interval([1.0] * FEW).few is False and mean_interval([1.0] * (FEW - 1)).few


def test_wilson_matches_the_published_values() -> None:
    # Newcombe (1998) table I: 81/263 -> 0.2553 .. 0.3662; 0/10 -> 0 .. 0.2775; 1/29 -> 0.0061..
    est = wilson(81, 263)
    assert (round(est.low, 4), round(est.high, 4)) == (0.2553, 0.3662)  # type: ignore[arg-type]
    zero = wilson(0, 10)
    assert zero.value == 0 and zero.low == pytest.approx(0, abs=1e-12)
    assert zero.high == pytest.approx(0.2775, abs=1e-4)
    assert wilson(1, 29).low == pytest.approx(0.0061, abs=1e-4)
    assert wilson(0, 0).value is None
    all_of_one = wilson(1, 1)
    assert all_of_one.value == 1 and all_of_one.high == pytest.approx(1)
    assert all_of_one.low == pytest.approx(0.2065, abs=1e-4)


def test_newcombe_difference_matches_the_paper() -> None:
    # Newcombe (1998) table II, example (a): 56/70 - 48/80 -> 0.2000, interval 0.0524 .. 0.3339
    d = share_difference(56, 70, 48, 80)
    assert d.change == pytest.approx(0.2)
    assert (round(d.low, 4), round(d.high, 4)) == (0.0524, 0.3339)  # type: ignore[arg-type]
    assert d.verdict == "significant"
    # example (c): 5/56 - 0/29 -> 0.0893, -0.0381 .. 0.1926: the interval holds 0
    c = share_difference(5, 56, 0, 29)
    assert (round(c.low, 4), round(c.high, 4)) == (-0.0381, 0.1926)  # type: ignore[arg-type]
    assert c.verdict == "within_noise"
    assert share_difference(1, 1, 0, 0).verdict == "not_testable"
    assert share_difference(5, 56, 0, 29).few is False
    assert share_difference(2, 40, 1, 6).few  # the previous period had only 6 replies
    same = share_difference(3, 3, 2, 2)  # all identical on both sides
    assert same.change == 0 and same.p == 1.0 and same.verdict == "within_noise"


def test_paired_change_is_wilcoxon_signed_rank() -> None:
    # differences +2, +4, +6, +8, +10, +12 (all up): exact two-sided p = 2 / 2^6 = 0.03125
    before = [60.0, 62.0, 64.0, 66.0, 68.0, 70.0]
    after = [b + d for b, d in zip(before, [2, 4, 6, 8, 10, 12], strict=True)]
    c = paired_change(before, after)
    assert c.n == 6 and c.change == pytest.approx(7.0)
    assert c.p == pytest.approx(0.03125) and c.verdict == "significant"
    # n = 1 (one customer answered both): p = 1 exactly, never "significant"
    one = paired_change([70.0], [90.0])
    assert one.change == 20 and one.p == pytest.approx(1.0) and one.verdict == "within_noise"
    # n = 2, both up: p = 2 / 4 = 0.5
    assert paired_change([70.0, 80.0], [75.0, 90.0]).p == pytest.approx(0.5)
    # all identical: no change at all
    flat = paired_change([86.0] * 5, [86.0] * 5)
    assert (flat.change, flat.p, flat.verdict) == (0.0, 1.0, "within_noise")
    # one period only: no pairs, nothing to test
    assert paired_change([], []).verdict == "not_testable"


def test_mcnemar_is_an_exact_test_on_the_customers_who_changed() -> None:
    # 10 customers: 6 dissatisfied before and fine now, 0 the other way: p = 2 * 0.5^6
    before = [True] * 6 + [False] * 4
    after = [False] * 10
    m = mcnemar(before, after)
    assert m.change == pytest.approx(-0.6) and m.p == pytest.approx(2 * 0.5**6)
    assert m.verdict == "significant"
    # nobody changed: p = 1
    assert mcnemar([True, False], [True, False]).p == 1.0
    assert mcnemar([], []).verdict == "not_testable"


def test_mean_difference_is_welch() -> None:
    # scipy.stats.ttest_ind([1,2,3], [2,3,4,5], equal_var=False): t = -1.7321, p = 0.14429
    d = mean_difference([1.0, 2.0, 3.0], [2.0, 3.0, 4.0, 5.0])
    assert d.change == pytest.approx(-1.5) and d.p == pytest.approx(0.144293, abs=1e-5)
    assert (d.low, d.high) == pytest.approx((-3.731711, 0.731711), abs=1e-5)
    assert mean_difference([80.0], [70.0]).p is None  # n = 1 on a side: no variance
    assert mean_difference([80.0, 80.0], [80.0, 80.0]).p == 1.0
    assert mean_difference([], [70.0, 71.0]).verdict == "not_testable"


def test_p_chart_limits_by_hand() -> None:
    # 4 / 20, 6 / 20, 10 / 20: centre 20 / 60 = 1/3; limits 1/3 +- 3 sqrt(2/9 / 20) = +- 0.3162
    pts = p_chart([("2023H1", 4, 20), ("2023H2", 6, 20), ("2024H1", 10, 20)])
    half = 3 * math.sqrt((1 / 3) * (2 / 3) / 20)
    assert pts[0].centre == pytest.approx(1 / 3)
    assert (pts[0].lower, pts[0].upper) == pytest.approx((1 / 3 - half, 1 / 3 + half))
    assert [p.outside for p in pts] == [None, None, None]
    # a period far off, with a large n: outside its limits
    pts = p_chart([("A", 5, 100), ("B", 5, 100), ("C", 40, 100)])
    assert [p.outside for p in pts] == ["below", "below", "above"]
    # one period only, and a period whose share is 0 or 1 everywhere: limits collapse, none out
    assert p_chart([("2024H1", 3, 10)])[0].outside is None
    flat = p_chart([("A", 0, 5), ("B", 0, 7)])
    assert (flat[0].lower, flat[0].upper, flat[1].outside) == (0.0, 0.0, None)
    assert p_chart([("A", 0, 0)])[0].share is None


def test_spearman_against_scipy_and_constant_input() -> None:
    rho, p = spearman([1.0, 2.0, 3.0, 4.0, 5.0], [5.0, 6.0, 7.0, 8.0, 7.0])
    assert rho == pytest.approx(0.820783, abs=1e-6)  # scipy.stats.spearmanr
    assert p is not None and 0 < p < 1
    assert spearman([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]) == (None, None)
    assert spearman([1.0, 2.0], [1.0, 2.0]) == (None, None)  # n = 2


def test_quadrants_split_at_the_means() -> None:
    q = quadrants(
        {"a": 0.9, "b": 0.8, "c": 0.1, "d": 0.2},  # mean 0.5
        {"a": 0.5, "b": 0.9, "c": 0.4, "d": 0.95},  # mean 0.6875
    )
    assert q == {
        "a": "concentrate_here",
        "b": "keep_up",
        "c": "low_priority",
        "d": "possible_overkill",
    }
    assert quadrants({}, {}) == {}


def test_kruskal_and_each_group_against_the_rest() -> None:
    groups = {"A": [90.0, 92.0, 95.0, 91.0, 93.0], "B": [60.0, 62.0, 65.0, 61.0, 63.0]}
    g = kruskal(groups)
    # scipy.stats.kruskal on two groups of 5 with no overlap: H = 6.818, p = 0.009023
    assert g.p == pytest.approx(0.009023, abs=1e-5) and g.verdict == "significant"
    assert set(g.differing()) == {"A", "B"}
    assert kruskal({"A": [80.0], "B": []}).verdict == "not_testable"
    assert kruskal({"A": [80.0, 80.0], "B": [80.0]}).verdict == "not_testable"  # identical


def test_share_by_group_uses_fisher_when_counts_are_small() -> None:
    small = share_by_group({"A": (0, 8), "B": (6, 8)})
    assert small.test == "fisher"
    assert small.p == pytest.approx(0.006993, abs=1e-6)  # fisher_exact([[0, 8], [6, 2]])
    assert small.differing() == ["A", "B"]
    big = share_by_group({"A": (30, 100), "B": (50, 100), "C": (40, 100)})
    assert big.test == "chi2"  # chi2_contingency: chi2 = 8.333, dof 2, p = 0.015504
    assert big.p == pytest.approx(0.015504, abs=1e-5)
    # more than two small groups: Fisher by Monte Carlo, seeded so a report is reproducible
    three = [share_by_group({"A": (3, 200), "B": (5, 200), "C": (1, 100)}) for _ in range(3)]
    assert three[0].test == "fisher" and len({g.p for g in three}) == 1
    assert three[0].p == pytest.approx(0.7484, abs=0.01)  # exact, enumerated: 0.74842
    assert share_by_group({"A": (0, 3), "B": (0, 4)}).verdict == "not_testable"
    assert share_by_group({"A": (1, 3)}).verdict == "not_testable"


def test_nps_and_its_interval() -> None:
    # 10 replies: 5 promoters, 2 passives, 3 detractors: NPS = 20;
    # var = (0.5 + 0.3 - 0.2^2) / 10 = 0.076, half = 1.959964 * sqrt(0.076) = 0.540325
    est = nps([10, 9, 9, 10, 9, 8, 7, 6, 0, 3])
    assert est.value == pytest.approx(20)
    assert (est.low, est.high) == pytest.approx((20 - 54.0325, 20 + 54.0325), abs=1e-3)
    assert nps([]).value is None
    assert nps([10]).value == 100 and nps([10]).low is None
    same = nps([6, 6, 6])
    assert (same.value, same.low, same.high) == (-100, -100, -100)


def test_verdict_words() -> None:
    assert [verdict(0.049), verdict(0.05), verdict(None)] == [
        "significant",
        "within_noise",
        "not_testable",
    ]
