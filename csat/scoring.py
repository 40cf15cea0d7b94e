"""Scoring (SPEC §2): response + rules -> total, grade, flags. Pure; no I/O.

Totals are rounded half-up to one decimal and the grade and low_score flag are judged on the
rounded figure, so what a report shows is what was judged.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from csat.config import MissingItems, Rules
from csat.models import Flag, ItemScore, Rejection, Response, ScoredResponse

_TENTH = Decimal("0.1")


def round_half_up(value: float) -> float:
    """Round to one decimal, halves away from zero (82.25 -> 82.3), unlike Python's round()."""
    if value.is_integer():  # the common case: every item answered, integer points
        return value
    return float(Decimal(repr(value)).quantize(_TENTH, rounding=ROUND_HALF_UP))


class Scorer:
    """Scores responses under one set of rules. Item scores and item flags are immutable and
    few (items x levels), so they are built once here and shared by every response."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._unanswered = ItemScore(None, None)
        self._scores = {
            (key, level): ItemScore(level, item.points[level])
            for key, item in rules.items.items()
            for level in rules.levels
        }
        self._flags = {
            (key, level): Flag("dissatisfied_item", item=key, level=level)
            for key in rules.items
            for level in rules.flags.flag_levels
        }
        self._weights = [(key, item.weight) for key, item in rules.items.items()]

    def score(self, response: Response) -> ScoredResponse | Rejection:
        """Score one response, or say why it cannot be scored under the missing-items policy."""
        rules = self.rules
        ratings = response.ratings
        items: dict[str, ItemScore] = {}
        flags: list[Flag] = []
        earned = answered_weight = 0.0
        for key, weight in self._weights:
            level = ratings.get(key)
            if level is None:
                items[key] = self._unanswered
                continue
            item_score = items[key] = self._scores[key, level]
            earned += item_score.points  # type: ignore[operator]
            answered_weight += weight
            flag = self._flags.get((key, level))
            if flag is not None:
                flags.append(flag)
        complete = answered_weight >= 100 - 1e-9
        if not complete:
            problem = _incomplete_problem(response, rules, answered_weight)
            if problem:
                src = response.source
                return Rejection(src.file, src.sheet, response.span, problem)
            if rules.missing_items is MissingItems.rescale:
                earned = 100 * earned / answered_weight
        total = round_half_up(earned)
        if total < rules.flags.low_score_below:
            flags.insert(0, Flag("low_score", total=total))
        return ScoredResponse(
            response, items, total, rules.grade_for(total), complete, tuple(flags)
        )


def score(response: Response, rules: Rules) -> ScoredResponse | Rejection:
    """Score one response (convenience; use a Scorer for many)."""
    return Scorer(rules).score(response)


def _incomplete_problem(response: Response, rules: Rules, answered: float) -> str | None:
    missing = [rules.items[k].labels.zh for k in rules.items if response.ratings.get(k) is None]
    if answered == 0:
        return "no rating at all: fill in at least the items the customer answered"
    if rules.missing_items is MissingItems.reject:
        return (
            f"items not answered: {', '.join(missing)} (missing_items: reject); "
            "ask the customer to complete the form"
        )
    if rules.missing_items is MissingItems.rescale and answered < rules.min_answered_weight:
        return (
            f"too few items answered: {answered:g} of 100 weight answered, "
            f"minimum {rules.min_answered_weight:g} (unanswered: {', '.join(missing)})"
        )
    return None
