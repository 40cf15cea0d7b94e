"""Issue 10.12: hostile weights.yaml files (billion laughs, recursive aliases, complex keys,
huge numbers, deep nesting) are config errors found quickly, never a hang, a memory blow-up or
"this is a bug". Each runs the real CLI in a process with a memory limit and a deadline."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9)
)
BOMBS = {
    "billion_laughs": (LAUGHS, "alias"),
    "recursive_alias": ("levels: &x\n  - *x\n", "alias"),
    "complex_key": ("? [a, b]\n: 1\n", "key"),
    "mapping_key": ("{a: 1}: 2\n", "key"),
    "huge_number": ("version: " + "9" * 5000 + "\n", "number"),
    "deep_nesting": ("x: " + "[" * 5000 + "]" * 5000 + "\n", "nested"),
    "python_tag": ("version: !!python/object/apply:os.system [ls]\n", "the tag"),
    "python_scalar_tag": ("version: !!python/name:os.system\n", "the tag"),
    "unknown_tag": ("levels: !custom {a: 1}\n", "the tag"),
}


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_yaml_bomb_is_a_config_error(name: str, tmp_path: Path) -> None:
    text, word = BOMBS[name]
    bomb = tmp_path / f"{name}.yaml"
    bomb.write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "csat", "config", "check", "--config", str(bomb)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "scoring rules are not valid" in proc.stderr
    assert word in proc.stderr
    assert "bug" not in proc.stderr and "Traceback" not in proc.stderr


def test_shipped_rules_still_load() -> None:
    from csat.config import load_rules

    assert load_rules(ROOT / "config" / "weights.yaml").rules.items
