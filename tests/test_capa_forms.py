"""CAPA forms: escaped customer text, safe file names, overridable templates, one A4 page."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import ROOT, TABLE_HEADER

from csat.config import LoadedRules, load_rules
from csat.periods import parse_period
from csat.pipeline import record_outcomes
from csat.report import build_report
from csat.store import Store

H1 = parse_period("2024H1")
NASTY = '<script>alert("x")</script> ../../etc/passwd/'


@pytest.fixture
def loaded() -> LoadedRules:
    return load_rules(ROOT / "config" / "weights.yaml")


@pytest.fixture
def forms(tmp_path: Path, loaded: LoadedRules, workbook: Callable[..., Path]) -> Path:
    """A period with two flagged customers, one with a hostile name and comment."""
    bad = ["不满意", "不满意", "较满意", "较满意", "较满意", "较满意", "较满意"]
    path = workbook(
        "s.xlsx",
        [
            TABLE_HEADER,
            [1, NASTY, "X/1", "2024-05-01", *bad, "<b>bold</b> & 交期"],
            [
                2,
                "深圳市联创科技股份有限公司",
                "C1020",
                "2024-05-02",
                *(["非常不满意"] * 7),
                "质量问题",
            ],
        ],
    )
    db = tmp_path / "h.db"
    with Store.open(db) as store:
        list(record_outcomes([str(path)], loaded, store, datetime(2024, 7, 1), H1))
        build_report(store, H1, loaded, tmp_path / "out", "zh", date(2024, 7, 15))
    return tmp_path / "out" / "2024H1" / "capa"


def test_one_form_per_capa_and_an_index_named_by_number(forms: Path, tmp_path: Path) -> None:
    names = sorted(p.name for p in forms.iterdir())
    # customer 1 (total 68): low score -> sales, quality + RoHS -> one quality CAPA;
    # customer 2: low score + service -> sales, and quality, logistics, production control
    assert names == [f"CAPA-2024H1-00{i}.html" for i in range(1, 7)] + ["index.html"]
    everything = {p.relative_to(tmp_path) for p in tmp_path.rglob("*")}
    assert not any("passwd" in str(p) or "script" in str(p) for p in everything)


def test_customer_text_is_escaped(forms: Path) -> None:
    html = (forms / "CAPA-2024H1-002.html").read_text(encoding="utf-8")  # the quality CAPA
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt; &amp; 交期" in html
    assert "产品质量" in html and "RoHS情况" in html and "品管部" in html
    assert "2024-07-29" in html  # due: 10 working days after 15 July
    index = (forms / "index.html").read_text(encoding="utf-8")
    assert index.count('href="CAPA-2024H1-') == 6 and "&lt;script&gt;" in index


def test_user_templates_override_the_packaged_ones(
    tmp_path: Path, loaded: LoadedRules, forms: Path
) -> None:
    custom = tmp_path / "templates" / "capa"
    custom.mkdir(parents=True)
    (custom / "form.html.j2").write_text(
        "OUR FORM {{ capa.number }} {{ capa.customer }}", encoding="utf-8"
    )
    with Store.open(tmp_path / "h.db") as store:
        result = build_report(
            store,
            H1,
            loaded,
            tmp_path / "out2",
            "en",
            date(2024, 7, 15),
            templates=tmp_path / "templates",
        )
    first = result.capa_forms[0].read_text(encoding="utf-8")
    assert first.startswith("OUR FORM CAPA-2024H1-001 &lt;script&gt;")
    assert "Corrective and preventive actions" in result.capa_forms[-1].read_text(encoding="utf-8")


def test_a_form_prints_on_one_a4_page_with_the_chinese_text(forms: Path, tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    tools = [chromium, shutil.which("pdfinfo"), shutil.which("pdftotext")]
    if not all(tools):
        if os.environ.get("CI") == "true":
            pytest.fail("chromium and poppler-utils are required under CI (.ci/run installs them)")
        pytest.skip("chromium or poppler-utils not installed")
    pdf = tmp_path / "form.pdf"
    subprocess.run(
        [
            str(chromium),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            (forms / "CAPA-2024H1-003.html").as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info and "(A4)" in info
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "纠正与预防措施报告" in text and "深圳市联创科技股份有限公司" in text
