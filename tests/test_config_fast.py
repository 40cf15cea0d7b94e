"""The rules' fast path (issue 12): csat.config validates a file without pydantic when every
value is already of its type, and must then give exactly the rules that csat.config_schema's
pydantic models give; anything else goes to those models, so the messages are theirs."""

from __future__ import annotations

import copy
import dataclasses
import math
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from csat import config, config_schema
from csat.config import fast_rules, load_rules
from csat.errors import RulesInvalid

DEFAULT = ROOT / "config" / "weights.yaml"
CLASSES = [
    "Labels",
    "Level",
    "Scale",
    "Item",
    "Flags",
    "Headers",
    "Marks",
    "Dates",
    "Limits",
    "Capa",
    "Survey",
    "Comments",
    "Rules",
]


def _data() -> Any:
    text = DEFAULT.read_text(encoding="utf-8")
    data, _, problems = config._parse_yaml(text, str(DEFAULT))
    assert not problems
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.value if isinstance(value, StrEnum) else value


DATA = _data()
# Every setting written out (weights.yaml leaves some at their defaults), as YAML would give it.
FULL = _plain(load_rules(DEFAULT).rules.model_dump())


def _exact(value: Any) -> Any:
    """A dump in which 25 and 25.0, a str and an enum member, differ."""
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    return (type(value).__name__, value)


def _pydantic(data: Any) -> config.Rules | None:
    try:
        model = config_schema.Rules.model_validate(data)
    except (ValidationError, RulesInvalid):
        return None
    light = config_schema.light(model)
    assert isinstance(light, config.Rules)
    return light


@pytest.mark.parametrize("name", CLASSES)
def test_each_class_has_its_models_fields_and_defaults(name: str) -> None:
    light, model = getattr(config, name), getattr(config_schema, name)
    ours = dataclasses.fields(light)
    assert [f.name for f in ours] == list(model.model_fields)
    for f in ours:
        info = model.model_fields[f.name]
        assert (f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING) == (
            info.is_required()
        ), f.name
        if info.is_required():
            continue
        default = f.default_factory() if f.default is dataclasses.MISSING else f.default
        theirs = config_schema.light(info.get_default(call_default_factory=True))
        assert _exact(config._dump(default, False)) == _exact(config._dump(theirs, False)), f.name


def test_the_shipped_rules_take_the_fast_path_and_equal_pydantics() -> None:
    fast = fast_rules(copy.deepcopy(DATA))
    assert fast is not None
    assert load_rules(DEFAULT).rules == fast
    slow = _pydantic(copy.deepcopy(DATA))
    assert slow is not None
    assert _exact(fast.model_dump()) == _exact(slow.model_dump())


def test_omitted_settings_get_the_models_defaults() -> None:
    keep = {k: DATA[k] for k in ("version", "levels", "items", "departments", "grades")}
    keep |= {k: DATA[k] for k in ("scales", "headers", "marks")}
    fast, slow = fast_rules(copy.deepcopy(keep)), _pydantic(copy.deepcopy(keep))
    assert fast is not None and slow is not None
    assert _exact(fast.model_dump()) == _exact(slow.model_dump())


def _firsts(path: tuple[Any, ...]) -> tuple[Any, ...]:
    """The first key of the mapping or list at `path` of FULL."""
    node: Any = FULL
    for step in path:
        node = node[step]
    if isinstance(node, dict) and node:
        return (next(iter(node)),)
    return (0,) if isinstance(node, list) else ()


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*path, i))
    return found


PATHS = _paths(FULL)[1:]

BOUNDS = [
    *(-1, 0, 1, 2, 5, 6, 49, 50, 51, 100, 101, 249, 250, 251, 365, 366, 2**53 + 1, 10**400),
    *(-1.0, -0.0, 0.0, 0.5, 1.0, 1.5, 25.0, 99.9, 100.0, 100.1, math.inf, -math.inf, math.nan),
    *(True, False, None, "", "1", "25", "2.5", "yes", "true", "quality", "Quality", "q-1", "A"),
    *("AB", "CN", "cn", "level", "position", "zero", "quarter", "day_first", "2024-06-01"),
    *(" site", "site\t", "x" * 41, "\ud800", "东莞厂", date(2024, 6, 1), datetime(2024, 6, 1)),
    *(datetime(2024, 6, 1, 10, 30), [], ["a"], [1], {}, {"zh": "甲", "en": "A"}),
]
# One path of each kind: the first level, item, word, alias... stands for the others.
MAPPINGS = {
    ("levels",),
    ("items",),
    ("departments",),
    ("grades",),
    ("scales",),
    ("scales", "*", "words"),
    ("items", "*", "points"),
    ("comments", "keywords"),
}


def _mapping(path: tuple[Any, ...]) -> bool:
    return any(
        len(m) == len(path) and all(a in ("*", b) for a, b in zip(m, path, strict=True))
        for m in MAPPINGS
    )


def _kind(path: tuple[Any, ...]) -> bool:
    for i, step in enumerate(path):
        if isinstance(step, int) and step != 0:
            return False
        if _mapping(path[:i]) and (step,) != _firsts(path[:i]):
            return False
    return True


KINDS = [p for p in PATHS if _kind(p)] + [()]

# Values near each field's type and bounds: what a person might type, and what pydantic coerces.
VALUES = st.one_of(
    st.integers(-3, 300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=6),
    st.dates(min_value=date(1980, 1, 1), max_value=date(2030, 1, 1)),
    st.lists(st.sampled_from(["a", "b", 1]), max_size=2),
    st.sampled_from(BOUNDS),
)


def _agree(data: Any) -> None:
    fast = fast_rules(copy.deepcopy(data))
    slow = _pydantic(copy.deepcopy(data))
    if slow is None:
        assert fast is None  # pydantic refuses it: so must the fast path, which then defers
    elif fast is not None:
        assert _exact(fast.model_dump()) == _exact(slow.model_dump())


@pytest.mark.parametrize("path", KINDS, ids=lambda p: ".".join(map(str, p)) or "top")
def test_every_setting_at_its_bounds_is_taken_only_as_pydantic_takes_it(
    path: tuple[Any, ...],
) -> None:
    parent: Any = FULL
    for step in path[:-1]:
        parent = parent[step]
    for value in BOUNDS:
        if path:
            edited = copy.deepcopy(FULL)
            node = edited
            for step in path[:-1]:
                node = node[step]
            node[path[-1]] = value
            _agree(edited)
    node = FULL
    for step in path:
        node = node[step]
    if isinstance(node, list):  # one more element, of each kind
        for value in BOUNDS:
            _agree(_edit(path, lambda seq, value=value: seq.append(value)))
    if isinstance(node, dict):  # an unknown key, each key left out
        _agree(_edit(path, lambda d: d.__setitem__("colour", 1)))
        for key in node:
            _agree(_edit(path, lambda d, key=key: d.__delitem__(key)))
    if isinstance(parent, dict) and path:  # a key of its mapping that is not a key
        for bad in ("Quality", "1a", "a-b", "AB", ""):
            _agree(_edit(path[:-1], lambda d, bad=bad, k=path[-1]: d.__setitem__(bad, d[k])))


def _edit(path: tuple[Any, ...], change: Any) -> Any:
    edited = copy.deepcopy(FULL)
    node = edited
    for step in path:
        node = node[step]
    change(node)
    return edited


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(PATHS), st.sampled_from(["set", "drop", "extra"]), VALUES),
        min_size=1,
        max_size=3,
    )
)
def test_the_fast_path_answers_only_as_pydantic_would(edits: list[Any]) -> None:
    data = copy.deepcopy(FULL)
    for path, how, value in edits:
        parent: Any = data
        try:
            for step in path[:-1]:
                parent = parent[step]
            if how == "set":
                parent[path[-1]] = value
            elif how == "drop":
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent["colour"] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit took this path away
    _agree(data)


def test_a_value_pydantic_coerces_is_still_taken_through_pydantic(tmp_path: Path) -> None:
    text = DEFAULT.read_text(encoding="utf-8")
    assert "  low_score_below: 70\n" in text
    path = tmp_path / "weights.yaml"
    path.write_text(text.replace("  low_score_below: 70\n", '  low_score_below: "69.5"\n'))
    data, _, _ = config._parse_yaml(path.read_text(encoding="utf-8"), str(path))
    assert fast_rules(data) is None
    assert load_rules(path).rules.flags.low_score_below == 69.5
