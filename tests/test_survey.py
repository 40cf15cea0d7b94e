"""csat survey: forms out, filled by customers, read back without doubt."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from conftest import ROOT, named_rules, tick
from typer.testing import CliRunner

from csat.cli import app
from csat.config import LoadedRules, load_rules
from csat.customers import CustomerListError, read_customers
from csat.errors import CsatError
from csat.periods import parse_period
from csat.pipeline import score_files
from csat.store import Store
from csat.survey import make_surveys

H1 = parse_period("2024H1")
runner = CliRunner()
LIST = """客户编号,客户名称,语言,地区,类别,联系人,邮箱
C1001,天津立讯电子有限公司,zh,华北,A,王经理,wang@example.com
N/2001,Nordlicht Elektronik GmbH,English,EU,B,Ms. Berg,berg@example.com
"""


@pytest.fixture
def loaded(tmp_path: Path) -> LoadedRules:
    return load_rules(named_rules(tmp_path))


@pytest.fixture
def customers(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text(LIST, encoding="utf-8")
    return path


def fill(
    path: Path,
    ratings: list[object],
    name: str | None = None,
    comment: str = "ok",
    day: date = date(2024, 7, 3),
) -> None:
    """What a customer does: tick a level per item, date it, comment; maybe retype their name."""
    tick(path, ratings)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws["F6"] = datetime.combine(day, datetime.min.time())
    ws["B17"] = comment
    if name is not None:
        ws["B5"] = name
    wb.save(path)


def test_round_trip(tmp_path: Path, loaded: LoadedRules, customers: Path) -> None:
    with Store.open(tmp_path / "h.db") as store:
        result = make_surveys(customers, H1, loaded, tmp_path / "out", date(2024, 6, 20), store)
        sent = store.sent_forms("2024H1")
    assert result.reply_by == date(2024, 7, 4)
    files = {c.code: p for c, _, p in result.written}
    assert files["N/2001"].name == "2024H1-N_2001.xlsx"  # safe on every OS
    assert [(s["customer_code"], s["language"], s["reply_by"]) for s in sent] == [
        ("C1001", "zh", "2024-07-04"),
        ("N/2001", "en", "2024-07-04"),
    ]

    fill(
        files["C1001"],
        ["非常满意", "较满意", "较满意", "一般", "非常满意", "较满意", "较满意"],
        name="天津立讯 (new name)",
    )
    fill(
        files["N/2001"],
        [
            "Neutral",
            "Satisfied",
            "Dissatisfied",
            "Very dissatisfied",
            "Satisfied",
            "Dissatisfied",
            "Neutral",
        ],
        comment="late 8D",
    )
    run = score_files([str(tmp_path / "out")], loaded.rules)  # no --period: the form knows
    assert run.rejected == []
    got = {s.response.customer_code: s for s in run.scored}
    assert got["C1001"].total == 90.0 and got["C1001"].response.customer == "天津立讯 (new name)"
    assert got["C1001"].response.period == "2024H1"  # replied 3 July, still the H1 survey
    assert got["N/2001"].total == 64.0 and got["N/2001"].response.comments == "late 8D"


def test_own_forms_not_filled_in_are_skipped_not_rejected(
    tmp_path: Path, loaded: LoadedRules, customers: Path
) -> None:
    """`csat score .` in the working folder meets the blank forms csat wrote: not replies yet."""
    result = make_surveys(customers, H1, loaded, tmp_path / "out", date(2024, 6, 20), None)
    run = score_files([str(tmp_path / "out")], loaded.rules)
    assert run.scored == [] and run.rejected == []
    assert [s.reason for s in run.skipped] == ["a csat survey form not filled in yet"] * len(
        result.written
    )


def test_form_layout_ticks_and_protection(
    tmp_path: Path, loaded: LoadedRules, customers: Path
) -> None:
    result = make_surveys(customers, H1, loaded, tmp_path / "out", date(2024, 6, 20), None)
    zh = openpyxl.load_workbook(result.written[0][2])
    ws = zh.active
    assert ws.protection.sheet
    assert not ws["D9"].protection.locked and ws["B5"].protection.locked
    # the procedure's own form: one tick column per level, so it works printed too
    assert [c.value for c in ws[8]] == [
        "序号",
        "调查项目",
        "评分比例",
        "非常满意",
        "较满意",
        "一般",
        "不满意",
        "非常不满意",
    ]
    [validation] = ws.data_validations.dataValidation
    assert validation.formula1 == '"✓"' and str(validation.sqref) == "D9:H15"
    assert ws["B4"].value == "苏州精工电子有限公司"
    assert "2024年上半年" in ws["A3"].value and "2024年7月4日" in ws["A3"].value
    assert "，" in ws["A3"].value and ", " not in ws["A3"].value  # full-width punctuation
    assert ws["A5"].value == "客户名称："
    assert ws.page_setup.paperSize == 9
    props = {p.name: p.value for p in zh.custom_doc_props.props}
    assert props["csat-form-code"] == "C1001" and props["csat-form-period"] == "2024H1"
    assert props["csat-form-revision"] == "A/1" and props["csat-form-rules"] == loaded.sha256
    en = openpyxl.load_workbook(result.written[1][2]).active
    assert en["D8"].value == "Very satisfied" and en["B9"].value == "Product quality"
    assert "the first half of 2024" in en["A3"].value and "4 July 2024" in en["A3"].value
    bold = [c for row in en.iter_rows() for c in row if c.font and c.font.b]
    assert bold and all(c.font.name == "Calibri" for c in bold)  # never a serif fallback


@pytest.mark.parametrize(
    ("period", "zh", "en"),
    [
        ("2024H2", "2024年下半年", "the second half of 2024"),
        ("2024Q3", "2024年第三季度", "the third quarter of 2024"),
        ("2024-05", "2024年5月", "May 2024"),
        ("2024", "2024年度", "2024"),
    ],
)
def test_periods_in_words(period: str, zh: str, en: str) -> None:
    from csat.render.forms import period_words

    assert (period_words(parse_period(period), "zh"), period_words(parse_period(period), "en")) == (
        zh,
        en,
    )


def test_forms_never_go_out_signed_by_the_placeholder(tmp_path: Path, customers: Path) -> None:
    from csat.survey import PlaceholderCompany

    shipped = load_rules(ROOT / "config" / "weights.yaml")
    with pytest.raises(PlaceholderCompany, match="本公司 / Our company.*csat init --company"):
        make_surveys(customers, H1, shipped, tmp_path / "out", date(2024, 6, 20), None)
    assert not (tmp_path / "out").exists()
    work = tmp_path / "work"
    assert runner.invoke(app, ["init", str(work)]).exit_code == 0
    args = ["survey", "--customers", str(customers), "--period", "2024H1"]
    args += ["--out", str(work / "out"), "--config", str(work / "config" / "weights.yaml")]
    args += ["--db", str(work / "csat.db")]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 1 and "survey.company in" in refused.stderr
    assert "No form was written" in refused.stderr and not (work / "out").exists()
    named = runner.invoke(
        app,
        ["init", str(work), "--company", "宁波精工", "--company-en", 'Ningbo "Precision", Ltd.'],
    )
    assert named.exit_code == 0, named.output
    assert runner.invoke(app, args).exit_code == 0
    form = openpyxl.load_workbook(work / "out" / "2024H1" / "2024H1-N_2001.xlsx").active
    assert form["B4"].value == 'Ningbo "Precision", Ltd.'


def test_printed_forms(tmp_path: Path, loaded: LoadedRules, customers: Path) -> None:
    """A zh and an en form printed by LibreOffice: one A4 page each, the level names over
    the tick boxes, the company, the period in words."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice or poppler-utils not installed")
    result = make_surveys(customers, H1, loaded, tmp_path / "out", date(2024, 6, 20), None)
    for _, lang, path in result.written:
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{tmp_path / 'lo'}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(tmp_path / "pdf"),
                str(path),
            ],
            capture_output=True,
            timeout=180,
            check=True,
        )
        pdf = tmp_path / "pdf" / path.with_suffix(".pdf").name
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert text.count("\f") == 1, lang  # one page
        words = (
            [
                "非常满意",
                "较满意",
                "一般",
                "不满意",
                "非常不满意",
                "2024年上半年",
                "苏州精工电子有限公司",
            ]
            if lang == "zh"
            else ["Very", "satisfied", "Neutral", "dissatisfied", "first half of 2024", "Suzhou"]
        )
        flat = " ".join(text.split())
        for w in words:
            assert w in flat, (lang, w)


def test_forms_for_another_period_or_revision_are_refused(
    tmp_path: Path, loaded: LoadedRules, customers: Path
) -> None:
    result = make_surveys(customers, H1, loaded, tmp_path / "out", date(2024, 6, 20), None)
    path = result.written[0][2]
    fill(path, ["非常满意"] * 7)
    [rej] = score_files([str(path)], loaded.rules, parse_period("2024H2")).rejected
    assert "sent for 2024H1, not 2024H2" in rej.reason
    text = (ROOT / "config" / "weights.yaml").read_text(encoding="utf-8")
    newer = tmp_path / "w.yaml"
    newer.write_text(text.replace("revision: A/1", "revision: B/0"), encoding="utf-8")
    [rej] = score_files([str(path)], load_rules(newer).rules).rejected
    assert "revision A/1 is not the current B/0" in rej.reason


def test_bad_customer_list_lists_every_cell_and_writes_nothing(
    tmp_path: Path, loaded: LoadedRules
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "客户编号,客户名称,语言,邮箱\n"
        "C1,甲,zh,a@b.cn\n"
        ",乙,zh,\n"
        "C3,丙,fr,\n"
        "C1,丁,en,not-an-address\n",
        encoding="utf-8",
    )
    with pytest.raises(CustomerListError) as info:
        read_customers(bad, loaded.rules)
    assert [(p.cell, p.reason.split(":")[0]) for p in info.value.problems] == [
        ("A3", "no code"),
        ("C4", "unknown language 'fr'"),
        ("D5", "'not-an-address' is not an e-mail address"),
        ("A5", "customer code C1 is also in A2"),
    ]
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["survey", "--customers", str(bad), "--period", "2024H1", "--out", str(out)]
    )
    assert result.exit_code == 1 and "A3" in result.stderr and "C4" in result.stderr
    assert not out.exists()


def test_the_shipped_example_list_is_valid(loaded: LoadedRules) -> None:
    example = read_customers(ROOT / "config" / "customers.example.csv", loaded.rules)
    assert [(c.code, c.language, c.klass) for c in example] == [
        ("C1001", "zh", "A"),
        ("C1002", "zh", "B"),
        ("E2001", "en", "A"),
    ]


def test_existing_forms_are_kept_unless_force(tmp_path: Path, customers: Path) -> None:
    args = [
        "survey",
        "--config",
        str(named_rules(tmp_path)),
        "--customers",
        str(customers),
        "--period",
        "2024H1",
        "--out",
        str(tmp_path / "out"),
        "--date",
        "2024-06-20",
    ]
    assert runner.invoke(app, args).exit_code == 0
    form = tmp_path / "out" / "2024H1" / "2024H1-C1001.xlsx"
    before = form.read_bytes()
    again = runner.invoke(app, args)
    assert again.exit_code == 1 and "--force" in again.stderr
    assert form.read_bytes() == before
    assert runner.invoke(app, [*args, "--force", "--lang", "en"]).exit_code == 0
    assert openpyxl.load_workbook(form).active["A1"].value == "Customer Satisfaction Survey"
    assert "Example" in runner.invoke(app, ["survey", "--help"]).stdout


def test_report_shows_response_rate_and_segments(tmp_path: Path, loaded: LoadedRules) -> None:
    from csat.pipeline import record_outcomes
    from csat.report import build_report

    listing = tmp_path / "c.csv"
    listing.write_text(
        "客户编号,客户名称,语言,类别\nA1,甲,zh,A\nA2,乙,zh,A\nB1,丙,zh,B\nB2,丁,zh,B\n",
        encoding="utf-8",
    )
    with Store.open(tmp_path / "h.db") as store:
        result = make_surveys(listing, H1, loaded, tmp_path / "out", date(2024, 6, 20), store)
        forms = {c.code: p for c, _, p in result.written}
        fill(forms["A1"], ["非常满意"] * 7)
        fill(forms["A2"], ["不满意"] * 7)
        fill(forms["B1"], ["较满意"] * 7)
        list(
            record_outcomes(
                [str(forms[c]) for c in ("A1", "A2", "B1")], loaded, store, datetime(2024, 7, 5)
            )
        )
        report = build_report(store, H1, loaded, tmp_path / "r", "en", date(2024, 7, 15))
    v = report.view
    assert (v.forms_sent, v.replies_to_forms, v.response_rate) == (4, 3, 0.75)
    seg = {s.period: s for s in v.segments}
    assert (seg["A"].responses, seg["A"].mean_total, seg["A"].flagged_share) == (2, 75.0, 0.5)
    assert seg["A"].pareto[0].count == 1 and seg["B"].responses == 1 and not seg["B"].pareto
    wb = openpyxl.load_workbook(report.path)
    rows = [[c.value for c in r] for r in wb["Segments"].iter_rows()]
    assert rows[0][0] == "Class" and [r[0] for r in rows[1:]] == ["A", "B"]
    summary = {
        r[0].value: r[1].value for r in wb["Summary"].iter_rows(min_row=3, max_col=2) if r[0].value
    }
    assert (
        summary["Forms sent"],
        summary["Forms returned"],
        summary["Response rate (returned ÷ sent)"],
    ) == (
        4,
        3,
        0.75,
    )
    assert len(wb["Items"]._charts) == 2  # ratings by item, importance vs performance
    unanswered = [[c.value for c in r] for r in wb["Not replied"].iter_rows(values_only=False)]
    assert unanswered[0][:2] == ["Code", "Customer"]
    assert [r[0] for r in unanswered[1:]] == sorted(set(forms) - {"A1", "A2", "B1"})
    # the dates a chaser reads: shown as dates, not as Excel's serial numbers
    sheet = wb["Not replied"]
    sent_on, reply_by = sheet.cell(2, 7), sheet.cell(2, 8)
    assert (sent_on.value, reply_by.value) == (datetime(2024, 6, 20), datetime(2024, 7, 4))
    assert sent_on.number_format == reply_by.number_format == "yyyy-mm-dd"


def test_customer_list_as_xlsx_with_numeric_codes(tmp_path: Path, loaded: LoadedRules) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["客户清单"])
    ws.append(["Code", "Customer", "Language", "Class"])
    ws.append([1001, "甲公司", "中文", "A"])
    ws.append([None, None, None, None])
    ws.append([2002, "Acme", "English", None])
    wb.save(tmp_path / "c.xlsx")
    got = read_customers(tmp_path / "c.xlsx", loaded.rules)
    assert [(c.code, c.name, c.language, c.klass) for c in got] == [
        ("1001", "甲公司", "zh", "A"),
        ("2002", "Acme", "en", None),
    ]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_an_interrupted_survey_is_completed_by_running_it_again(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """Ctrl-C or kill -9 half-way: every form on disk is recorded as sent (but at most the one
    being recorded), and the same command again writes only what is missing."""
    listing = tmp_path / "many.csv"
    lines = [f"K{i:04d},客户{i},zh" for i in range(300)]
    listing.write_text("客户编号,客户名称,语言\n" + "\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "s.db"
    args = [sys.executable, "-m", "csat", "survey", "--customers", str(listing)]
    args += ["--period", "2024H1", "--out", str(tmp_path / "out"), "--date", "2024-06-20"]
    args += ["--config", str(named_rules(tmp_path))]
    env = {**os.environ, "CSAT_DB": str(db), "PYTHONPATH": str(ROOT)}
    folder = tmp_path / "out" / "2024H1"
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(2400):
        if folder.is_dir() and len(list(folder.glob("*.xlsx"))) >= 20:
            break
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=0.05)  # a pause that ends early if csat exits
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    assert proc.returncode in (130, -sig), proc.returncode
    on_disk = {str(p) for p in folder.glob("*.xlsx")}
    with Store.open(db) as store:
        sent = {str(s["file"]) for s in store.sent_forms("2024H1")}
    assert 20 <= len(on_disk) < 300
    assert sent <= on_disk and len(on_disk - sent) <= 1
    kept = {p: Path(p).read_bytes() for p in sent}
    again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{len(sent)} written and recorded before were kept" in again.stdout.replace("\n", " ")
    with Store.open(db) as store:
        assert len(store.sent_forms("2024H1")) == 300
    assert len(list(folder.glob("*.xlsx"))) == 300
    assert all(Path(p).read_bytes() == b for p, b in kept.items())


def test_forms_on_disk_not_recorded_as_sent_are_not_overwritten(
    tmp_path: Path, loaded: LoadedRules, customers: Path
) -> None:
    """Forms made without this store (another --db, or copied in) are not an interrupted run."""
    make_surveys(customers, H1, loaded, tmp_path / "out", date(2024, 6, 20), None)
    form = tmp_path / "out" / "2024H1" / "2024H1-C1001.xlsx"
    before = form.read_bytes()
    with Store.open(tmp_path / "h.db") as store, pytest.raises(CsatError, match="--force"):
        make_surveys(customers, H1, loaded, tmp_path / "out", date(2024, 6, 21), store)
    assert form.read_bytes() == before
