"""Scoring (SPEC §2): response + rules -> total, grade, flags. Pure; no I/O.

Totals are rounded half-up to one decimal and the grade and low_score flag are judged on the
rounded figure, so what a report shows is what was judged.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import orjson

from csat.config import MissingItems, Rules
from csat.models import (
    Flag,
    ItemScore,
    Levels,
    Rejection,
    Response,
    ScoredResponse,
)

_TENTH = Decimal("0.1")
# Combinations of levels remembered per Scorer: 7 items x 6 answers could make 280k; the
# replies of a real survey fall on a few thousand. Beyond the limit each is scored afresh.
MEMO_LIMIT = 65_536

# items, total, grade, complete, flags, and their JSON (SPEC §7) once
_Combination = tuple[dict[str, ItemScore], float, str, bool, tuple[Flag, ...], bytes | None]


def round_half_up(value: float) -> float:
    """Round to one decimal, halves away from zero (82.25 -> 82.3), unlike Python's round()."""
    if value.is_integer():  # the common case: every item answered, integer points
        return value
    return float(Decimal(repr(value)).quantize(_TENTH, rounding=ROUND_HALF_UP))


class Scorer:
    """Scores responses under one set of rules. Item scores and item flags are immutable and
    few (items x levels), so they are built once here and shared by every response."""

    def __init__(self, rules: Rules, *, json: bool = True) -> None:
        """`json=False`: no JSON fragment per combination (a report never prints a reply's
        JSON; ScoredResponse.json_bytes still makes it when asked)."""
        self.rules = rules
        self._json = json
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
        self._keys = list(rules.items)
        # The JSON of each (item, level) and each item flag, so a combination's fragment is
        # joined from parts (models.score_fragment's bytes: tests/test_json_path.py).
        self._item_json = {pair: _member(pair[0], s.as_json()) for pair, s in self._scores.items()}
        self._unanswered_json = {k: _member(k, self._unanswered.as_json()) for k in self._keys}
        self._flag_json = {pair: orjson.dumps(f.as_json()) for pair, f in self._flags.items()}
        self._memo: dict[tuple[str | None, ...], _Combination | str] = {}

    def score(self, response: Response) -> ScoredResponse | Rejection:
        """Score one response, or say why it cannot be scored under the missing-items policy.
        Everything but the response itself depends only on its levels, and a survey's replies
        fall on few combinations of them: each combination is scored once (issue 12)."""
        ratings = response.ratings
        if isinstance(ratings, Levels):  # shared by a table's replies: scored once on it
            got = ratings.scored
            if got is not None and got[0] is self:
                combo = got[1]
            else:
                combo = self._lookup(response)
                ratings.scored = (self, combo)
        else:
            combo = self._lookup(response)
        if isinstance(combo, str):
            src = response.source
            return Rejection(src.file, src.sheet, response.span, combo)
        items, total, grade, complete, flags, fragment = combo
        return ScoredResponse(response, items, total, grade, complete, flags, fragment)

    def _lookup(self, response: Response) -> _Combination | str:
        """The combination of the response's levels: remembered, or scored now."""
        ratings = response.ratings
        key = tuple([ratings.get(k) for k in self._keys])
        combo = self._memo.get(key)
        if combo is None:
            combo = self._combination(response)
            if len(self._memo) < MEMO_LIMIT:
                self._memo[key] = combo
        return combo

    def _combination(self, response: Response) -> _Combination | str:
        """The score of one combination of levels, or the reason it cannot be scored."""
        rules = self.rules
        ratings = response.ratings
        items: dict[str, ItemScore] = {}
        flags: list[Flag] = []
        items_json: list[bytes] = []
        flags_json: list[bytes] = []
        earned = answered_weight = 0.0
        for key, weight in self._weights:
            level = ratings.get(key)
            if level is None:
                items[key] = self._unanswered
                items_json.append(self._unanswered_json[key])
                continue
            item_score = items[key] = self._scores[key, level]
            items_json.append(self._item_json[key, level])
            earned += item_score.points  # type: ignore[operator]
            answered_weight += weight
            flag = self._flags.get((key, level))
            if flag is not None:
                flags.append(flag)
                flags_json.append(self._flag_json[key, level])
        complete = answered_weight >= 100 - 1e-9
        if not complete:
            problem = _incomplete_problem(response, rules, answered_weight)
            if problem:
                return problem
            if rules.missing_items is MissingItems.rescale:
                earned = 100 * earned / answered_weight
        total = round_half_up(earned)
        if total < rules.flags.low_score_below:
            low = Flag("low_score", total=total)
            flags.insert(0, low)
            flags_json.insert(0, orjson.dumps(low.as_json()))
        grade = rules.grade_for(total)
        if not self._json:
            return items, total, grade, complete, tuple(flags), None
        fragment = b"".join(
            (
                b'"total":',
                orjson.dumps(total),
                b',"grade":',
                orjson.dumps(grade),
                b',"complete":true,"items":{' if complete else b',"complete":false,"items":{',
                b",".join(items_json),
                b'},"flags":[',
                b",".join(flags_json),
                b"]",
            )
        )
        return items, total, grade, complete, tuple(flags), fragment


def _member(key: str, value: Any) -> bytes:
    """`"key":value` as orjson writes it inside an object."""
    return orjson.dumps({key: value})[1:-1]


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
