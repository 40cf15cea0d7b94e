"""The scoring rules file: defaults of SPEC §2, every validation rule, errors with file:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT

from csat.config import find_config, json_schema, load_rules, packaged_data_dir
from csat.errors import ConfigError

DEFAULT = ROOT / "config" / "weights.yaml"


def test_defaults_are_the_specs_table() -> None:
    rules = load_rules(DEFAULT).rules
    assert {k: it.weight for k, it in rules.items.items()} == {
        "quality": 25,
        "rohs": 20,
        "service": 20,
        "improvement": 15,
        "packaging": 10,
        "delivery_date": 5,
        "delivery_quantity": 5,
    }
    assert [it.points["neutral"] for it in rules.items.values()] == [16, 16, 16, 11, 8, 3, 3]
    assert [sum(it.points[lv] for it in rules.items.values()) for lv in rules.levels] == [
        100,
        86,
        73,
        50,
        24,
    ]
    assert rules.grades == {"A": 95, "B": 81, "C": 61, "D": 40, "E": 0}
    assert rules.departments[rules.overall_department].zh == "业务部"
    assert (rules.flags.low_score_below, rules.min_answered_weight) == (70, 60)
    assert DEFAULT.read_text(encoding="utf-8").startswith(
        "# yaml-language-server: $schema=weights.schema.json"
    )


def edited(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    text = DEFAULT.read_text(encoding="utf-8")
    assert text.count(old) >= count, old
    path = tmp_path / "weights.yaml"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    return next(
        i for i, ln in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in ln
    )


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_rules(path)
    return [str(p) for p in info.value.problems]


def test_weights_must_sum_to_100_and_points_within_weight(tmp_path: Path) -> None:
    path = edited(tmp_path, "weight: 25\n", "weight: 30\n")
    got = problems(path)
    assert any("weights must sum to 100, they sum to 105" in p for p in got)
    assert any("items.quality.points.very_satisfied" in p and "full weight 30" in p for p in got)


def test_every_structural_error_at_once_with_line_numbers(tmp_path: Path) -> None:
    path = edited(tmp_path, "  low_score_below: 70", "  low_score_below: lots\n  colour: red")
    got = problems(path)
    line = line_of(path, "low_score_below: lots")
    assert f"{path}:{line}:" in got[0] and "flags.low_score_below" in got[0]
    assert any(f"{path}:{line + 1}:" in p and "flags.colour: unknown key" in p for p in got)
    assert len(got) == 2


def test_points_rules(tmp_path: Path) -> None:
    path = edited(
        tmp_path,
        "satisfied: 18, neutral: 16, dissatisfied: 10, very_dissatisfied: 4",
        "satisfied: 18, neutral: 19, dissatisfied: 10",
    )
    got = problems(path)
    line = line_of(path, "neutral: 19")
    assert any(
        f":{line}:" in p and "items.rohs.points:" in p and "very_dissatisfied" in p for p in got
    )
    assert any("neutral (19) scores more than satisfied (18)" in p for p in got)


def test_alias_clash_and_grade_bands_and_unknown_flag_level(tmp_path: Path) -> None:
    path = edited(
        tmp_path, "dissatisfied: [不满意, 不滿意, Dissatisfied]", "dissatisfied: [不满意, 一般]"
    )
    path.write_text(
        path.read_text(encoding="utf-8")
        .replace(
            "grades: {A: 95, B: 81, C: 61, D: 40, E: 0}",
            "grades: {A: 95, B: 81, C: 85, D: 40, E: 0}",
        )
        .replace(
            "flag_levels: [dissatisfied, very_dissatisfied]", "flag_levels: [dissatisfied, awful]"
        ),
        encoding="utf-8",
    )
    got = "\n".join(problems(path))
    assert "scales.csat.words.dissatisfied.1: word '一般' also stands for neutral" in got
    assert "grade bands must descend" in got
    assert "flags.flag_levels.1: unknown level 'awful'" in got


def test_duplicate_keys_and_bad_yaml(tmp_path: Path) -> None:
    path = edited(tmp_path, "cadence: half_year", "cadence: half_year\ncadence: quarter")
    assert any("cadence: duplicate key" in p for p in problems(path))
    path.write_text("levels: [unclosed\n", encoding="utf-8")
    [p] = problems(path)
    assert "not valid YAML" in p and f"{path}:2:" in p


def test_schema_shipped_is_the_models_schema() -> None:
    shipped = json.loads((ROOT / "config" / "weights.schema.json").read_text(encoding="utf-8"))
    assert shipped == json_schema(), "run: csat config schema > config/weights.schema.json"


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = tmp_path / "x.yaml"
    assert find_config(explicit, cwd=tmp_path) == explicit
    assert find_config(None, cwd=tmp_path) == packaged_data_dir() / "config" / "weights.yaml"
    local = tmp_path / "config" / "weights.yaml"
    local.parent.mkdir()
    local.write_text("version: 1\n")
    assert find_config(None, cwd=tmp_path) == local
    monkeypatch.setenv("CSAT_CONFIG", str(explicit))
    assert find_config(None, cwd=tmp_path) == explicit
