"""A whole round, H1 -> H2, as the quality department runs it: score, report, close, score the
next period, report. The next answers judge the CAPAs and the verdict drives their state; repeats
are linked whichever order the reports run in; re-running a report changes nothing; the workbook
register and the printed forms show what was done and whether it worked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from conftest import DATA, ROOT, TABLE_HEADER
from pg import query
from typer.testing import CliRunner

from csat.cli import app
from csat.config import LoadedRules, load_rules
from csat.periods import parse_period
from csat.pipeline import record_outcomes
from csat.report import build_report
from csat.store import CapaRecord, Store

H1, H2 = parse_period("2024H1"), parse_period("2024H2")
FORMS = [DATA / "returned-form-zh-东莞精密.xlsx", DATA / "returned-form-en-Nordlicht.xlsx"]
OK = "较满意"


@pytest.fixture
def loaded() -> LoadedRules:
    return load_rules(ROOT / "config" / "weights.yaml")


@pytest.fixture
def h2_replies(workbook: Callable[..., Path]) -> Path:
    """东莞精密 is satisfied now; Nordlicht still finds the service slow."""
    return workbook(
        "h2.xlsx",
        [
            TABLE_HEADER,
            [1, "东莞市精密五金制品有限公司", None, "2024-11-02", *[OK] * 7, None],
            [2, "Nordlicht Elektronik GmbH", None, "2024-11-05", OK, OK, "不满意"]
            + [OK] * 4
            + ["service still slow"],
        ],
    )


def by_slot(capas: list[CapaRecord]) -> dict[tuple[str, str], CapaRecord]:
    return {(c.customer[:4], c.department): c for c in capas}


def cli(db: str | Path, *args: str) -> None:
    result = CliRunner().invoke(app, ["capa", *args, "--db", str(db)])
    assert result.exit_code == 0, result.output


def snapshot(db: str | Path) -> list[tuple]:  # type: ignore[type-arg]
    return [
        *query(db, "SELECT * FROM capas ORDER BY number"),
        *query(db, "SELECT * FROM capa_events ORDER BY id"),
    ]


def print_pdf(html: Path, pdf: Path) -> str:
    """Print through Chromium as a user would; the text of the PDF, or skip without the tools."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not (chromium and shutil.which("pdftotext") and shutil.which("pdfinfo")):
        if os.environ.get("CI") == "true":
            pytest.fail("chromium and poppler-utils are required under CI")
        pytest.skip("chromium or poppler-utils not installed")
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={pdf.parent / 'chromium'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert "Pages:           1" in info.stdout and "(A4)" in info.stdout
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    return " ".join(text.stdout.split())


def rows(path: Path, sheet: str) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(path)[sheet]
    header = [c.value for c in ws[1]]
    return [dict(zip(header, (c.value for c in r), strict=True)) for r in ws.iter_rows(min_row=2)]


def test_h1_to_h2_the_verdict_drives_the_state_and_shows_where_people_look(
    tmp_path: Path, db: str | Path, loaded: LoadedRules, h2_replies: Path
) -> None:
    out = tmp_path / "out"
    with Store.open(db) as store:
        list(record_outcomes([str(p) for p in FORMS], loaded, store, datetime(2024, 7, 1), H1))
        build_report(store, H1, loaded, out, "en", date(2024, 7, 15))
        first = by_slot(store.capas("2024H1"))
    dongguan, sales = first["东莞市精", "quality"], first["Nord", "sales"]
    cli(
        db,
        "close",
        dongguan.number,
        "--action",
        "new carton, corner guards",
        "--date",
        "2024-07-20",
    )
    cli(db, "close", sales.number, "--action", "second service engineer", "--date", "2024-07-22")
    with Store.open(db) as store:
        list(record_outcomes([str(h2_replies)], loaded, store, datetime(2025, 1, 5), H2))
        result = build_report(store, H2, loaded, out, "en", date(2025, 1, 10))
        judged = by_slot(store.capas("2024H1"))
        [repeat] = store.capas("2024H2")

    # effective on a closed CAPA: ready to verify
    d = judged["东莞市精", "quality"]
    assert (d.status, d.effectiveness, d.ready_to_verify) == ("closed", "effective", True)
    # ineffective: reopened automatically, the evidence is the reason
    s = judged["Nord", "sales"]
    assert (s.status, s.effectiveness) == ("reopened", "ineffective")
    assert s.reopen_reason is not None and s.reopen_reason.startswith("ineffective: 2024H2 reply")
    assert "Service Dissatisfied" in s.reopen_reason and "row 3" in s.reopen_reason
    assert [e.step for e in s.history] == ["issued", "closed", "escalated", "judged", "reopened"]
    assert s.action == "second service engineer"  # the action that did not work is kept
    # effective on a never-closed CAPA: still open, with the evidence, for the department to close
    q = judged["Nord", "quality"]
    assert (q.status, q.effectiveness) == ("open", "effective") and q.evidence is not None
    # the repeat: the H2 CAPA names the H1 one, the H1 one says where it went
    assert (repeat.department, repeat.repeat_of) == ("sales", s.number)
    assert s.history[2].text == f"repeat problem: {repeat.number}"

    register = {r["CAPA"]: r for r in rows(result.path, "CAPA register")}
    assert list(register)[0] == repeat.number  # the period's own first, then those followed up
    assert register[repeat.number]["Repeat of"] == s.number
    assert (register[d.number]["Status"], register[d.number]["Effectiveness"]) == (
        "closed, ready to verify",
        "effective",
    )
    assert register[d.number]["Action taken"] == "new carton, corner guards"
    assert register[d.number]["Days open"] == 5
    assert (register[s.number]["Status"], register[s.number]["Effectiveness"]) == (
        "reopened",
        "ineffective",
    )
    assert "Service Dissatisfied" in str(register[s.number]["Evidence (later reply)"])
    summary = {
        r[0].value: r[1].value
        for r in openpyxl.load_workbook(result.path)["Summary"].iter_rows(max_col=2)
        if r[0].value
    }
    assert summary["CAPAs judged effective"] == 3
    assert summary["CAPAs judged ineffective (reopened)"] == 1

    # The H2 set carries the forms of the H1 CAPAs it followed up: printed, each is the record.
    text = print_pdf(out / "2024H2" / "capa" / f"{s.number}.html", tmp_path / "sales.pdf")
    for expected in ("second service engineer", "2024-07-22", "ineffective", "reopened"):
        assert expected in text, expected
    index = (out / "2024H2" / "capa" / "index.html").read_text(encoding="utf-8")
    assert "ready to verify" in index and "ineffective" in index

    # capa list: a verdict column and filter; capa show: the timeline with the evidence
    def listed(*args: str) -> list[str]:
        result = CliRunner().invoke(app, ["capa", "list", "--json", "--db", str(db), *args])
        assert result.exit_code == 0, result.output
        return [c["number"] for c in json.loads(result.stdout)]

    assert listed("--verdict", "ineffective") == [s.number]
    assert listed("--verdict", "effective") == sorted(
        [d.number, q.number, judged["Nord", "production_control"].number]
    )
    assert listed("--verdict", "none") == [repeat.number]
    table = CliRunner().invoke(app, ["capa", "list", "--db", str(db)]).stdout
    assert "Verdict" in table and "ineffective" in table and "ready to verify" in table
    shown = CliRunner().invoke(app, ["capa", "show", s.number, "--db", str(db)]).stdout
    for expected in ("History", "escalated", "judged", "reopened", "Service Dissatisfied"):
        assert expected in shown, expected

    # Re-running either report changes nothing.
    before = snapshot(db)
    with Store.open(db) as store:
        build_report(store, H2, loaded, out, "en", date(2025, 2, 1))
        build_report(store, H1, loaded, out, "en", date(2025, 2, 1))
    assert snapshot(db) == before


def test_repeats_and_verdicts_whichever_order_the_reports_run(
    tmp_path: Path, db: str | Path, loaded: LoadedRules, h2_replies: Path
) -> None:
    """A late H1 reply makes its CAPA after the H2 report: it is still judged by the H2
    answer and the H2 CAPA becomes its repeat."""
    out = tmp_path / "out"
    with Store.open(db) as store:
        list(record_outcomes([str(h2_replies)], loaded, store, datetime(2025, 1, 5), H2))
        build_report(store, H2, loaded, out, "en", date(2025, 1, 10))
        [repeat] = store.capas("2024H2")
        assert repeat.repeat_of is None  # nothing to repeat yet
        list(record_outcomes([str(p) for p in FORMS], loaded, store, datetime(2025, 1, 12), H1))
        build_report(store, H1, loaded, out, "en", date(2025, 1, 13))
        judged = by_slot(store.capas("2024H1"))
        [repeat] = store.capas("2024H2")
        before = snapshot(db)
        build_report(store, H2, loaded, out, "en", date(2025, 1, 14))
        build_report(store, H1, loaded, out, "en", date(2025, 1, 14))
    assert snapshot(db) == before
    assert repeat.repeat_of == judged["Nord", "sales"].number
    assert {k: c.effectiveness for k, c in judged.items()} == {
        ("东莞市精", "quality"): "effective",
        ("Nord", "sales"): "ineffective",
        ("Nord", "quality"): "effective",
        ("Nord", "production_control"): "effective",
    }
    # never closed, so nothing to reopen: still open, judged ineffective
    assert judged["Nord", "sales"].status == "open"
