"""Scales (SPEC §3): the scale a sheet is read on is chosen from the words on it, exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csat.config import Rules
from csat.intake.scales import BadRating, ValueMap, choose_scale, header_range, rating_word
from csat.text import normalize


def words(*ws: str) -> list[str]:
    return [normalize(w) for w in ws]


@pytest.mark.parametrize(
    ("seen", "scale", "word", "level"),
    [
        # 满意 beside 一般 is the platforms' second best ...
        (["非常满意", "满意", "一般", "不满意"], "platform", "满意", "satisfied"),
        # ... beside 较满意 it is the procedure's middle
        (["非常满意", "较满意", "满意", "不满意"], "csat", "满意", "neutral"),
        (["很满意", "比较满意", "一般"], "variant", "比较满意", "satisfied"),
        (["Excellent", "Very good", "Good", "Fair"], "quality_en", "Good", "neutral"),
        (["Very good", "Good", "Average", "Very poor"], "quality_en_alt", "Good", "satisfied"),
        (["Very satisfied", "Satisfied", "Neutral"], "csat", "Satisfied", "satisfied"),
        (["滿意", "一般"], "platform", "滿意", "satisfied"),  # traditional characters alike
    ],
)
def test_the_words_on_a_sheet_choose_the_scale(
    rules: Rules, seen: list[str], scale: str, word: str, level: str
) -> None:
    choice = choose_scale(words(*seen), rules)
    assert (choice.scale, choice.ambiguous) == (scale, {})
    assert ValueMap(rules, choice).level(word, "产品质量") == level


@pytest.mark.parametrize(
    ("seen", "word"), [(["Good", "Very good"], "Good"), (["满意"], "满意"), (["Poor"], "Poor")]
)
def test_words_the_best_scales_read_differently_are_refused_with_both_readings(
    rules: Rules, seen: list[str], word: str
) -> None:
    choice = choose_scale(words(*seen), rules)
    assert normalize(word) in choice.ambiguous
    with pytest.raises(BadRating) as exc:
        ValueMap(rules, choice).level(word, "产品质量")
    reason = str(exc.value)
    assert "ambiguous" in reason and "--scale" in reason and "产品质量" in reason
    assert len(choice.ambiguous[normalize(word)]) >= 2


def test_a_word_no_scale_shares_is_not_ambiguous(rules: Rules) -> None:
    choice = choose_scale(words("Excellent"), rules)
    assert choice.scale == "quality_en" and not choice.ambiguous


def test_a_word_unknown_on_the_chosen_scale_is_an_unknown_rating(rules: Rules) -> None:
    choice = choose_scale(words("非常满意", "较满意", "很好"), rules)
    with pytest.raises(BadRating, match="unknown rating '很好'"):
        ValueMap(rules, choice).level("很好", "产品质量")


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("4分", "satisfied"),
        ("5非常满意", "very_satisfied"),
        ("5. Very satisfied", "very_satisfied"),
        ("较满意(4分)", "satisfied"),
        ("较满意（4分）", "satisfied"),
        ("★★★★☆", "satisfied"),
        ("★★", "dissatisfied"),
        ("３", "neutral"),
    ],
)
def test_values_with_their_own_number_are_read_by_the_number(
    rules: Rules, value: str, level: str
) -> None:
    assert ValueMap(rules, choose_scale((), rules, "csat")).level(value, "产品质量") == level


@pytest.mark.parametrize("value", ["5一般", "较满意(2分)", "1 Very satisfied"])
def test_a_number_that_contradicts_its_word_is_refused(rules: Rules, value: str) -> None:
    with pytest.raises(BadRating, match="contradicts itself"):
        ValueMap(rules, choose_scale((), rules, "csat")).level(value, "产品质量")


def test_star_ratings_out_of_ten_are_not_five_levels(rules: Rules) -> None:
    with pytest.raises(BadRating, match="10 stars"):
        ValueMap(rules, choose_scale((), rules, "csat")).level("★★★☆☆☆☆☆☆☆", "产品质量")


def test_a_position_scale_reads_plain_numbers_as_option_positions(rules: Rules) -> None:
    values = ValueMap(rules, choose_scale((), rules, "platform_positions"))
    assert values.level(1, "x") == "very_satisfied"  # the first option listed
    assert values.level(5, "x") == "very_dissatisfied"
    assert values.level("满意", "x") == "satisfied"


def test_header_notes_announce_other_ranges() -> None:
    assert header_range("产品质量(1-10分)") == (1, 10)
    assert header_range("Product quality (0~10)") == (0, 10)
    assert header_range("产品质量(1-5分)") == (1, 5)
    assert header_range("产品质量(25%)") is None


SCALE_WORDS = st.sampled_from(
    [
        "非常满意",
        "较满意",
        "满意",
        "一般",
        "不满意",
        "非常不满意",
        "很满意",
        "Good",
        "Very good",
        "Excellent",
        "Poor",
        "Fair",
        "Average",
        "Satisfied",
        "很好",
        "4分",
        "3",
    ]
)


@given(seen=st.lists(SCALE_WORDS, min_size=1, max_size=30), data=st.data())
def test_the_choice_does_not_depend_on_row_order(
    rules: Rules, seen: list[str], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(seen))
    as_read = [w for v in seen if (w := rating_word(v, rules.unanswered))]
    reordered = [w for v in shuffled if (w := rating_word(v, rules.unanswered))]
    assert choose_scale(as_read, rules) == choose_scale(reordered, rules)


@given(
    seen=st.lists(SCALE_WORDS, max_size=20),
    pinned=st.sampled_from(
        ["csat", "platform", "variant", "quality_en", "quality_en_alt", "platform_positions"]
    ),
)
def test_a_pinned_scale_always_wins(rules: Rules, seen: list[str], pinned: str) -> None:
    choice = choose_scale([normalize(w) for w in seen], rules, pinned)
    assert choice.scale == pinned and choice.pinned and not choice.ambiguous
    table = rules.scale_words[pinned]
    values = ValueMap(rules, choice)
    for w in seen:
        if normalize(w) in table:
            assert values.level(w, "x") == table[normalize(w)]
