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
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from csat.capa import CapaEvent
from csat.config import LoadedRules, load_rules
from csat.models import Flag
from csat.periods import parse_period
from csat.pipeline import record_outcomes
from csat.render.capa import (
    FORM_LABELS,
    TemplateProblem,
    capa_view,
    environment,
    write_capa_forms,
)
from csat.render.labels import Lang, t
from csat.report import build_report
from csat.store import CapaRecord, Store

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


def capa_records() -> list[CapaRecord]:
    """CAPAs in every state a form prints differently: open and overdue, closed and judged
    effective, verified, reopened after an ineffective verdict and repeated, with hostile text
    in every free field and a step of unknown date."""
    low = Flag("low_score", total=61.5)
    quality = Flag("dissatisfied_item", item="quality", level="very_dissatisfied")
    rohs = Flag("dissatisfied_item", item="rohs", level="dissatisfied")
    issued = CapaEvent("issued", date(2024, 7, 15), "csat")
    evidence = {
        "period": "2024H2",
        "source": {"file": "回执<2>.xlsx", "sheet": "S&1", "row": 7},
        "ratings": {"quality": "satisfied"},
        "total": 88.0,
    }
    base = {
        "period": "2024H1",
        "customer_key": "k",
        "issue_date": date(2024, 7, 15),
        "due_date": date(2024, 7, 29),
    }
    return [
        CapaRecord(
            number="CAPA-2024H1-001",
            customer=NASTY,
            customer_code="X/1",
            department="sales",
            flags=(low,),
            comments='<b>bold</b> & "交期"\n第二行',
            status="open",
            history=(issued,),
            **base,  # type: ignore[arg-type]
        ),
        CapaRecord(
            number="CAPA-2024H1-002",
            customer="深圳市联创科技股份有限公司",
            customer_code=None,
            department="quality",
            flags=(quality, rohs),
            comments=None,
            status="closed",
            action="<i>换包装</i> & 培训",
            closed_on=date(2024, 7, 20),
            effectiveness="effective",
            evidence=evidence,
            history=(
                issued,
                CapaEvent("closed", date(2024, 7, 20), "王工<script>", text="<i>换包装</i>"),
                CapaEvent("judged", date(2025, 1, 10), "csat", verdict="effective"),
            ),
            **base,  # type: ignore[arg-type]
        ),
        CapaRecord(
            number="CAPA-2024H1-003",
            customer="乙公司",
            customer_code="B2",
            department="logistics",
            flags=(quality,),
            comments="慢",
            status="verified",
            action="改线",
            closed_on=date(2024, 7, 18),
            verified_on=date(2024, 8, 1),
            note="复核 <ok>",
            history=(
                issued,
                CapaEvent("closed", None, "李"),
                CapaEvent("verified", date(2024, 8, 1), "QA & co", text="复核 <ok>"),
            ),
            **base,  # type: ignore[arg-type]
        ),
        CapaRecord(
            number="CAPA-2024H1-004",
            customer="丙公司",
            customer_code="C3",
            department="production_control",
            flags=(low, rohs),
            comments="",
            status="reopened",
            effectiveness="ineffective",
            evidence=evidence,
            repeat_of="CAPA-2023H2-009",
            reopen_reason="again",
            history=(
                issued,
                CapaEvent("closed", date(2024, 7, 19), "x", text="a"),
                CapaEvent("judged", date(2025, 1, 10), "csat", verdict="ineffective"),
                CapaEvent("reopened", date(2025, 1, 10), "csat", text="无效 & 重开"),
            ),
            **base,  # type: ignore[arg-type]
        ),
    ]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_forms_and_index_are_the_bytes_the_plain_sandbox_renders(
    tmp_path: Path, loaded: LoadedRules, lang: Lang
) -> None:
    """write_capa_forms takes short ways (the sandbox's fast attribute path, one view per CAPA
    for form and index, raw file writes): the files must be byte for byte what Jinja's own
    SandboxedEnvironment renders from the same templates and views."""
    capas, today = capa_records(), date(2024, 8, 5)
    written = write_capa_forms(capas, loaded.rules, lang, tmp_path / "capa", "2024H1", today)
    ours = environment(None)
    plain = SandboxedEnvironment(
        loader=ours.loader,
        autoescape=ours.autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    assert type(plain) is not type(ours)  # the general path, not the one under test
    labels = {key: t(key, lang) for key in FORM_LABELS}
    views = [capa_view(c, loaded.rules, lang, today) for c in capas]
    form = plain.get_template("capa/form.html.j2")
    expected = [form.render(capa=v, L=labels, lang=lang) for v in views]
    index = plain.get_template("capa/index.html.j2")
    expected.append(
        index.render(capas=views, L=labels, lang=lang, period="2024H1", made_on="2024-08-05")
    )
    assert [p.name for p in written] == [f"{c.number}.html" for c in capas] + ["index.html"]
    assert [p.read_bytes() for p in written] == [x.encode("utf-8") for x in expected]
    both = b"".join(p.read_bytes() for p in written).decode("utf-8")
    assert "<script>" not in both and "&lt;script&gt;" in both and "复核 &lt;ok&gt;" in both
    assert "CAPA-2023H2-009" in both and "&lt;i&gt;换包装&lt;/i&gt; &amp; 培训" in both


@pytest.mark.parametrize(
    "index",
    [
        "{{ capas|length }} CAPAs",
        "{% for c in capas %}{% for d in capas %}.{% endfor %}{% endfor %}",
    ],
)
def test_every_form_is_written_once_whatever_the_index_template_iterates(
    tmp_path: Path, loaded: LoadedRules, index: str
) -> None:
    """The forms are written as the index goes through the views: an index of your own that
    lists none of them, or all of them twice, still gets each form once, in order."""
    (tmp_path / "templates" / "capa").mkdir(parents=True)
    (tmp_path / "templates" / "capa" / "index.html.j2").write_text(index, encoding="utf-8")
    told: list[int] = []
    capas = capa_records()
    written = write_capa_forms(
        capas,
        loaded.rules,
        "zh",
        tmp_path / "capa",
        "2024H1",
        date(2024, 8, 5),
        tmp_path / "templates",
        told.append,
    )
    assert [p.name for p in written] == [f"{c.number}.html" for c in capas] + ["index.html"]
    assert all("纠正与预防措施报告" in p.read_text(encoding="utf-8") for p in written[:-1])
    assert told == [4]
    assert written[-1].read_text(encoding="utf-8") in ("4 CAPAs", "." * 16)


@pytest.mark.parametrize(
    "body",
    ["{{ capa.__class__.__mro__ }}", "{{ capa.findings[0].__class__ }}", "{{ L.__class__ }}"],
)
def test_the_views_fast_path_still_refuses_internals(
    tmp_path: Path, loaded: LoadedRules, body: str
) -> None:
    (tmp_path / "templates" / "capa").mkdir(parents=True)
    (tmp_path / "templates" / "capa" / "form.html.j2").write_text(body, encoding="utf-8")
    with pytest.raises(TemplateProblem, match="form.html.j2"):
        write_capa_forms(
            capa_records(),
            loaded.rules,
            "zh",
            tmp_path / "capa",
            "2024H1",
            date(2024, 8, 5),
            tmp_path / "templates",
        )
