"""The FORMATS fixtures through the command line (SPEC §7): the --json document with its
`notices`, exit codes that notices do not change, the human output's count of skipped rows,
and `csat inspect` explaining a platform export."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from formats_builders import (
    ITEMS_EN,
    ITEMS_ZH,
    PLATFORM,
    WJX_REPLIES,
    cli_json,
    names_scale,
    runner,
    save,
    scale_name,
    wjx_text_export,
)

from csat.cli import app


def _wjx(tmp_path: Path) -> Path:
    return save(tmp_path / "wjx.xlsx", {"Sheet1": wjx_text_export(WJX_REPLIES, matrix=True)})


def test_json_document_carries_notices(tmp_path: Path) -> None:
    path = _wjx(tmp_path)
    code, doc = cli_json(str(path))
    assert code == 0, doc["rejected"]  # notices change no exit code
    assert list(doc) == ["period", "scored", "rejected", "skipped", "notices", "summary"]
    assert doc["notices"], "the scale chosen for the sheet is a notice"
    for notice in doc["notices"]:
        assert list(notice) == ["file", "sheet", "cell", "message"]
        assert (notice["file"], notice["sheet"]) == (str(path), "Sheet1")
    assert any(names_scale(n["message"], scale_name(PLATFORM)) for n in doc["notices"])
    huaqiang = next(s for s in doc["scored"] if s["customer"] == "深圳市华强电子有限公司")
    # 25 + 18 + 18 + 11 + 10 + 4 + 2 = 88 -> B
    assert (huaqiang["total"], huaqiang["grade"], huaqiang["complete"]) == (88.0, "B", True)
    assert (huaqiang["date"], huaqiang["period"]) == ("2024-06-17", "2024H1")
    assert huaqiang["items"]["service"] == {"level": "satisfied", "points": 18.0}
    assert huaqiang["source"] == {"file": str(path), "sheet": "Sheet1", "row": 2}
    assert doc["summary"] == {"scored": 3, "rejected": 0, "flagged": 1}


def test_ambiguous_sheet_exits_partial(tmp_path: Path) -> None:
    en = [["Customer", *ITEMS_EN], ["ACME Ltd.", *["Good"] * 3, *["Very good"] * 4]]
    zh = [["客户名称", *ITEMS_ZH], ["乙公司", *["较满意"] * 7]]
    path = save(tmp_path / "mixed.xlsx", {"EN": en, "ZH": zh})
    code, doc = cli_json(str(path), "--period", "2024H1")
    assert code == 3
    assert [(s["customer"], s["total"]) for s in doc["scored"]] == [("乙公司", 86.0)]
    assert doc["rejected"]
    assert all(r["sheet"] == "EN" and "--scale" in r["reason"] for r in doc["rejected"])


def test_human_output_counts_skipped_summary_rows(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["客户名称", *ITEMS_ZH],
        ["甲公司", *["非常满意"] * 7],
        ["乙公司", *["较满意"] * 7],
        ["合计", *[9] * 7],
        ["平均", *[4.5] * 7],
        ["制表：张三  审核：李四  批准：王五"],
    ]
    path = save(tmp_path / "sum.xlsx", {"Sheet1": rows})
    result = runner.invoke(app, ["score", str(path), "--period", "2024H1", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "2 scored, 0 rejected" in result.stdout
    # 合计, 平均 and the sign-off line: the human output says how many were skipped
    said = re.search(r"\b3\b[^\n]*skip|skip[^\n]*\b3\b", result.stdout, re.IGNORECASE)
    assert said, result.stdout


def test_inspect_explains_a_platform_export(tmp_path: Path) -> None:
    """`csat inspect`: the columns and what they became, the scale and why, without scoring."""
    path = _wjx(tmp_path)
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 0, result.output
    for shown in ("Sheet1", "产品质量", "来自IP", scale_name(PLATFORM)):
        assert shown in result.stdout, shown
    result = runner.invoke(app, ["inspect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    text = json.dumps(json.loads(result.stdout), ensure_ascii=False)
    for shown in ("Sheet1", "来自IP", "quality", scale_name(PLATFORM)):
        assert shown in text, shown
    assert not (tmp_path / "csat.db").exists()  # inspect records nothing
