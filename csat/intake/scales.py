"""Rating values and scales (SPEC §3 "Scales"): what a rating cell says, on which scale.

A sheet is read on one scale, chosen once from the distinct words seen in its rating cells, and
every distinct value is mapped to a level once (`ValueMap`): the per-row work is a dict lookup.
Words that the best-fitting scales read differently are refused as ambiguous, never guessed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from csat.config import PlainNumbers, Rules
from csat.intake.grid import CellError
from csat.text import normalize

# A value that carries its own number: 4分, 5非常满意, 5. Very satisfied, 较满意(4分), ★★★★☆.
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_POINTS = re.compile(r"^(\d+(?:\.\d+)?)\s*分$")
_NUMBER_WORD = re.compile(r"^(\d+)\s*[.、:)\-]?\s*([^\d\s.、:)\-].*)$")
_WORD_NUMBER = re.compile(r"^(.*?[^\d\s(])\s*\(\s*(\d+(?:\.\d+)?)\s*分?\s*\)$")
_STARS = re.compile(r"^[★☆⭐✩✭]+$")
_FILLED_STARS = "★⭐✭"
# A header note or title giving another range: (1-10分), 0~10, 1至10, from 1 to 10, 满分10分,
# 10分制, out of 10.
_RANGE = re.compile(r"(\d+)\s*(?:-|~|～|至|到|—|to)\s*(\d+)\s*分?")
_TOP_ONLY = re.compile(r"满分\s*(\d+)|(\d+)\s*分制|out of\s*(\d+)")
# A header that says what its numbers mean: (1=非常满意,5=非常不满意).
_DECLARED = re.compile(r"(\d+)\s*[=:：]\s*([^\d,，;；、/)）=]+)")


@dataclass(frozen=True, slots=True)
class Parsed:
    """A rating cell taken apart: its number (if it carries one) and its word (if any)."""

    number: float | None
    word: str | None  # normalised
    stars: int | None = None  # total stars drawn, for ★★★★☆ (filled count is `number`)


@lru_cache(maxsize=65536)
def parse_text(text: str) -> Parsed:
    t = normalize(text)
    if _NUMBER.match(t):
        return Parsed(float(t), None)
    m = _POINTS.match(t)
    if m:
        return Parsed(float(m.group(1)), None)
    if _STARS.match(t):
        filled = sum(c in _FILLED_STARS for c in t)
        return Parsed(float(filled), None, stars=len(t))
    m = _NUMBER_WORD.match(t)
    if m:
        return Parsed(float(m.group(1)), m.group(2).strip())
    m = _WORD_NUMBER.match(t)
    if m:
        return Parsed(float(m.group(2)), m.group(1).strip())
    return Parsed(None, t)


def rating_word(value: Any, unanswered: frozenset[str]) -> str | None:
    """The word a rating cell holds (normalised), for choosing the scale; None for numbers,
    blanks and unanswered markers."""
    if not isinstance(value, str) or isinstance(value, CellError):
        return None
    if normalize(value) in unanswered:
        return None
    return parse_text(value).word or None


def header_range(text: str) -> tuple[int, int] | None:
    """The range a header note announces, `(1-10分)` -> (1, 10), `满分10分` -> (1, 10); None
    when it names none."""
    t = normalize(text)
    for m in _RANGE.finditer(t):
        lo, hi = int(m.group(1)), int(m.group(2))
        if lo in (0, 1) and hi > lo:
            return lo, hi
    top = _TOP_ONLY.search(t)
    if top:
        return 1, int(next(g for g in top.groups() if g))
    return None


def declared_numbers(text: str, rules: Rules) -> str | None:
    """The header's own key when it numbers the levels otherwise than csat does
    (`1=非常满意`): such numbers cannot be read as level numbers."""
    t = normalize(text)
    for m in _DECLARED.finditer(t):
        number, word = int(m.group(1)), m.group(2).strip()
        for table in rules.scale_words.values():
            level = table.get(word)
            if level is not None and rules.levels[level].number != number:
                return f"{m.group(1)}={m.group(2).strip()}"
    return None


# --------------------------------------------------------------------------------------------
# Choosing the scale


@dataclass(frozen=True)
class ScaleChoice:
    """The scale a sheet is read on, and why."""

    scale: str
    pinned: bool
    known: tuple[str, ...]  # the words seen that the scale knows (what decided it)
    ambiguous: dict[str, dict[str, str]] = field(default_factory=dict)  # word -> scale -> level
    unknown: tuple[str, ...] = ()  # words seen that no scale considered knows
    tied: tuple[str, ...] = ()  # the scales that fit the words equally well
    written: dict[str, str] = field(default_factory=dict, compare=False)  # word -> as typed

    def describe(self, rules: Rules) -> str:
        if self.pinned:
            return f"scale '{self.scale}' (pinned)"
        if self.ambiguous:
            names = " and ".join(f"'{k}'" for k in self.tied)
            words = ", ".join(self.written.get(w, w) for w in self.ambiguous)
            return (
                f"no one scale: {names} fit the words equally and read {words} differently; "
                "replies using them are refused; pin the scale with --scale NAME"
            )
        if not self.known:
            return f"scale '{self.scale}' (default: no rating words seen, numbers are levels)"
        shown = [self.written.get(w, w) for w in self.known]
        words = ", ".join(shown[:8]) + (" …" if len(shown) > 8 else "")
        return f"scale '{self.scale}' ({rules.scales[self.scale].description}), from: {words}"


_CHOICES: dict[tuple[int, tuple[str, ...], str | None], tuple[Rules, ScaleChoice]] = {}
_CHOICES_MAX = 4096


def choose_scale(words: Iterable[str], rules: Rules, pinned: str | None = None) -> ScaleChoice:
    """SPEC §3: the scale knowing most words wins; then the one giving fewer pairs of different
    words the same level; a word that the scales still tied read differently is ambiguous.
    Remembered per rules and set of words: 2,000 forms printed alike settle it once (issue 12).
    A ScaleChoice is never changed once made (callers `replace` it), so one can be shared."""
    seen = tuple(sorted(set(words)))
    key = (id(rules), seen, pinned)
    hit = _CHOICES.get(key)
    if hit is not None and hit[0] is rules:
        return hit[1]
    choice = _choose_scale(seen, rules, pinned)
    if len(_CHOICES) >= _CHOICES_MAX:
        _CHOICES.clear()
    _CHOICES[key] = (rules, choice)
    return choice


def _choose_scale(seen: tuple[str, ...], rules: Rules, pinned: str | None) -> ScaleChoice:
    tables = rules.scale_words
    pinned = pinned or rules.scale
    if pinned is not None:
        table = tables[pinned]
        return ScaleChoice(
            pinned,
            True,
            tuple(w for w in seen if w in table),
            unknown=tuple(w for w in seen if w not in table),
        )
    candidates = [k for k, sc in rules.scales.items() if sc.numbers is PlainNumbers.level]
    default = candidates[0]

    def fit(key: str) -> tuple[int, int]:
        table = tables[key]
        levels = [table[w] for w in seen if w in table]
        same_level_pairs = sum(levels.count(lv) * (levels.count(lv) - 1) // 2 for lv in set(levels))
        return len(levels), -same_level_pairs

    best = max(fit(k) for k in candidates)
    if best[0] == 0:
        return ScaleChoice(default, False, (), unknown=tuple(seen))
    tied = [k for k in candidates if fit(k) == best]
    chosen = tied[0]
    known = tuple(w for w in seen if w in tables[chosen])
    ambiguous: dict[str, dict[str, str]] = {}
    for w in known:
        readings = {k: tables[k][w] for k in tied if w in tables[k]}
        if len(set(readings.values())) > 1:
            ambiguous[w] = readings
    unknown = tuple(w for w in seen if w not in tables[chosen])
    return ScaleChoice(chosen, False, known, ambiguous, unknown, tuple(tied))


# --------------------------------------------------------------------------------------------
# Mapping values to levels


class BadRating(Exception):
    """A rating cell that cannot be read; the message is the reason (without the cell)."""


class ValueMap:
    """Reads rating cells on one chosen scale. Each distinct value is read once and cached,
    so a column of 100k cells costs as many parses as it has distinct values."""

    def __init__(self, rules: Rules, choice: ScaleChoice) -> None:
        self.rules = rules
        self.choice = choice
        self._words = rules.scale_words[choice.scale]
        self._positions = (
            rules.scale_positions[choice.scale]
            if rules.scales[choice.scale].numbers is PlainNumbers.position
            else None
        )
        self._by_number = {lv.number: key for key, lv in rules.levels.items()}
        self._unanswered = rules.unanswered
        self._cache: dict[Any, str | None | BadRating] = {}

    def level(self, value: Any, item_label: str) -> str | None:
        """The level key, None when unanswered; raises BadRating with a reason."""
        key = (value.__class__, value)
        try:
            got = self._cache[key]
        except KeyError:
            try:
                got = self._read(value)
            except BadRating as exc:
                got = exc
            if len(self._cache) < 65536:
                self._cache[key] = got
        if isinstance(got, BadRating):
            raise BadRating(str(got).replace("{item}", item_label))
        return got

    def _read(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, CellError):
            raise BadRating(f"{{item}}: {value.reason}")
        if isinstance(value, bool):
            raise BadRating(f"'{value}' is not a rating for {{item}}")
        if isinstance(value, int | float):
            if not math.isfinite(value):
                raise BadRating(f"'{value}' is not a rating for {{item}}")
            if float(value).is_integer() and str(int(value)) in self._unanswered:
                return None
            return self._number(float(value), None, _shown(value))
        if not isinstance(value, str):
            raise BadRating(f"'{_shown(value)}' is not a rating for {{item}}")
        text = value.strip()
        if not text or normalize(text) in self._unanswered:
            return None
        parsed = parse_text(text)
        if parsed.stars is not None and parsed.stars not in (5, parsed.number):
            raise BadRating(
                f"'{text}' for {{item}} is {parsed.stars} stars, not the five levels: "
                "csat reads five-star ratings only"
            )
        if parsed.number is not None:
            return self._number(parsed.number, parsed.word, text)
        assert parsed.word is not None
        return self._word(parsed.word, text)

    def _word(self, word: str, as_written: str) -> str:
        ambiguous = self.choice.ambiguous.get(word)
        if ambiguous is not None:
            readings = ", ".join(
                f"'{self.rules.levels[lv].labels.en.lower()}' on scale {sc}"
                for sc, lv in ambiguous.items()
            )
            raise BadRating(
                f"'{as_written}' for {{item}} is ambiguous: it means {readings}, and the other "
                "words on this sheet do not tell which scale the customer saw; pin the scale "
                "with --scale NAME (or scale: in weights.yaml)"
            )
        level = self._words.get(word)
        if level is None:
            raise BadRating(
                f"unknown rating '{as_written}' for {{item}}: on scale '{self.choice.scale}' "
                f"write one of {self._vocabulary()} (or 1-5)"
            )
        return level

    def _number(self, number: float, word: str | None, as_written: str) -> str:
        if not number.is_integer():
            raise BadRating(f"unknown rating '{as_written}' for {{item}}: not a whole number 1-5")
        n = int(number)
        if self._positions is not None and word is None:
            level = self._positions.get(n)
            if level is None:
                raise BadRating(
                    f"unknown rating '{as_written}' for {{item}}: option number "
                    f"1-{len(self._positions)} expected on scale '{self.choice.scale}'"
                )
            return level
        level = self._by_number.get(n)
        if level is None:
            raise BadRating(
                f"unknown rating '{as_written}' for {{item}}: write one of "
                f"{self._vocabulary()} (or 1-5)"
            )
        if word is not None:
            said = self._word(word, word)
            if said != level:
                raise BadRating(
                    f"'{as_written}' for {{item}} contradicts itself: {n} is "
                    f"{self.rules.levels[level].labels.zh}, but '{word}' is "
                    f"{self.rules.levels[said].labels.zh} on scale '{self.choice.scale}'; "
                    "ask the customer which they meant"
                )
        return level

    def _vocabulary(self) -> str:
        firsts = [words[0] for words in self.rules.scales[self.choice.scale].words.values()]
        return "/".join(firsts)


def other_range_reason(item_label: str, why: str) -> str:
    return (
        f"{item_label} is not on the five levels ({why}): csat does not convert other scales; "
        "send the customer the five-level form, or re-enter the ratings as 1-5"
    )


def column_range(values: Iterable[Any]) -> float | None:
    """The highest plain number above 5 in a rating column (8, 10分, 85): proof the column is
    on another scale (1-10, 0-10, 100 points), whatever its single cells hold."""
    top: float | None = None
    for v in values:
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, int | float):
            n = float(v)
        elif isinstance(v, str) and not isinstance(v, CellError):
            parsed = parse_text(v)
            if parsed.number is None or parsed.word is not None or parsed.stars is not None:
                continue
            n = parsed.number
        else:
            continue
        if math.isfinite(n) and n > 5:
            top = max(top or n, n)
    return top


def _shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
