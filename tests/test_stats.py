"""Statistics of a period, computed by hand on small sets."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from conftest import ITEM_KEYS

from csat.config import Rules
from csat.models import Response, ScoredResponse, Source
from csat.scoring import score
from csat.stats import PeriodAccumulator, change, pareto

ITEMS = ITEM_KEYS


def scored(rules: Rules, *levels: str | None) -> ScoredResponse:
    r = Response(
        "c",
        None,
        date(2024, 5, 1),
        "2024H1",
        dict(zip(ITEMS, levels, strict=True)),
        None,
        Source("f.xlsx", "S", 2),
    )
    result = score(r, rules)
    assert isinstance(result, ScoredResponse)
    return result


def test_period_figures(rules: Rules) -> None:
    acc = PeriodAccumulator(rules, "2024H1")
    all_top = scored(rules, *["very_satisfied"] * 7)  # 100, A
    all_neutral = scored(rules, *["neutral"] * 7)  # 73, C
    mixed = scored(
        rules,
        "dissatisfied",
        "satisfied",
        None,
        "very_dissatisfied",
        "satisfied",
        "satisfied",
        "satisfied",
    )  # (10+18+4+9+4+4)/80 = 61.25 -> 61.3, C, incomplete
    for i, s in enumerate([all_top, all_neutral, mixed]):
        acc.add(s, f"k{i}")
    acc.superseded = 2
    st = acc.finish()
    assert (st.responses, st.customers, st.superseded, st.incomplete) == (3, 3, 2, 1)
    assert mixed.total == 61.3
    assert st.mean_total == pytest.approx((100 + 73 + 61.3) / 3)
    assert st.median_total == 73
    assert st.grade_counts == {"A": 1, "B": 0, "C": 2, "D": 0, "E": 0}
    assert st.grade_shares["C"] == pytest.approx(2 / 3)
    assert st.flagged == 1
    quality = st.items["quality"]
    assert quality.answered == 3
    assert quality.counts == {
        "very_satisfied": 1,
        "satisfied": 0,
        "neutral": 1,
        "dissatisfied": 1,
        "very_dissatisfied": 0,
    }
    assert quality.mean_points == pytest.approx((25 + 16 + 10) / 3)
    assert quality.share_of_max == pytest.approx((25 + 16 + 10) / 3 / 25)
    assert quality.share_dissatisfied == pytest.approx(1 / 3)
    assert st.items["service"].answered == 2
    assert [(p.item, p.count, p.cumulative_share) for p in st.pareto] == [
        ("improvement", 1, 0.5),
        ("quality", 1, 1.0),
    ]


def test_pareto_orders_by_count_and_accumulates() -> None:
    rows = pareto(Counter({"service": 2, "quality": 5, "rohs": 0, "packaging": 3}))
    assert [(r.item, r.count) for r in rows] == [("quality", 5), ("packaging", 3), ("service", 2)]
    assert [round(r.cumulative_share, 2) for r in rows] == [0.5, 0.8, 1.0]


def test_change_against_previous(rules: Rules) -> None:
    now, before = PeriodAccumulator(rules, "2024H1"), PeriodAccumulator(rules, "2023H2")
    now.add(scored(rules, *["very_satisfied"] * 7), "a")
    before.add(scored(rules, *["satisfied"] * 7), "a")
    delta = change(now.finish(), before.finish())
    assert delta.previous_period == "2023H2"
    assert delta.mean_total == pytest.approx(14.0)
    assert delta.item_share_of_max["quality"] == pytest.approx(1 - 20 / 25)


def test_empty_period_has_no_means(rules: Rules) -> None:
    st = PeriodAccumulator(rules, "2024H1").finish()
    assert (st.responses, st.mean_total, st.median_total, st.flagged_share) == (0, None, None, None)
    assert st.items["quality"].mean_points is None
