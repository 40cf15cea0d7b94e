"""Scoring rules of SPEC §2, as properties over every possible set of ratings."""

from __future__ import annotations

from datetime import date

import orjson
import pytest
from conftest import ITEM_KEYS
from hypothesis import given
from hypothesis import strategies as st

from csat.config import Rules
from csat.models import Rejection, Response, ScoredResponse, Source
from csat.scoring import round_half_up, score

LEVELS = ["very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied"]
ITEMS = ITEM_KEYS


def response(ratings: dict[str, str | None]) -> Response:
    return Response(
        "客户",
        None,
        date(2024, 6, 1),
        "2024H1",
        ratings,
        None,
        Source("f.xlsx", "S", 2),
        span="E2:K2",
    )


def scored(rules: Rules, ratings: dict[str, str | None]) -> ScoredResponse:
    result = score(response(ratings), rules)
    assert isinstance(result, ScoredResponse), result
    return result


def with_policy(rules: Rules, **changes: object) -> Rules:
    data = rules.model_dump(mode="json")
    data.update(changes)
    return Rules.model_validate(data)


all_answered = st.fixed_dictionaries({item: st.sampled_from(LEVELS) for item in ITEMS})
some_answered = st.fixed_dictionaries(
    {item: st.one_of(st.none(), st.sampled_from(LEVELS)) for item in ITEMS}
)


@pytest.mark.parametrize(
    ("level", "total", "grade"),
    list(zip(LEVELS, [100.0, 86.0, 73.0, 50.0, 24.0], "ABCDE", strict=True)),
)
def test_same_level_everywhere_gives_that_levels_grade(
    rules: Rules, level: str, total: float, grade: str
) -> None:
    result = scored(rules, dict.fromkeys(ITEMS, level))
    assert (result.total, result.grade, result.complete) == (total, grade, True)


@given(ratings=some_answered)
def test_total_stays_within_0_100(rules: Rules, ratings: dict[str, str | None]) -> None:
    result = score(response(ratings), rules)
    if isinstance(result, ScoredResponse):
        assert 0 <= result.total <= 100
        assert result.grade == rules.grade_for(result.total)


@given(ratings=all_answered, item=st.sampled_from(ITEMS))
def test_raising_one_rating_never_lowers_the_total(
    rules: Rules, ratings: dict[str, str], item: str
) -> None:
    before = scored(rules, ratings)
    position = LEVELS.index(ratings[item])
    if position > 0:
        better = {**ratings, item: LEVELS[position - 1]}
        assert scored(rules, better).total >= before.total


@given(ratings=all_answered)
def test_rescale_with_nothing_missing_is_the_plain_sum(
    rules: Rules, ratings: dict[str, str]
) -> None:
    plain = sum(rules.items[k].points[v] for k, v in ratings.items())
    result = scored(rules, ratings)
    assert result.total == plain and result.complete


@given(ratings=all_answered)
def test_flags_follow_the_rules(rules: Rules, ratings: dict[str, str]) -> None:
    result = scored(rules, ratings)
    items_flagged = {f.item for f in result.flags if f.type == "dissatisfied_item"}
    assert items_flagged == {
        k for k, v in ratings.items() if v in ("dissatisfied", "very_dissatisfied")
    }
    assert any(f.type == "low_score" for f in result.flags) == (result.total < 70)


def test_rescale_marks_incomplete_and_keeps_table_points(rules: Rules) -> None:
    ratings: dict[str, str | None] = dict.fromkeys(ITEMS, "very_satisfied")
    ratings["service"] = None
    ratings["delivery_date"] = "satisfied"
    result = scored(rules, ratings)
    assert result.complete is False
    assert result.total == round_half_up(100 * 79 / 80)  # 98.75 -> 98.8
    assert result.total == 98.8
    assert result.items["delivery_date"].points == 4.0
    assert result.items["service"].points is None


def test_too_little_answered_is_rejected_naming_the_missing_items(rules: Rules) -> None:
    ratings = {"quality": "satisfied", "rohs": "satisfied", "service": "satisfied"}  # 65 weight
    assert isinstance(score(response(ratings), rules), ScoredResponse)
    ratings = {"quality": "satisfied", "rohs": "satisfied", "delivery_date": "satisfied"}  # 50
    result = score(response(ratings), rules)
    assert isinstance(result, Rejection)
    assert result.cell == "E2:K2"
    assert "50 of 100" in result.reason and "minimum 60" in result.reason
    assert "服务情况" in result.reason


def test_zero_and_reject_policies(rules: Rules) -> None:
    ratings: dict[str, str | None] = dict.fromkeys(ITEMS, "very_satisfied")
    ratings["quality"] = None
    zero = scored(with_policy(rules, missing_items="zero"), ratings)
    assert (zero.total, zero.grade, zero.complete) == (75.0, "C", False)
    rejected = score(response(ratings), with_policy(rules, missing_items="reject"))
    assert isinstance(rejected, Rejection) and "产品质量" in rejected.reason


def test_grade_and_low_score_are_judged_on_the_rounded_total(rules: Rules) -> None:
    # 100 * 66.5 / 95 = 69.99... would be under 70 unrounded; shown 70.0, so no low_score.
    assert round_half_up(69.96) == 70.0
    assert round_half_up(94.95) == 95.0 and rules.grade_for(95.0) == "A"
    assert round_half_up(82.25) == 82.3  # half-up, not banker's rounding
    assert round_half_up(0.05) == 0.1


def test_a_response_with_no_ratings_is_rejected(rules: Rules) -> None:
    result = score(response({}), rules)
    assert isinstance(result, Rejection) and "no rating" in result.reason


@given(some_answered)
def test_a_remembered_combination_scores_as_a_fresh_one(
    rules: Rules, ratings: dict[str, str | None]
) -> None:
    from csat.scoring import Scorer

    scorer = Scorer(rules)
    first = scorer.score(response(ratings))
    other = response(dict(ratings))
    other.customer, other.source, other.span = "另一客户", Source("g.xlsx", "T", 9), "E9:K9"
    again = scorer.score(other)  # the same levels: from the memo
    fresh = score(other, rules)
    assert type(again) is type(fresh) is type(first)
    if isinstance(fresh, Rejection):
        assert again == fresh  # names the second response's file and cells, not the first's
    else:
        assert isinstance(again, ScoredResponse)
        assert again.response is other
        assert (again.total, again.grade, again.complete, again.flags, again.items) == (
            fresh.total,
            fresh.grade,
            fresh.complete,
            fresh.flags,
            fresh.items,
        )
        # the JSON of SPEC §7, with the per-combination part serialised once
        assert again.json_bytes() == orjson.dumps(again.as_json())
        assert fresh.json_bytes() == orjson.dumps(fresh.as_json())
