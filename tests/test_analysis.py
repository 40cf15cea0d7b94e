"""The management review built from a period's figures: change, importance, control limits,
segments, comments and NPS, checked against scipy on small fixtures (n = 1, 2, identical,
one period only)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import ITEM_KEYS, ROOT
from scipy import stats as sps

from csat.analysis import Analysis, analyse
from csat.comments import CommentTagger, TaggedComment, by_item
from csat.config import Rules, parse_rules
from csat.errors import ConfigError
from csat.models import Response, ScoredResponse, Source
from csat.render.analysis import review_lines
from csat.render.workbook import ReportView
from csat.scoring import score
from csat.stats import PeriodAccumulator, PeriodStats

LEVELS = ["very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied"]


def reply(
    rules: Rules,
    levels: list[str | None],
    period: str = "2024H1",
    recommend: int | None = None,
    comment: str | None = None,
) -> ScoredResponse:
    r = Response(
        "c",
        None,
        date(2024, 5, 1),
        period,
        dict(zip(ITEM_KEYS, levels, strict=True)),
        comment,
        Source("f.xlsx", "S", 2),
        recommend=recommend,
    )
    result = score(r, rules)
    assert isinstance(result, ScoredResponse)
    return result


def period(
    rules: Rules, name: str, replies: dict[str, list[str | None]], **kw: list[int]
) -> PeriodStats:
    acc = PeriodAccumulator(rules, name, detail=True)
    recommend = kw.get("recommend", [])
    for i, (key, levels) in enumerate(replies.items()):
        acc.add(reply(rules, levels, name, recommend[i] if recommend else None), key)
    return acc.finish()


def run(
    rules: Rules,
    now: PeriodStats,
    before: PeriodStats | None = None,
    segments: dict[str, list[PeriodStats]] | None = None,
    comments: list[TaggedComment] | None = None,
) -> Analysis:
    trend = [s for s in (before, now) if s is not None]
    return analyse(rules, now, before, trend, segments or {}, comments or [])  # type: ignore[arg-type]


def view(a: Analysis, stats: PeriodStats) -> ReportView:
    return ReportView("2024H1", date(2024, 7, 15), [], False, stats, None, None, [], [], analysis=a)


def lines(rules: Rules, a: Analysis, stats: PeriodStats) -> list[str]:
    def label(kind: str, key: str) -> str:
        return rules.items[key].labels.en

    return review_lines(view(a, stats), label, "en")


def mixed(i: int) -> list[str | None]:
    """A varied reply: customer i rates each item by a fixed pattern."""
    return [LEVELS[(i + j * (j + 1)) % 4] for j in range(7)]


def test_one_period_only(rules: Rules) -> None:
    now = period(rules, "2024H1", {f"k{i}": mixed(i) for i in range(12)})
    a = run(rules, now)
    assert a.change is None and all(i.paired is None for i in a.items)
    assert len(a.control) == 1 and a.out_of_control == []
    said = lines(rules, a, now)
    assert "No previous period recorded: no change to judge." in said
    assert "Control chart: one period only, no control limits yet." in said
    assert said[0].startswith("2024H1: 12 replies, mean total")


def test_change_against_previous_is_tested_like_scipy(rules: Rules) -> None:
    before = {f"k{i}": mixed(i) for i in range(12)}
    # eight of them answer again, each one level better on every item; four new customers
    better = {k: [LEVELS[max(LEVELS.index(lv) - 1, 0)] for lv in v] for k, v in before.items()}
    now_replies = {k: better[k] for k in list(better)[:8]}
    now_replies |= {f"new{i}": mixed(i + 3) for i in range(4)}
    prev, now = period(rules, "2023H2", before), period(rules, "2024H1", now_replies)
    a = run(rules, now, prev)
    assert a.change is not None
    paired = a.change.paired_total
    assert prev.detail is not None and now.detail is not None
    slot = {k: i for i, k in enumerate(prev.detail.keys)}
    diffs = [
        now.detail.totals[i] - prev.detail.totals[slot[k]]
        for i, k in enumerate(now.detail.keys)
        if k in slot
    ]
    assert paired.n == 8 and paired.few
    assert paired.change == pytest.approx(sum(diffs) / 8)
    assert paired.p == pytest.approx(sps.wilcoxon(diffs).pvalue)
    assert paired.verdict == "significant"  # all eight went up: exact p = 2 / 2^8
    # all replies: Welch on every total of both periods
    welch = sps.ttest_ind(list(now.detail.totals), list(prev.detail.totals), equal_var=False)
    assert a.change.all_total.p == pytest.approx(welch.pvalue)
    # per item, paired: McNemar on the customers who answered both
    q = next(i for i in a.items if i.item == "quality")
    assert q.paired is not None and q.paired.n == 8
    was = [prev.detail.dissatisfied["quality"][slot[k]] for k in now.detail.keys if k in slot]
    became = [
        now.detail.dissatisfied["quality"][i] for i, k in enumerate(now.detail.keys) if k in slot
    ]
    b = sum(1 for x, y in zip(was, became, strict=True) if x and not y)
    c = sum(1 for x, y in zip(was, became, strict=True) if y and not x)
    expected = 1.0 if b + c == 0 else sps.binomtest(b, b + c).pvalue
    assert q.paired.p == pytest.approx(expected)
    said = lines(rules, a, now)
    assert any(s.startswith("Against 2023H2: the 8 customers who answered both") for s in said)
    assert any("significant (p < 0.05)" in s and "[few replies]" in s for s in said)


def test_derived_importance_and_the_item_to_fix_first(rules: Rules) -> None:
    # delivery_date varies with the total and is the weakest item: it is the one to fix
    replies: dict[str, list[str | None]] = {}
    for i in range(12):
        good = i % 3
        replies[f"k{i}"] = [
            LEVELS[good + 1],
            LEVELS[good],
            LEVELS[good],
            LEVELS[good],
            LEVELS[1],
            LEVELS[min(good + 2, 4)],
            LEVELS[1],
        ]
    now = period(rules, "2024H1", replies)
    a = run(rules, now)
    assert now.detail is not None
    d = next(i for i in a.items if i.item == "delivery_date")
    pts = list(now.detail.points["delivery_date"])
    assert d.derived == pytest.approx(sps.spearmanr(pts, list(now.detail.totals)).statistic)
    # packaging and delivery_quantity never vary: no rank correlation, so the weights decide
    assert next(i for i in a.items if i.item == "packaging").derived is None
    assert a.importance_basis == "stated"
    assert a.fix_first == "quality"  # the heaviest weight, and below the items' mean performance
    q = next(i for i in a.items if i.item == "quality")
    assert q.quadrant == "concentrate_here"
    assert any(
        s.startswith("Fix first: Product quality — important (weight 25%)")
        for s in lines(rules, a, now)
    )


def test_derived_basis_when_every_item_varies(rules: Rules) -> None:
    now = period(rules, "2024H1", {f"k{i}": mixed(i) for i in range(12)})
    a = run(rules, now)
    assert a.importance_basis == "derived"
    assert all(i.derived is not None for i in a.items)
    assert a.fix_first is not None
    first = next(i for i in a.items if i.item == a.fix_first)
    assert first.quadrant == "concentrate_here"


def test_n_one_and_all_identical(rules: Rules) -> None:
    one = period(rules, "2024H1", {"k": mixed(0)})
    a = run(rules, one)
    assert a.mean_total.n == 1 and a.mean_total.low is None and a.mean_total.few
    assert a.importance_basis == "stated"
    assert "[few replies]" in lines(rules, a, one)[0]
    same = period(rules, "2024H1", {f"k{i}": ["satisfied"] * 7 for i in range(15)})
    a = run(rules, same)
    assert (a.mean_total.value, a.mean_total.low, a.mean_total.high) == (86.0, 86.0, 86.0)
    # the same level is a different share of maximum per item (satisfied: quality 20 of 25)
    assert a.fix_first == "quality"
    assert {i.item: i.derived for i in a.items} == dict.fromkeys(ITEM_KEYS)  # no variation
    top = period(rules, "2024H1", {f"k{i}": ["very_satisfied"] * 7 for i in range(15)})
    a = run(rules, top)
    assert a.fix_first is None  # every item at its maximum: nothing to fix
    assert "Fix first: no item is both important and weak (by weight)." in lines(rules, a, top)
    two = period(rules, "2024H1", {"k0": ["satisfied"] * 7, "k1": ["neutral"] * 7})
    a = run(rules, two, same)
    assert a.change is not None and a.change.paired_total.n == 2
    assert a.change.paired_total.verdict == "within_noise"


def test_control_limits_name_the_period_outside(rules: Rules) -> None:
    good: dict[str, list[str | None]] = {f"k{i}": ["very_satisfied"] * 7 for i in range(32)}
    good |= {f"f{i}": ["dissatisfied"] * 7 for i in range(8)}  # 20 % flagged
    bad = {f"k{i}": ["dissatisfied"] * 7 for i in range(30)} | {
        f"j{i}": ["very_satisfied"] * 7 for i in range(10)
    }
    trend = [period(rules, p, good) for p in ("2022H2", "2023H1", "2023H2")]
    now = period(rules, "2024H1", bad)
    a = analyse(rules, now, trend[-1], [*trend, now], {}, [])
    assert [p.outside for p in a.control] == [None, None, None, "above"]
    said = lines(rules, a, now)
    assert any(s.startswith("Control chart, outside the limits: 2024H1 75.0 % above") for s in said)


def test_segments_that_differ(rules: Rules) -> None:
    a_class = period(rules, "A", {f"a{i}": ["very_satisfied"] * 7 for i in range(6)})
    c_class = period(rules, "C", {f"c{i}": ["dissatisfied"] * 7 for i in range(6)})
    now = period(rules, "2024H1", {f"a{i}": ["very_satisfied"] * 7 for i in range(10)})
    a = run(rules, now, segments={"class": [a_class, c_class], "region": [now]})
    rows = {s.name: s for s in a.segments["class"]}
    assert rows["A"].differs and rows["C"].differs
    assert a.segment_tests["class"].flagged.test == "fisher"
    assert a.segment_tests["class"].flagged.p == pytest.approx(
        sps.fisher_exact([[0, 6], [6, 0]]).pvalue
    )
    assert rows["A"].index.value == 100 and rows["C"].index.value == 50
    assert a.segment_tests["region"].totals.verdict == "not_testable"  # one region only
    said = lines(rules, a, now)
    assert any(s.startswith("Differs significantly from the rest: class A") for s in said)


def test_nps_beside_the_score(rules: Rules) -> None:
    replies = {f"k{i}": mixed(i) for i in range(10)}
    now = period(rules, "2024H1", replies, recommend=[10, 9, 9, 10, 9, 8, 7, 6, 0, 3])
    a = run(rules, now)
    assert a.nps is not None and a.nps.value == pytest.approx(20)
    assert a.as_json()["nps"] == {
        "value": 20.0,
        "low": -34.0,
        "high": 74.0,
        "n": 10,
        "few_replies": False,
    }
    assert any(
        s.startswith("Net Promoter Score +20 (95 % interval -34.0 to 74.0)")
        for s in lines(rules, a, now)
    )
    assert run(rules, period(rules, "2024H1", replies)).nps is None  # no question, no NPS


def test_comments_tagged_to_items(rules: Rules) -> None:
    tag = CommentTagger(rules).tag
    assert tag("交期经常延误") == ("delivery_date",)
    assert tag("服务态度差，包装破损") == ("service", "packaging")
    assert tag("服务器很好") == ()  # 服务 inside 服务器 (server) is not service
    assert tag("產品質量不穩定") == ("quality",)  # traditional characters
    assert tag("Deliveries were late") == ("delivery_date",)
    assert tag("please translate the manual") == ()  # late inside translate
    assert tag("RoHS报告请提供") == ("rohs",)
    assert tag("") == ()


def test_comments_grouped_by_item(rules: Rules) -> None:
    def c(text: str, items: tuple[str, ...]) -> TaggedComment:
        return TaggedComment("x", None, "2024H1", 80.0, "C", text, items, ())

    groups = by_item(
        [c("a", ("service",)), c("b", ("delivery_date", "service")), c("c", ())], list(rules.items)
    )
    assert [(g.item, g.count) for g in groups] == [("service", 2), ("delivery_date", 1), ("", 1)]
    now = period(rules, "2024H1", {f"k{i}": mixed(i) for i in range(3)})
    a = run(rules, now, comments=[c("a", ("service",)), c("b", ("service",))])
    assert next(i for i in a.items if i.item == "service").comments == 2
    assert "2 comments; most about Service (2)." in lines(rules, a, now)


def test_keywords_for_unknown_items_are_refused() -> None:
    text = (ROOT / "config" / "weights.yaml").read_text(encoding="utf-8")
    bad = text.replace("    quality: [品质,", "    qualty: [品质,")
    with pytest.raises(ConfigError, match=r"weights.yaml:\d+:5: comments.keywords.qualty: unknown"):
        parse_rules(bad, str(Path("weights.yaml")))
