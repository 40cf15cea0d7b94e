"""Properties of the scale choice (SPEC §3 *Scales*): it depends on the set of words on the
sheet, never on the order of the rows; and a pinned scale always wins over the words."""

from __future__ import annotations

import re
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from formats_builders import (
    CSAT,
    EN_QUALITY,
    EN_QUALITY_OTHER,
    EN_SATISFACTION,
    ITEMS_ZH,
    LEVELS,
    PLATFORM,
    PROCEDURE,
    VARIANT,
    levels,
    rules_with,
    save,
    scale_name,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csat import parse_period, score_files
from csat.config import Rules

H1 = parse_period("2024H1")
SCALES = [CSAT, PROCEDURE, PLATFORM, VARIANT, EN_SATISFACTION, EN_QUALITY, EN_QUALITY_OTHER]
PINNABLE = [CSAT, PLATFORM, VARIANT, EN_QUALITY, EN_QUALITY_OTHER]
SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def sheets(draw: st.DrawFn) -> tuple[list[list[Any]], list[int]]:
    """Rows of one sheet whose words come from one or two scales (so some sheets are
    ambiguous), with plain numbers mixed in, and a permutation of those rows."""
    first, second = draw(st.sampled_from(SCALES)), draw(st.sampled_from(SCALES))
    pool = [*sorted(set(first) | set(second)), 1, 2, 3, 4, 5]
    n = draw(st.integers(min_value=1, max_value=6))
    rows = [
        [f"客户{i}", *draw(st.lists(st.sampled_from(pool), min_size=7, max_size=7))]
        for i in range(n)
    ]
    return rows, draw(st.permutations(range(n)))


def _outcome(rules: Rules, rows: list[list[Any]]) -> dict[str, Any]:
    """Per customer: its levels and total, or how many rejections name its row."""
    with tempfile.TemporaryDirectory() as tmp:
        path = save(Path(tmp) / "p.xlsx", {"Sheet1": [["客户名称", *ITEMS_ZH], *rows]})
        run = score_files([str(path)], rules, H1)
    got: dict[str, Any] = {s.response.customer: (levels(s), s.total) for s in run.scored}
    for rej in run.rejected:
        m = re.search(r"\d+", rej.cell or "")
        who = str(rows[int(m.group()) - 2][0]) if m else "(sheet)"
        got[who] = got.get(who, 0) + 1
    return got


@SETTINGS
@given(sheets())
def test_scale_choice_is_independent_of_row_order(
    rules: Rules, sheet: tuple[list[list[Any]], list[int]]
) -> None:
    rows, order = sheet
    assert _outcome(rules, rows) == _outcome(rules, [rows[i] for i in order])


@cache
def _pinned(words: tuple[str, ...]) -> Rules:
    return rules_with(Path(tempfile.mkdtemp()), scale=scale_name(list(words)))


@st.composite
def pinned_sheets(draw: st.DrawFn) -> tuple[list[str], list[list[Any]]]:
    words = draw(st.sampled_from(PINNABLE))
    pool: list[Any] = [*words, 1, 2, 3, 4, 5]
    n = draw(st.integers(min_value=1, max_value=5))
    rows = [
        [f"客户{i}", *draw(st.lists(st.sampled_from(pool), min_size=7, max_size=7))]
        for i in range(n)
    ]
    return words, rows


@SETTINGS
@given(pinned_sheets())
def test_a_pinned_scale_always_wins(sheet: tuple[list[str], list[list[Any]]]) -> None:
    """Whatever the words would choose (or leave ambiguous), the pinned scale reads them."""
    words, rows = sheet
    rules = _pinned(tuple(words))
    with tempfile.TemporaryDirectory() as tmp:
        path = save(Path(tmp) / "p.xlsx", {"Sheet1": [["客户名称", *ITEMS_ZH], *rows]})
        run = score_files([str(path)], rules, H1)
    assert run.rejected == []
    for scored, row in zip(run.scored, rows, strict=True):
        expected = [
            LEVELS[5 - v] if isinstance(v, int) else LEVELS[words.index(v)] for v in row[1:]
        ]
        assert levels(scored) == expected
