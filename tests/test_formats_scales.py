"""FORMATS.md §5 and SPEC §3 *Scales*: the same word means different levels on different
scales; the sheet's own words choose the scale; ambiguity is refused with both readings and how
to pin; `--scale` / `scale:` pin; values with their own number; other ranges refused.

Points (very_satisfied / satisfied / neutral / dissatisfied / very_dissatisfied):
quality 25/20/16/10/5, rohs 20/18/16/10/4, service 20/18/16/12/6, improvement 15/13/11/8/4,
packaging 10/9/8/6/3, delivery_date 5/4/3/2/1, delivery_quantity 5/4/3/2/1.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from formats_builders import (
    CSAT,
    CSAT_HANT,
    EN_QUALITY,
    EN_QUALITY_OTHER,
    EN_SATISFACTION,
    ITEMS_EN,
    ITEMS_ZH,
    PLATFORM,
    PLATFORM_HANT,
    PROCEDURE,
    VARIANT,
    by_customer,
    cli_json,
    levels,
    names_scale,
    notices,
    rules_with,
    runner,
    save,
    scale_name,
)

from csat import parse_period, score_files
from csat.cli import app
from csat.config import Rules

H1 = parse_period("2024H1")
VS, S, N, D, VD = "very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied"
HEADER_ZH = ["客户名称", *ITEMS_ZH]
HEADER_EN = ["Customer", *ITEMS_EN]


def _table(tmp_path: Path, rows: list[list[Any]], header: list[str] = HEADER_ZH) -> Path:
    return save(tmp_path / "scales.xlsx", {"Sheet1": [header, *rows]})


# ------------------------------------------------------------------------ 满意: which level?


def test_manyi_beside_yiban_is_the_second_best(rules: Rules, tmp_path: Path) -> None:
    """满意 beside 一般: the platforms' default scale, 满意 is level 4 (`satisfied`)."""
    path = _table(
        tmp_path, [["甲公司", "满意", "满意", "一般", "满意", "非常满意", "满意", "满意"]]
    )
    run = score_files([str(path)], rules, H1)
    [got] = run.scored
    assert levels(got) == [S, S, N, S, VS, S, S]
    # 20 + 18 + 16 + 13 + 10 + 4 + 4 = 85 -> B
    assert (got.total, got.grade) == (85.0, "B")
    assert any(names_scale(m.message, scale_name(PLATFORM)) for m in notices(run, "Sheet1"))


def test_manyi_beside_jiaomanyi_is_the_middle(rules: Rules, tmp_path: Path) -> None:
    """满意 beside 较满意: the procedure's points table, 满意 is the middle level."""
    row = ["甲公司", "较满意", "满意", "满意", "较满意", "非常满意", "较满意", "满意"]
    [got] = score_files([str(_table(tmp_path, [row]))], rules, H1).scored
    assert levels(got) == [S, N, N, S, VS, S, N]
    # 20 + 16 + 16 + 13 + 10 + 4 + 3 = 82 -> B
    assert (got.total, got.grade) == (82.0, "B")


def test_scale_is_chosen_per_sheet(rules: Rules, tmp_path: Path) -> None:
    """The same word on two sheets of one workbook: each sheet's own words decide."""
    platform = [HEADER_ZH, ["甲公司", *["满意"] * 6, "一般"]]
    procedure = [HEADER_ZH, ["乙公司", *["满意"] * 6, "较满意"]]
    path = save(tmp_path / "two.xlsx", {"平台": platform, "程序": procedure})
    got = by_customer(score_files([str(path)], rules, H1))
    # 平台: 满意 = satisfied: 20 + 18 + 18 + 13 + 9 + 4, then 一般 3 -> 85
    assert (levels(got["甲公司"])[0], got["甲公司"].total) == (S, 85.0)
    # 程序: 满意 = neutral: 16 + 16 + 16 + 11 + 8 + 3, then 较满意 4 -> 74
    assert (levels(got["乙公司"])[0], got["乙公司"].total) == (N, 74.0)


# ------------------------------------------------------------------------ English scales


@pytest.mark.parametrize("words", [EN_QUALITY, EN_QUALITY_OTHER], ids=["Excellent", "Very-poor"])
def test_english_quality_scales(rules: Rules, tmp_path: Path, words: list[str]) -> None:
    """Excellent/Very good/Good/Fair/Poor vs Very good/Good/Average/Poor/Very poor: Good is the
    middle on one and second best on the other; each sheet is read on its own words."""
    w5, w4, w3, w2, w1 = words
    rows = [["ACME Ltd.", w5, w4, w3, w2, w1, w3, w4], ["Nordlicht GmbH", *[w4] * 7]]
    run = score_files([str(_table(tmp_path, rows, HEADER_EN))], rules, H1)
    assert run.rejected == []
    acme, nord = run.scored
    assert levels(acme) == [VS, S, N, D, VD, N, S]
    # 25 + 18 + 16 + 8 + 3 + 3 + 4 = 77 -> C, two items flagged
    assert (acme.total, acme.grade) == (77.0, "C")
    assert [f.item for f in acme.flags if f.type == "dissatisfied_item"] == [
        "improvement",
        "packaging",
    ]
    # the second-best word everywhere: 20+18+18+13+9+4+4 = 86 (Very good on one, Good on the other)
    assert nord.total == 86.0
    assert any(names_scale(m.message, scale_name(words)) for m in notices(run, "Sheet1"))


def _good_very_good(tmp_path: Path) -> Path:
    rows = [
        ["ACME Ltd.", *["Very good"] * 4, *["Good"] * 3],
        ["Nordlicht GmbH", *["Good"] * 7],
    ]
    return _table(tmp_path, rows, HEADER_EN)


def test_only_good_and_very_good_is_refused_as_ambiguous(rules: Rules, tmp_path: Path) -> None:
    """Both English quality scales know Good and Very good and disagree: nobody can tell what
    the customer meant. Every reply using them is refused naming both readings and --scale."""
    path = _good_very_good(tmp_path)
    run = score_files([str(path)], rules, H1)
    assert run.scored == []
    quality, other = scale_name(EN_QUALITY), scale_name(EN_QUALITY_OTHER)
    # both replies refused (one rejection per ambiguous cell, as for unknown ratings)
    rows = {int(re.sub(r"\D", "", (rej.cell or "").split(":")[0]) or 0) for rej in run.rejected}
    assert rows == {2, 3}, run.rejected
    for rej in run.rejected:
        assert (rej.file, rej.sheet) == (str(path), "Sheet1")
        assert "good" in rej.reason.lower() and "--scale" in rej.reason, rej.reason
        assert quality in rej.reason and other in rej.reason, rej.reason
    # No notice may claim the sheet was read on one of the two scales.
    for note in notices(run, "Sheet1"):
        assert names_scale(note.message, quality) == names_scale(note.message, other), note


@pytest.mark.parametrize(
    ("words", "totals"),
    [
        # Good = neutral, Very good = satisfied:
        # ACME 20+18+18+13 + 8+3+3 = 83; Nordlicht 16+16+16+11+8+3+3 = 73
        (EN_QUALITY, {"ACME Ltd.": 83.0, "Nordlicht GmbH": 73.0}),
        # Good = satisfied, Very good = very_satisfied:
        # ACME 25+20+20+15 + 9+4+4 = 97; Nordlicht 20+18+18+13+9+4+4 = 86
        (EN_QUALITY_OTHER, {"ACME Ltd.": 97.0, "Nordlicht GmbH": 86.0}),
    ],
    ids=["Excellent", "Very-poor"],
)
def test_scale_option_pins_the_ambiguous_sheet(
    tmp_path: Path, words: list[str], totals: dict[str, float]
) -> None:
    path = _good_very_good(tmp_path)
    code, doc = cli_json(str(path), "--period", "2024H1", "--scale", scale_name(words))
    assert code == 0, doc["rejected"]
    assert {s["customer"]: s["total"] for s in doc["scored"]} == totals


def test_scale_in_the_yaml_pins_too(tmp_path: Path) -> None:
    pinned = rules_with(tmp_path, scale=scale_name(EN_QUALITY_OTHER))
    run = score_files([str(_good_very_good(tmp_path))], pinned, H1)
    assert {s.response.customer: s.total for s in run.scored} == {
        "ACME Ltd.": 97.0,  # 25+20+20+15 + 9+4+4
        "Nordlicht GmbH": 86.0,  # 20+18+18+13+9+4+4
    }


def test_pinned_scale_wins_over_the_words(tmp_path: Path) -> None:
    """满意 beside 一般 would be the platforms' scale; `--scale csat` says 满意 is the middle."""
    path = _table(
        tmp_path, [["甲公司", "满意", "满意", "一般", "满意", "非常满意", "满意", "满意"]]
    )
    code, doc = cli_json(str(path), "--period", "2024H1", "--scale", "csat")
    assert code == 0, doc["rejected"]
    [got] = doc["scored"]
    assert got["items"]["quality"] == {"level": N, "points": 16.0}
    # 16 + 16 + 16 + 11 + 10 + 3 + 3 = 75 -> C
    assert (got["total"], got["grade"]) == (75.0, "C")


def test_unknown_scale_name_is_a_usage_error(tmp_path: Path) -> None:
    path = _table(tmp_path, [["甲公司", *["非常满意"] * 7]])
    result = runner.invoke(app, ["score", str(path), "--scale", "nonesuch", "--dry-run"])
    assert result.exit_code == 2, result.output
    assert "nonesuch" in result.output and "csat" in result.output


def test_word_the_chosen_scale_does_not_know_is_an_unknown_rating(
    rules: Rules, tmp_path: Path
) -> None:
    """Excellent and Good choose the English quality scale; `Satisfied` is not on it."""
    rows = [
        ["ACME Ltd.", "Excellent", "Good", "Excellent", "Good", "Excellent", "Good", "Excellent"],
        ["Nordlicht GmbH", "Excellent", "Satisfied", *["Good"] * 5],
    ]
    run = score_files([str(_table(tmp_path, rows, HEADER_EN))], rules, H1)
    assert [s.response.customer for s in run.scored] == ["ACME Ltd."]
    # 25 + 16 + 20 + 11 + 10 + 3 + 5 = 90
    assert run.scored[0].total == 90.0
    [rej] = run.rejected
    assert rej.cell == "C3" and "Satisfied" in rej.reason


# ------------------------------------------------------------------------ numbers


@pytest.mark.parametrize(
    "words",
    [CSAT, PROCEDURE, PLATFORM, VARIANT, EN_SATISFACTION, EN_QUALITY, EN_QUALITY_OTHER],
    ids=["csat", "procedure", "platform", "variant", "en-satisfaction", "en-quality", "en-other"],
)
def test_plain_numbers_are_levels_on_every_scale(
    rules: Rules, tmp_path: Path, words: list[str]
) -> None:
    w5, w4, w3 = words[:3]
    rows = [["甲公司", w5, 4, w4, "3", w3, 2.0, w4]]
    [got] = score_files([str(_table(tmp_path, rows))], rules, H1).scored
    assert levels(got) == [VS, S, S, N, N, D, S]
    # 25 + 18 + 18 + 11 + 8 + 2 + 4 = 86 -> B
    assert got.total == 86.0


def test_values_with_their_own_number(rules: Rules, tmp_path: Path) -> None:
    rows = [
        ["甲公司", "4分", "5非常满意", "较满意(4分)", "★★★★☆", "5分", "3一般", "★★★★★"],
        ["乙公司", "４分", "5 非常满意", "较满意（4分）", "★★★☆☆", "2分", "1非常不满意", "5"],
    ]
    run = score_files([str(_table(tmp_path, rows))], rules, H1)
    assert run.rejected == []
    a, b = run.scored
    assert levels(a) == [S, VS, S, S, VS, N, VS]
    # 20 + 20 + 18 + 13 + 10 + 3 + 5 = 89 -> B
    assert a.total == 89.0
    assert levels(b) == [S, VS, S, N, D, VD, VS]
    # 20 + 20 + 18 + 11 + 6 + 1 + 5 = 81 -> B
    assert (b.total, b.grade) == (81.0, "B")


@pytest.mark.parametrize("value", ["5一般", "较满意(5分)", "2非常满意"])
def test_number_contradicting_its_word_is_rejected(
    rules: Rules, tmp_path: Path, value: str
) -> None:
    rows = [["甲公司", "非常满意", "较满意", value, *["较满意"] * 4], ["乙公司", *["非常满意"] * 7]]
    path = _table(tmp_path, rows)
    run = score_files([str(path)], rules, H1)
    assert [s.response.customer for s in run.scored] == ["乙公司"]
    [rej] = run.rejected
    assert (rej.file, rej.sheet, rej.cell) == (str(path), "Sheet1", "D2")
    assert value in rej.reason and "服务情况" in rej.reason, rej.reason


@pytest.mark.parametrize("note", ["(1-10分)", "（0-10分）", "(1~10)"])
def test_column_on_a_ten_point_range_is_refused_as_a_whole(
    rules: Rules, tmp_path: Path, note: str
) -> None:
    """The header note says 1-10: even cells holding 1-5 are not the five levels."""
    header = ["客户名称", f"产品质量{note}", *ITEMS_ZH[1:]]
    rows = [["甲公司", 5, *["非常满意"] * 6], ["乙公司", 3, *["非常满意"] * 6]]
    path = _table(tmp_path, rows, header)
    run = score_files([str(path)], rules, H1)
    assert run.scored == []
    assert [r.cell for r in run.rejected] == ["B2", "B3"]
    assert all("10" in r.reason and "产品质量" in r.reason for r in run.rejected), run.rejected


def test_column_with_values_above_five_is_refused_as_a_whole(rules: Rules, tmp_path: Path) -> None:
    rows = [
        ["甲公司", 8, *["非常满意"] * 6],
        ["乙公司", 3, *["非常满意"] * 6],  # 3 on a 1-10 column is not level 3
        ["丙公司", 10, *["非常满意"] * 6],
    ]
    path = _table(tmp_path, rows)
    run = score_files([str(path)], rules, H1)
    assert run.scored == []
    assert [r.cell for r in run.rejected] == ["B2", "B3", "B4"]
    assert all("产品质量" in r.reason for r in run.rejected)


def test_a_five_point_header_note_is_the_five_levels(rules: Rules, tmp_path: Path) -> None:
    header = ["客户名称", "产品质量(1-5分)", *ITEMS_ZH[1:]]
    rows = [["甲公司", 4, *["非常满意"] * 6]]
    [got] = score_files([str(_table(tmp_path, rows, header))], rules, H1).scored
    # 20 + 20 + 20 + 15 + 10 + 5 + 5 = 95 -> A
    assert (got.total, got.grade) == (95.0, "A")


@pytest.mark.parametrize(
    "words",
    [
        CSAT,
        CSAT_HANT,
        PROCEDURE,
        PLATFORM,
        PLATFORM_HANT,
        VARIANT,
        EN_SATISFACTION,
        EN_QUALITY,
        EN_QUALITY_OTHER,
    ],
    ids=[
        "csat",
        "csat-Hant",
        "procedure",
        "platform",
        "platform-Hant",
        "variant",
        "en-satisfaction",
        "en-quality",
        "en-other",
    ],
)
def test_each_scale_of_the_table_read_on_its_own_words(
    rules: Rules, tmp_path: Path, words: list[str]
) -> None:
    """FORMATS §5, row by row: a sheet using all five words of one scale, one customer per
    word, the same word on every item: each gets that level's column sum and grade."""
    rows = [[f"客户{i}", *[w] * 7] for i, w in enumerate(words)]
    run = score_files([str(_table(tmp_path, rows))], rules, H1)
    assert run.rejected == []
    # SPEC §2: columns sum to 100 / 86 / 73 / 50 / 24 -> A / B / C / D / E
    assert [(s.total, s.grade) for s in run.scored] == [
        (100.0, "A"),
        (86.0, "B"),
        (73.0, "C"),
        (50.0, "D"),
        (24.0, "E"),
    ]


@pytest.mark.parametrize(
    "column", [["80分", "4分", "90分"], ["8分", "4分", "10分"], [85, "4", 92.5]], ids=str
)
def test_values_above_five_with_a_unit_show_another_range_too(
    rules: Rules, tmp_path: Path, column: list[Any]
) -> None:
    """`80分` beside `4分` is a 100-point column: the 4分 is not level 4 either."""
    rows = [[f"客户{i}", v, *["非常满意"] * 6] for i, v in enumerate(column)]
    run = score_files([str(_table(tmp_path, rows))], rules, H1)
    assert run.scored == []
    assert [r.cell for r in run.rejected] == ["B2", "B3", "B4"]
    assert all("产品质量" in r.reason for r in run.rejected)


@pytest.mark.parametrize(
    "header",
    [
        [f"{i}（满分10分）" for i in ITEMS_ZH],
        [f"{i}(10分制)" for i in ITEMS_ZH],
        [f"Please rate us from 1 to 10 [{i}]" for i in ITEMS_EN],
    ],
    ids=["满分10分", "10分制", "from-1-to-10"],
)
def test_ten_point_header_notes_in_other_words(
    rules: Rules, tmp_path: Path, header: list[str]
) -> None:
    """`满分10分` (out of 10), `10分制` (a 10-point system), `from 1 to 10`: the same fact as
    `(1-10分)`, so the 3s, 4s and 5s under them are not the five levels."""
    rows = [["客户甲", 3, 4, 5, 4, 4, 4, 4]]
    run = score_files([str(_table(tmp_path, rows, ["客户名称", *header]))], rules, H1)
    assert run.scored == []
    assert run.rejected and all("10" in r.reason for r in run.rejected), run.rejected


def test_header_declaring_one_as_best_is_never_read_backwards(rules: Rules, tmp_path: Path) -> None:
    """`(1=非常满意,5=非常不满意)`: the header says 1 is the best. Reading 1 as level 1 would
    give this very satisfied customer 30 points and an E. Either read as the header declares
    (1 -> very satisfied, 2 -> satisfied) or refuse naming the column; never backwards."""
    header = ["客户名称", *[f"{i}(1=非常满意,5=非常不满意)" for i in ITEMS_ZH]]
    rows = [["客户甲", 1, 2, 1, 1, 1, 1, 1]]
    run = score_files([str(_table(tmp_path, rows, header))], rules, H1)
    if run.scored:
        # as declared: 25 + 18 + 20 + 15 + 10 + 5 + 5 = 98
        assert [s.total for s in run.scored] == [98.0]
    else:
        assert run.rejected and all("1=非常满意" in r.reason for r in run.rejected), run.rejected


def test_manyi_without_a_neighbour_is_ambiguous_only_where_used(
    rules: Rules, tmp_path: Path
) -> None:
    """非常满意, 满意 and 不满意 alone fit the csat and the platforms' scale equally, and 满意 is
    the middle on one and second best on the other: the reply using 满意 is refused; replies
    without it are scored; no notice claims the sheet was read on one of the two."""
    rows = [
        ["甲公司", *["非常满意"] * 7],
        ["乙公司", *["满意"] * 3, *["非常满意"] * 4],
        ["丙公司", *["非常满意"] * 6, "不满意"],
    ]
    run = score_files([str(_table(tmp_path, rows))], rules, H1)
    # 甲 100; 丙 25 + 20 + 20 + 15 + 10 + 5 + 2 = 97
    got = [(s.response.customer, s.total) for s in run.scored]
    assert got == [("甲公司", 100.0), ("丙公司", 97.0)]
    assert [r.cell for r in run.rejected] == ["B3", "C3", "D3"]
    csat, platform = "csat", scale_name(PLATFORM)
    for rej in run.rejected:
        assert "满意" in rej.reason and "--scale" in rej.reason, rej.reason
        assert names_scale(rej.reason, csat) and names_scale(rej.reason, platform), rej.reason
    for note in notices(run, "Sheet1"):
        assert names_scale(note.message, csat) == names_scale(note.message, platform), note
