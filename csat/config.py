"""Scoring rules: `config/weights.yaml` -> a validated, frozen `Rules` object (SPEC §2).

The rules are plain frozen dataclasses, built by a fast validator of this module that accepts a
file only when every value already has its exact type and meets every constraint and cross-field
rule (weights sum to 100, points tables, grade bands, alias clashes). Any other file goes to the
pydantic models of csat.config_schema, which coerce what they may and report every problem at
once with the YAML file, line and field it concerns. So a valid file is read without importing
pydantic (~0.1 s of every command's start, issue 12), and an invalid one gets pydantic's
messages, as before; tests/test_config_fast.py checks that both paths give equal rules.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import date
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml

from csat.errors import ConfigError, ConfigProblem, RulesInvalid
from csat.text import normalize, normalize_label

SITE_MAX = 40  # a plant's short name: it heads columns and goes in a folder name


def site_problem(name: str) -> str | None:
    """Why `name` cannot be a site name, or None: it is shown in sheets, footers and folder
    names, so it is short, printable and has no control characters or edge spaces."""
    if len(name) > SITE_MAX:
        return f"a site name has at most {SITE_MAX} characters, this one {len(name)}"
    if not name.isprintable():
        return "a site name cannot hold control characters, tabs or line breaks"
    if name != name.strip():
        return "a site name cannot start or end with a space"
    return None


class PlainNumbers(StrEnum):
    level = "level"
    position = "position"


class MissingItems(StrEnum):
    rescale = "rescale"
    zero = "zero"
    reject = "reject"


class Cadence(StrEnum):
    half_year = "half_year"
    quarter = "quarter"
    month = "month"
    year = "year"


class DateOrder(StrEnum):
    ambiguous = "ambiguous"
    day_first = "day_first"
    month_first = "month_first"


# The classes below carry the fields and defaults of the models of the same name in
# csat.config_schema (where each field's meaning and constraints are written, for the JSON
# schema); a default keeps the type pydantic leaves it (70, not 70.0).


class _Rule:
    """Shared by every rules class: pydantic's model_dump, for callers that edit a copy."""

    def model_dump(self, mode: Literal["python", "json"] = "python") -> dict[str, Any]:
        dumped = _dump(self, mode == "json")
        assert isinstance(dumped, dict)
        return dumped


@dataclass(frozen=True, kw_only=True)
class Labels(_Rule):
    zh: str
    en: str


@dataclass(frozen=True, kw_only=True)
class Level(_Rule):
    number: int
    labels: Labels


@dataclass(frozen=True, kw_only=True)
class Scale(_Rule):
    description: str = ""
    words: dict[str, list[str]]
    numbers: PlainNumbers = PlainNumbers.level


@dataclass(frozen=True, kw_only=True)
class Item(_Rule):
    labels: Labels
    weight: float
    points: dict[str, float]
    department: str
    aliases: list[str]


@dataclass(frozen=True, kw_only=True)
class Flags(_Rule):
    low_score_below: float = 70
    flag_levels: list[str] = field(default_factory=lambda: ["dissatisfied", "very_dissatisfied"])


@dataclass(frozen=True, kw_only=True)
class Headers(_Rule):
    customer: list[str]
    customer_code: list[str]
    date: list[str]
    comments: list[str]
    rating: list[str]
    submitted: list[str] = field(default_factory=list)
    recommend: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Marks(_Rule):
    ticked: list[str]
    unticked: list[str]
    unanswered: list[str]


@dataclass(frozen=True, kw_only=True)
class Dates(_Rule):
    order: DateOrder = DateOrder.ambiguous
    earliest: date = date(1990, 1, 1)
    latest_years_ahead: int = 1


@dataclass(frozen=True, kw_only=True)
class Limits(_Rule):
    max_member_bytes: int = 2 * 1024**3
    max_ratio: float = 100
    ratio_applies_above_bytes: int = 10 * 1024**2
    max_sheet_cells: int = 16_000_000
    max_text_bytes: int = 256 * 1024**2


@dataclass(frozen=True, kw_only=True)
class Capa(_Rule):
    due_working_days: int = 10
    holidays_country: str = "CN"
    extra_holidays: list[date] = field(default_factory=list)
    makeup_workdays: list[date] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Survey(_Rule):
    form_number: str = "QR-BD-012"
    revision: str = "A/1"
    company: Labels = Labels(zh="本公司", en="Our company")
    reply_days: int = 14


@dataclass(frozen=True, kw_only=True)
class Comments(_Rule):
    keywords: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Rules(_Rule):
    """The scoring rules of SPEC §2, as written in config/weights.yaml."""

    version: Literal[1]
    levels: dict[str, Level]
    items: dict[str, Item]
    departments: dict[str, Labels]
    overall_department: str = "sales"
    grades: dict[str, float]
    flags: Flags = field(default_factory=Flags)
    missing_items: MissingItems = MissingItems.rescale
    min_answered_weight: float = 60
    cadence: Cadence = Cadence.half_year
    scales: dict[str, Scale]
    scale: str | None = None
    dates: Dates = field(default_factory=Dates)
    headers: Headers
    marks: Marks
    limits: Limits = field(default_factory=Limits)
    capa: Capa = field(default_factory=Capa)
    survey: Survey = field(default_factory=Survey)
    comments: Comments = field(default_factory=Comments)
    site: str = ""

    @classmethod
    def model_validate(cls, data: Any) -> Rules:
        """Rules from data shaped like weights.yaml (pydantic's name, for callers that edit a
        copy); raises ConfigError as a file would."""
        return _validate(data, "<rules>", {})

    # Lookup tables built once per Rules object; intake uses them per cell.
    @cached_property
    def scale_words(self) -> dict[str, dict[str, str]]:
        """Scale key -> normalised word -> level key."""
        return {
            key: {normalize(w): lv for lv, words in sc.words.items() for w in words}
            for key, sc in self.scales.items()
        }

    @cached_property
    def scale_positions(self) -> dict[str, dict[int, str]]:
        """Scale key -> option position (1 = first word listed) -> level key."""
        return {key: dict(enumerate(sc.words, start=1)) for key, sc in self.scales.items()}

    @cached_property
    def any_level_word(self) -> frozenset[str]:
        """Every word of every scale: what can head a level column or fill a rating cell."""
        return frozenset(w for table in self.scale_words.values() for w in table)

    @cached_property
    def level_by_number(self) -> dict[int, str]:
        return {lv.number: key for key, lv in self.levels.items()}

    @cached_property
    def item_by_alias(self) -> dict[str, str]:
        table = {normalize_label(a): key for key, it in self.items.items() for a in it.aliases}
        for key, it in self.items.items():
            table.setdefault(normalize_label(it.labels.zh), key)
            table.setdefault(normalize_label(it.labels.en), key)
        return table

    @cached_property
    def field_by_alias(self) -> dict[str, str]:
        """Header/label text -> customer, customer_code, date, comments, rating, submitted,
        or ignore."""
        return {
            normalize_label(alias): name
            for name, aliases in _header_aliases(self.headers).items()
            for alias in aliases
        }

    @cached_property
    def ticked(self) -> frozenset[str]:
        return frozenset(normalize(m) for m in self.marks.ticked)

    @cached_property
    def unticked(self) -> frozenset[str]:
        return frozenset(normalize(m) for m in self.marks.unticked)

    @cached_property
    def unanswered(self) -> frozenset[str]:
        return frozenset(normalize(m) for m in self.marks.unanswered)

    def grade_for(self, total: float) -> str:
        for grade, lower in self.grades.items():
            if total >= lower:
                return grade
        return list(self.grades)[-1]


_HEADER_FIELDS = tuple(f.name for f in fields(Headers))


def _header_aliases(headers: Any) -> dict[str, list[str]]:
    """Header field -> its aliases, in field order (of a Headers, or of its pydantic model)."""
    return {name: getattr(headers, name) for name in _HEADER_FIELDS}


def _dump(value: Any, as_json: bool) -> Any:
    if isinstance(value, _Rule):
        return {f.name: _dump(getattr(value, f.name), as_json) for f in fields(value)}  # type: ignore[arg-type]
    if isinstance(value, dict):
        return {k: _dump(v, as_json) for k, v in value.items()}
    if isinstance(value, list):
        return [_dump(v, as_json) for v in value]
    if as_json and isinstance(value, StrEnum):
        return value.value
    if as_json and isinstance(value, date):
        return value.isoformat()
    return value


# ---------------------------------------------------------------------------------------------
# The fast path: plain data whose every value is already what the models would make of it.


class _Refused(Exception):
    """The fast path does not take this value: pydantic's models decide (and explain)."""


Check = Callable[[Any], Any]

_KEY = re.compile(r"[a-z][a-z0-9_]*")
_GRADE = re.compile(r"[A-Z]")
_COUNTRY = re.compile(r"[A-Z]{2}")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(value: Any) -> str:
    if type(value) is not str or _SURROGATE.search(value):  # not UTF-8: pydantic decides
        raise _Refused
    return value


def _matching(pattern: re.Pattern[str]) -> Check:
    def check(value: Any) -> str:
        if type(value) is not str or not pattern.fullmatch(value):
            raise _Refused
        return value

    return check


_N = TypeVar("_N", int, float)


def _whole(low: int | None = None, high: int | None = None, above: int | None = None) -> Check:
    """An int (not a bool, not a float) within the bounds."""

    def check(value: Any) -> int:
        if type(value) is not int:
            raise _Refused
        return _within(value, low, high, above)

    return check


def _within(value: _N, low: float | None, high: float | None, above: float | None) -> _N:
    """`value` when it meets the bounds (low <= value <= high, value > above), else refused."""
    if (low is not None and value < low) or (high is not None and value > high):
        raise _Refused
    if above is not None and value <= above:
        raise _Refused
    return value


def _number(
    low: float | None = None, high: float | None = None, above: float | None = None
) -> Check:
    """An int or float as a float (as pydantic makes it), within the bounds; an int too big
    to be a float exactly, a bool or a NaN against a bound goes to pydantic."""

    def check(given: Any) -> float:
        if type(given) is int:
            if abs(given) > 2**53:
                raise _Refused
            value = float(given)
        elif type(given) is float:
            value = given
        else:
            raise _Refused
        bounded = low is not None or high is not None or above is not None
        if bounded and math.isnan(value):
            raise _Refused
        return _within(value, low, high, above)

    return check


def _day(value: Any) -> date:
    if type(value) is not date:  # a datetime is a date too: pydantic decides on it
        raise _Refused
    return value


def _choice(enum: type[StrEnum]) -> Check:
    def check(value: Any) -> StrEnum:
        if type(value) is not str or value not in enum._value2member_map_:
            raise _Refused
        return enum(value)

    return check


def _list(item: Check, min_length: int = 0) -> Check:
    def check(value: Any) -> list[Any]:
        if type(value) is not list or len(value) < min_length:
            raise _Refused
        return [item(v) for v in value]

    return check


def _mapping(key: Check, item: Check) -> Check:
    def check(value: Any) -> dict[Any, Any]:
        if type(value) is not dict:
            raise _Refused
        return {key(k): item(v) for k, v in value.items()}

    return check


def _optional(item: Check) -> Check:
    def check(value: Any) -> Any:
        return None if value is None else item(value)

    return check


def _one(value: Any) -> int:
    if type(value) is not int or value != 1:
        raise _Refused
    return value


def _site_name(value: Any) -> str:
    if type(value) is not str or site_problem(value) is not None:
        raise _Refused
    return value


def _model(cls: type[_Rule]) -> Check:
    """A mapping of exactly the class's fields (the required ones present) -> an instance."""
    required = {
        f.name
        for f in fields(cls)  # type: ignore[arg-type]
        if f.default is MISSING and f.default_factory is MISSING
    }

    def check(value: Any) -> _Rule:
        checks = _CHECKS[cls]
        if type(value) is not dict or not required <= value.keys() <= checks.keys():
            raise _Refused  # not a mapping, a required key missing, or an unknown key
        return cls(**{name: checks[name](v) for name, v in value.items()})

    return check


_key, _aliases, _texts = _matching(_KEY), _list(_text, min_length=1), _list(_text)

# What each field takes: the constraints of csat.config_schema's models, as plain checks.
_CHECKS: dict[type[_Rule], dict[str, Check]] = {}
_CHECKS[Labels] = {"zh": _text, "en": _text}
_CHECKS[Level] = {"number": _whole(1, 5), "labels": _model(Labels)}
_CHECKS[Scale] = {
    "description": _text,
    "words": _mapping(_key, _aliases),
    "numbers": _choice(PlainNumbers),
}
_CHECKS[Item] = {
    "labels": _model(Labels),
    "weight": _number(above=0),
    "points": _mapping(_key, _number()),
    "department": _key,
    "aliases": _aliases,
}
_CHECKS[Flags] = {"low_score_below": _number(0, 100), "flag_levels": _list(_key)}
_CHECKS[Headers] = {
    name: _aliases
    if name in ("customer", "customer_code", "date", "comments", "rating")
    else _texts
    for name in _HEADER_FIELDS
}
_CHECKS[Marks] = {"ticked": _aliases, "unticked": _texts, "unanswered": _texts}
_CHECKS[Dates] = {
    "order": _choice(DateOrder),
    "earliest": _day,
    "latest_years_ahead": _whole(0, 50),
}
_CHECKS[Limits] = {
    "max_member_bytes": _whole(above=0),
    "max_ratio": _number(above=1),
    "ratio_applies_above_bytes": _whole(0),
    "max_sheet_cells": _whole(above=0),
    "max_text_bytes": _whole(above=0),
}
_CHECKS[Capa] = {
    "due_working_days": _whole(1, 250),
    "holidays_country": _matching(_COUNTRY),
    "extra_holidays": _list(_day),
    "makeup_workdays": _list(_day),
}
_CHECKS[Survey] = {
    "form_number": _text,
    "revision": _text,
    "company": _model(Labels),
    "reply_days": _whole(1, 365),
}
_CHECKS[Comments] = {"keywords": _mapping(_key, _texts)}
_CHECKS[Rules] = {
    "version": _one,
    "levels": _mapping(_key, _model(Level)),
    "items": _mapping(_key, _model(Item)),
    "departments": _mapping(_key, _model(Labels)),
    "overall_department": _key,
    "grades": _mapping(_matching(_GRADE), _number()),
    "flags": _model(Flags),
    "missing_items": _choice(MissingItems),
    "min_answered_weight": _number(0, 100),
    "cadence": _choice(Cadence),
    "scales": _mapping(_key, _model(Scale)),
    "scale": _optional(_key),
    "dates": _model(Dates),
    "headers": _model(Headers),
    "marks": _model(Marks),
    "limits": _model(Limits),
    "capa": _model(Capa),
    "survey": _model(Survey),
    "comments": _model(Comments),
    "site": _site_name,
}
_RULES = _model(Rules)


def fast_rules(data: Any) -> Rules | None:
    """The rules `data` holds when every value is already of its type and within its bounds
    and no cross-field rule is broken, else None (pydantic's models then coerce or explain).
    Must stay equal to csat.config_schema's result wherever it answers."""
    try:
        rules = _RULES(data)
    except _Refused:
        return None
    assert isinstance(rules, Rules)
    return None if _rule_problems(rules) else rules


def _validate(data: Any, shown: str, marks: Marks_) -> Rules:
    """Rules from parsed YAML: the fast path, else pydantic's models (their messages, located
    by `marks`)."""
    rules = fast_rules(data)
    if rules is not None:
        return rules
    from pydantic import ValidationError

    from csat import config_schema

    try:
        model = config_schema.Rules.model_validate(data)
    except ValidationError as exc:
        found = [(tuple(e["loc"]), _message(e)) for e in exc.errors()]
        raise ConfigError([_locate(shown, marks, loc, msg) for loc, msg in found]) from None
    except RulesInvalid as exc:
        raise ConfigError([_locate(shown, marks, loc, msg) for loc, msg in exc.problems]) from None
    light = config_schema.light(model)
    assert isinstance(light, Rules)
    return light


def _rule_problems(r: Rules) -> list[tuple[tuple[str | int, ...], str]]:
    """Every cross-field rule of SPEC §2 that `r` breaks, with the path of the field (`r` a
    Rules, or csat.config_schema's model of it: the same attributes)."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    numbers = sorted(lv.number for lv in r.levels.values())
    if numbers != list(range(1, len(numbers) + 1)):
        out.append((("levels",), f"level numbers must be 1..{len(numbers)} once each: {numbers}"))
    best_first = sorted(r.levels, key=lambda k: -r.levels[k].number)
    total_weight = sum(it.weight for it in r.items.values())
    if abs(total_weight - 100) > 1e-9:
        out.append((("items",), f"weights must sum to 100, they sum to {total_weight:g}"))
    for key, it in r.items.items():
        missing = [lv for lv in r.levels if lv not in it.points]
        unknown = [lv for lv in it.points if lv not in r.levels]
        if missing:
            out.append((("items", key, "points"), f"no points for level(s) {', '.join(missing)}"))
        for lv in unknown:
            out.append((("items", key, "points", lv), f"unknown level '{lv}'"))
        for lv, pts in it.points.items():
            if not 0 <= pts <= it.weight:
                out.append(
                    (("items", key, "points", lv), f"{pts:g} is outside 0..weight ({it.weight:g})")
                )
        top = best_first[0] if best_first else None
        if top in it.points and it.points[top] != it.weight:
            out.append(
                (
                    ("items", key, "points", top),
                    f"the top level must score the full weight {it.weight:g}, "
                    f"not {it.points[top]:g}",
                )
            )
        present = [lv for lv in best_first if lv in it.points]
        for better, worse in zip(present, present[1:], strict=False):
            if it.points[worse] > it.points[better]:
                out.append(
                    (
                        ("items", key, "points", worse),
                        f"{worse} ({it.points[worse]:g}) scores more than "
                        f"{better} ({it.points[better]:g})",
                    )
                )
        if it.department not in r.departments:
            out.append((("items", key, "department"), f"unknown department '{it.department}'"))
    if r.overall_department not in r.departments:
        out.append((("overall_department",), f"unknown department '{r.overall_department}'"))
    bounds = list(r.grades.values())
    if not bounds or any(a <= b for a, b in zip(bounds, bounds[1:], strict=False)):
        out.append((("grades",), "grade bands must descend strictly, best grade first"))
    elif bounds[-1] != 0 or bounds[0] > 100:
        out.append((("grades",), "grade bands must cover 0-100: the last lower bound must be 0"))
    for i, lv in enumerate(r.flags.flag_levels):
        if lv not in r.levels:
            out.append((("flags", "flag_levels", i), f"unknown level '{lv}'"))
    for key, sc in r.scales.items():
        seen: dict[str, str] = {}
        for lv, words in sc.words.items():
            if lv not in r.levels:
                out.append((("scales", key, "words", lv), f"unknown level '{lv}'"))
            for i, w in enumerate(words):
                owner = seen.setdefault(normalize(w), lv)
                if owner != lv:
                    out.append(
                        (("scales", key, "words", lv, i), f"word '{w}' also stands for {owner}")
                    )
        if sc.numbers is PlainNumbers.position and len(sc.words) != len(r.levels):
            out.append((("scales", key, "words"), "a position scale lists a word for every level"))
    if not r.scales:
        out.append((("scales",), "at least one scale is needed"))
    if r.scale is not None and r.scale not in r.scales:
        out.append((("scale",), f"unknown scale '{r.scale}': one of {', '.join(r.scales)}"))
    out += _alias_clashes(r)
    for key in r.comments.keywords:
        if key not in r.items:
            out.append((("comments", "keywords", key), f"unknown item '{key}'"))
    return out


def _alias_clashes(r: Rules) -> list[tuple[tuple[str | int, ...], str]]:
    out: list[tuple[tuple[str | int, ...], str]] = []
    groups: list[tuple[str, Mapping[str, list[str]], Any]] = [
        ("items", {k: v.aliases for k, v in r.items.items()}, normalize_label),
        ("headers", _header_aliases(r.headers), normalize_label),
    ]
    seen_labels: dict[str, tuple[str, str]] = {}
    for section, aliases_by_key, norm in groups:
        seen: dict[str, str] = {}
        for key, aliases in aliases_by_key.items():
            for i, alias in enumerate(aliases):
                n = norm(alias)
                owner = seen.setdefault(n, key)
                if owner != key:
                    out.append(
                        (
                            (section, key, "aliases", i)
                            if section != "headers"
                            else (section, key, i),
                            f"alias '{alias}' also belongs to {owner}",
                        )
                    )
                other = seen_labels.setdefault(normalize_label(alias), (section, key))
                if other[0] != section:
                    out.append(
                        (
                            (section, key, "aliases", i)
                            if section != "headers"
                            else (section, key, i),
                            f"alias '{alias}' also belongs to {other[0]}.{other[1]}",
                        )
                    )
    return out


# ---------------------------------------------------------------------------------------------
# Loading: YAML with line marks, then the lookup order of SPEC §7.


@dataclass(frozen=True)
class LoadedRules:
    """Rules plus where they came from and the hash that reports state."""

    rules: Rules
    path: Path
    text: str

    @property
    def sha256(self) -> str:
        import hashlib  # only for what names the rules: a dry run's --json does not

        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def packaged_data_dir() -> Path:
    """Folder holding the shipped config/ and templates/ (inside the wheel, or the repo root)."""
    from importlib import resources

    inside = Path(str(resources.files("csat"))) / "_data"
    if (inside / "config").is_dir():
        return inside
    return Path(__file__).resolve().parent.parent


def find_config(explicit: Path | None, cwd: Path | None = None) -> Path:
    """Lookup order: --config, then $CSAT_CONFIG, then ./config/weights.yaml, then packaged."""
    return _named_config(explicit, cwd) or packaged_data_dir() / "config" / "weights.yaml"


def uses_packaged_defaults(explicit: Path | None, cwd: Path | None = None) -> bool:
    """True when no rules file is named anywhere, so find_config falls back to the packaged
    one (in a checkout, the repo's config/weights.yaml is that file, but naming it is not)."""
    return _named_config(explicit, cwd) is None


def _named_config(explicit: Path | None, cwd: Path | None) -> Path | None:
    if explicit is not None:
        return explicit
    env = os.environ.get("CSAT_CONFIG")
    if env:
        return Path(env)
    local = (cwd or Path()) / "config" / "weights.yaml"
    return local if local.is_file() else None


def load_rules(path: Path) -> LoadedRules:
    """Read and validate a rules file; raise ConfigError listing every problem."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [ConfigProblem(shown, None, None, "", f"cannot read: {exc.strerror}")]
        ) from None
    except UnicodeDecodeError:
        raise ConfigError([ConfigProblem(shown, None, None, "", "not UTF-8 text")]) from None
    return LoadedRules(parse_rules(text, shown), path, text)


def parse_rules(text: str, shown: str) -> Rules:
    """Validate rules given as YAML text; `shown` names it in errors (a path, or the period
    whose stored rules these are)."""
    data, marks, problems = _parse_yaml(text, shown)
    if problems:
        raise ConfigError(problems)
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem(shown, 1, 1, "", "expected a mapping of settings")])
    return _validate(data, shown, marks)


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key (check the spelling; see weights.schema.json)"
    if error["type"] == "missing":
        return "required key is missing"
    return str(error["msg"])


Marks_ = dict[tuple[str | int, ...], tuple[int, int]]


def _locate(file: str, marks: Marks_, loc: tuple[str | int, ...], msg: str) -> ConfigProblem:
    path = loc
    while path and path not in marks:
        path = path[:-1]
    line, col = marks.get(path, (None, None)) if path else (None, None)
    return ConfigProblem(file, line, col, ".".join(map(str, loc)), msg)


MAX_YAML_DEPTH = 32  # the rules nest 4 deep; anything deeper is not a weights.yaml


def _parse_yaml(text: str, shown: str) -> tuple[Any, Marks_, list[ConfigProblem]]:
    """Compose YAML with the safe loader, keeping each key's line/column; duplicate keys are
    errors rather than silently last-wins. Hostile YAML is refused before a document is built:
    aliases (a billion-laughs file expands a few lines into gigabytes; a recursive alias never
    ends), nesting deeper than MAX_YAML_DEPTH, keys that are not plain text, numbers too long to
    be numbers."""

    def problem(mark: Any, field: str, message: str) -> ConfigProblem:
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        return ConfigProblem(shown, line, col, field, message)

    try:
        return _compose(text, _FAST_LOADER, problem)
    except yaml.YAMLError:  # only from libyaml: see _compose
        return _compose(text, yaml.SafeLoader, problem)


# libyaml's parser when PyYAML was built with it: ~2 ms on weights.yaml against ~26 ms in pure
# Python, which every command paid at start (issue 12). Same safe resolver and constructor.
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(
    text: str, loader: Any, problem: Callable[[Any, str, str], ConfigProblem]
) -> tuple[Any, Marks_, list[ConfigProblem]]:
    """_parse_yaml with one parser. libyaml refuses the documents PyYAML's own parser does,
    but words the errors differently: on an error, libyaml's is raised, and the caller asks
    the pure-Python parser, whose message (with its line and column) is the one reported."""
    try:
        depth = 0
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.AliasEvent):
                return None, {}, [problem(event.start_mark, "", _NO_ALIASES)]
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    message = f"nested more than {MAX_YAML_DEPTH} levels deep"
                    return None, {}, [problem(event.start_mark, "", message)]
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        root = yaml.compose(text, Loader=loader)
    except yaml.YAMLError as exc:
        if loader is not yaml.SafeLoader:
            raise
        detail = getattr(exc, "problem", None) or str(exc)
        mark = getattr(exc, "problem_mark", None)
        return None, {}, [problem(mark, "", f"not valid YAML: {detail}")]
    marks: Marks_ = {}
    problems: list[ConfigProblem] = []

    def build(node: yaml.Node | None, path: tuple[str | int, ...]) -> Any:
        if node is None:
            return None
        marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.CollectionNode) and node.tag not in _PLAIN_COLLECTIONS:
            field = ".".join(map(str, path))
            problems.append(problem(node.start_mark, field, _tag_refused(node.tag)))
            return None
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            field = ".".join(map(str, path))
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    message = "a key must be plain text, not a list or mapping"
                    problems.append(problem(key_node.start_mark, field, message))
                    continue
                key = key_node.value
                if key in out:
                    problems.append(
                        problem(
                            key_node.start_mark, ".".join(map(str, (*path, key))), "duplicate key"
                        )
                    )
                marks[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                out[key] = build(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [build(child, (*path, i)) for i, child in enumerate(node.value)]
        try:
            return _scalar(node, constructor)
        except ValueError:  # e.g. an int of more digits than Python converts (4300)
            field = ".".join(map(str, path))
            problems.append(problem(node.start_mark, field, "number too long to be a number"))
            return None
        except yaml.constructor.ConstructorError:  # !!python/name:…, !custom: never built
            field = ".".join(map(str, path))
            problems.append(problem(node.start_mark, field, _tag_refused(node.tag)))
            return None

    constructor = yaml.SafeLoader("")  # one for the file's scalars (was one per scalar)
    try:
        data = build(root, ())
    finally:
        constructor.dispose()
    return data, marks, problems


_NO_ALIASES = (
    "aliases (*name) are not allowed in weights.yaml: write the value out in full "
    "(an alias can make a short file expand without end)"
)


_PLAIN_COLLECTIONS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


def _tag_refused(tag: str) -> str:
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    return f"the tag {shown} is not allowed in weights.yaml: write the plain value"


_STR_TAG = "tag:yaml.org,2002:str"


def _scalar(node: yaml.Node, loader: yaml.SafeLoader) -> Any:
    """Construct one scalar the way the safe loader would (ints, floats, bools, strings). A
    string is the node's text (what SafeConstructor.construct_yaml_str returns): most of a
    weights.yaml, so it is taken without the constructor's dispatch."""
    if node.tag == _STR_TAG:
        return node.value
    return loader.construct_object(node, deep=True)


def json_schema() -> dict[str, Any]:
    """JSON Schema of weights.yaml, for editor completion and checking."""
    from csat.config_schema import Rules as RulesModel

    schema = RulesModel.model_json_schema()
    schema["title"] = "csat scoring rules (config/weights.yaml)"
    return schema
