"""csat survey: forms out, filled by customers, read back without doubt."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from conftest import ROOT
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
def loaded() -> LoadedRules:
    return load_rules(ROOT / "config" / "weights.yaml")


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
    """What a customer does: pick ratings, date it, comment; maybe retype their name."""
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    for i, rating in enumerate(ratings):
        ws[f"D{9 + i}"] = rating
    ws["E6"] = datetime.combine(day, datetime.min.time())
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


def test_form_layout_dropdown_and_protection(
    tmp_path: Path, loaded: LoadedRules, customers: Path
) -> None:
    result = make_surveys(customers, H1, loaded, tmp_path / "out", date(2024, 6, 20), None)
    zh = openpyxl.load_workbook(result.written[0][2])
    ws = zh.active
    assert ws.protection.sheet
    assert not ws["D9"].protection.locked and ws["B5"].protection.locked
    [validation] = ws.data_validations.dataValidation
    assert validation.formula1 == '"非常满意,较满意,一般,不满意,非常不满意"'
    assert str(validation.sqref) == "D9:D15"
    assert ws.page_setup.paperSize == 9
    props = {p.name: p.value for p in zh.custom_doc_props.props}
    assert props["csat-form-code"] == "C1001" and props["csat-form-period"] == "2024H1"
    assert props["csat-form-revision"] == "A/1" and props["csat-form-rules"] == loaded.sha256
    en = openpyxl.load_workbook(result.written[1][2]).active
    assert en["D8"].value == "Rating" and en["B9"].value == "Product quality"


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
    assert (summary["Forms sent"], summary["Forms returned"], summary["Response rate"]) == (
        4,
        3,
        0.75,
    )
    assert len(wb["Items"]._charts) == 2  # ratings by item, importance vs performance


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
