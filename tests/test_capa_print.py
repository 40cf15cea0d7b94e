"""CAPA forms and index as printed through Chromium (issue 13): the writing boxes fill the A4
page whatever the number of findings, and the index's trigger column is not squeezed."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import ROOT, TABLE_HEADER
from test_capa_cycle import print_pdf

from csat.config import load_rules
from csat.periods import parse_period
from csat.pipeline import record_outcomes
from csat.report import build_report
from csat.store import Store

H1 = parse_period("2024H1")


@pytest.fixture
def capa_dir(tmp_path: Path, workbook: Callable[..., Path]) -> Path:
    """One customer with a single packaging finding, one with every item very dissatisfied
    (its quality CAPA lists three findings)."""
    ok = "较满意"
    path = workbook(
        "s.xlsx",
        [
            TABLE_HEADER,
            [1, "甲公司", "A1", "2024-05-01", ok, ok, ok, ok, "不满意", ok, ok, None],
            [
                2,
                "深圳市联创科技股份有限公司",
                "C1020",
                "2024-05-02",
                *["非常不满意"] * 7,
                "质量问题",
            ],
        ],
    )
    loaded = load_rules(ROOT / "config" / "weights.yaml")
    with Store.open(tmp_path / "h.db") as store:
        list(record_outcomes([str(path)], loaded, store, datetime(2024, 7, 1), H1))
        build_report(store, H1, loaded, tmp_path / "out", "zh", date(2024, 7, 15))
    return tmp_path / "out" / "2024H1" / "capa"


def lowest_word(pdf: Path, word: str) -> float:
    """Where `word` ends on the page, as a share of the page height (pdftotext -bbox)."""
    html = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    height = float(re.search(r'<page width="[\d.]+" height="([\d.]+)"', html).group(1))  # type: ignore[union-attr]
    ends = [
        float(m.group(1))
        for m in re.finditer(r'<word [^>]*yMax="([\d.]+)"[^>]*>([^<]*)</word>', html)
        if word in m.group(2)
    ]
    assert ends, word
    return max(ends) / height


@pytest.mark.parametrize("number", ["CAPA-2024H1-001", "CAPA-2024H1-003"])
def test_the_writing_boxes_fill_one_a4_page(capa_dir: Path, tmp_path: Path, number: str) -> None:
    html = capa_dir / f"{number}.html"
    text = print_pdf(html, tmp_path / f"{number}.pdf")  # exactly one A4 page
    findings = text.count("问题项")
    assert findings == (1 if number.endswith("001") else 3)
    # the sign-off row sits at the foot of the page, not half-way down
    assert lowest_word(tmp_path / f"{number}.pdf", "品管确认") > 0.85


def test_the_index_gives_the_trigger_its_own_width(capa_dir: Path, tmp_path: Path) -> None:
    print_pdf(capa_dir / "index.html", tmp_path / "index.pdf")
    layout = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "index.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "包装运输: 不满意" in layout  # a trigger on one line, not two characters a line
    assert "有效性" in layout and "待处理" in layout  # verdict and status columns
