"""A site per import: `csat score --site`, the group report and `csat report --site`, read back
from the written workbooks as a user would open them."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import ROOT, TABLE_HEADER
from typer.testing import CliRunner

from csat.cli import app
from csat.report import site_folder
from csat.store import SCHEMA_VERSION, Store

OK = ["较满意"] * 7
BAD_DELIVERY = ["较满意"] * 5 + ["不满意", "较满意"]


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def two_sites(db: str | Path, workbook: Callable[..., Path]) -> str | Path:
    """Suzhou: two replies, one dissatisfied with the delivery date; Shenzhen: three replies,
    two flagged. Recorded into one store with different --site, on SQLite and PostgreSQL."""
    suzhou = workbook(
        "suzhou.xlsx",
        [
            TABLE_HEADER,
            [1, "天津立讯电子有限公司", "C1001", "2024-05-02", *OK, None],
            [2, "苏州科创电子科技有限公司", "C1003", "2024-05-03", *BAD_DELIVERY, "交期需要改善"],
        ],
    )
    shenzhen = workbook(
        "shenzhen.xlsx",
        [
            TABLE_HEADER,
            [1, "深圳市鑫源电子有限公司", "C2001", "2024-05-04", *BAD_DELIVERY, None],
            [2, "Acme Ltd.", "C2002", "2024-05-05", *(["非常满意"] * 7), None],
            [3, "Beta GmbH", "C2003", "2024-05-06", *(["不满意"] * 7), "poor"],
        ],
    )
    for path, site in ((suzhou, "Suzhou"), (shenzhen, "深圳 Plant")):
        got = run("score", str(path), "--period", "2024H1", "--site", site, "--db", str(db))
        assert got.exit_code == 0, got.output
        assert f"for site {site}" in got.output
    return db


def report(db: Path, out: Path, *extra: str) -> dict[str, Any]:
    got = run(
        "report", "--period", "2024H1", "--db", str(db), "--out", str(out), "--lang", "en",
        "--date", "2024-07-15", "--json", *extra,
    )  # fmt: skip
    assert got.exit_code == 0, got.output
    doc: dict[str, Any] = json.loads(got.stdout)
    return doc


def rows(path: Path, sheet: str) -> list[tuple[Any, ...]]:
    return list(openpyxl.load_workbook(path, read_only=True)[sheet].iter_rows(values_only=True))


def capa_numbers(path: Path) -> list[tuple[str, str]]:
    """(CAPA number, customer) of the workbook's CAPA register."""
    return [(str(r[0]), str(r[1])) for r in rows(path, "CAPA register")[1:] if r[0]]


def test_imports_list_names_each_import_site(two_sites: Path) -> None:
    listed = json.loads(run("imports", "list", "--json", "--db", str(two_sites)).stdout)
    assert [i["site"] for i in listed] == ["Suzhou", "深圳 Plant"]
    table = run("imports", "list", "--db", str(two_sites)).stdout
    assert "Site" in table and "Suzhou" in table and "深圳 Plant" in table


def test_group_report_has_a_site_column_and_site_segments(two_sites: Path, tmp_path: Path) -> None:
    doc = report(two_sites, tmp_path / "reports")
    book = tmp_path / "reports" / "2024H1" / "csat-2024H1.xlsx"
    assert doc["site"] is None and doc["workbook"] == str(book) and doc["responses"] == 5
    scores = rows(book, "Scores")
    assert scores[0][:4] == ("Customer", "Code", "Site", "Period")
    assert {r[1]: r[2] for r in scores[1:]} == {
        "C1001": "Suzhou",
        "C1003": "Suzhou",
        "C2001": "深圳 Plant",
        "C2002": "深圳 Plant",
        "C2003": "深圳 Plant",
    }
    segments = rows(book, "Segments")
    at = next(i for i, r in enumerate(segments) if r[0] == "Site")
    assert segments[at][1:3] == ("Responses counted", "Mean total")
    by_site = {r[0]: r[1] for r in segments[at + 1 :] if r[0]}
    assert by_site == {"Suzhou": 2, "深圳 Plant": 3}
    index = rows(book, "Segment index")
    assert {r[1]: r[2] for r in index if r[0] == "site" and isinstance(r[2], int)} == by_site
    groups = doc["statistics"]["segments"]["site"]["groups"]
    assert set(groups) == {"Suzhou", "深圳 Plant"}


def test_site_report_shows_one_site_and_keeps_the_group_capa_numbers(
    two_sites: Path, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    # The site report first: the CAPA numbers must still be those the group report gives.
    site = report(two_sites, out, "--site", "深圳 Plant")
    folder = out / "2024H1" / site_folder("深圳 Plant")
    book = folder / "csat-2024H1.xlsx"
    assert site["site"] == "深圳 Plant" and site["workbook"] == str(book)
    assert site["responses"] == 3 and site["flagged"] == 2
    assert {r[1] for r in rows(book, "Scores")[1:]} == {"C2001", "C2002", "C2003"}
    summary = rows(book, "Summary")
    assert summary[0][0] == "Customer satisfaction survey statistics · Site 深圳 Plant"
    assert ("Site", "深圳 Plant") in [r[:2] for r in summary]
    assert "site" not in site["statistics"]["segments"]  # one site: no site segment
    footer = openpyxl.load_workbook(book)["Scores"].oddFooter.left.text
    assert "statistics 2024H1 · Site 深圳 Plant · Made on 2024-07-15" in footer
    site_capas = capa_numbers(book)
    assert {c for _, c in site_capas} == {"深圳市鑫源电子有限公司", "Beta GmbH"}
    assert sorted(p.name for p in (folder / "capa").glob("CAPA-*.html")) == sorted(
        f"{n}.html" for n, _ in site_capas
    )

    group = report(two_sites, out)
    assert group["responses"] == 5 and group["flagged"] == 3
    numbers = capa_numbers(out / "2024H1" / "csat-2024H1.xlsx")
    # numbered in reply order over every site, whichever report ran first
    assert [n for n, _ in numbers] == [f"CAPA-2024H1-{i:03d}" for i in range(1, len(numbers) + 1)]
    assert numbers[0] == ("CAPA-2024H1-001", "苏州科创电子科技有限公司")
    assert numbers[1] == ("CAPA-2024H1-002", "深圳市鑫源电子有限公司")
    assert set(site_capas) == set(numbers[1:])
    # the group report's swap keeps the site's folder beside it
    assert book.is_file() and (out / "2024H1" / "capa" / "CAPA-2024H1-001.html").is_file()
    again = report(two_sites, out, "--site", "Suzhou")
    assert again["capas"]["total"] == 1
    assert capa_numbers(Path(again["workbook"])) == [numbers[0]]


def test_the_store_filters_replies_by_site(two_sites: Path) -> None:
    with Store.open(two_sites, create=False) as store:
        every = list(store.responses(["2024H1"]))
        suzhou = list(store.responses(["2024H1"], "Suzhou"))
        assert [r.site for r in every] == ["Suzhou"] * 2 + ["深圳 Plant"] * 3
        assert [r.response.customer_code for r in suzhou] == ["C1001", "C1003"]
        assert list(store.responses(["2024H1"], "")) == []


def test_a_site_report_states_no_response_rate(two_sites: Path, tmp_path: Path) -> None:
    doc = report(two_sites, tmp_path / "r", "--site", "Suzhou")
    summary = rows(Path(doc["workbook"]), "Summary")
    rate = next(r for r in summary if r[0] == "Response rate (returned ÷ sent)")
    assert rate[2] == "forms are sent for the group, not per site: see the group report"
    assert rows(Path(doc["workbook"]), "Not replied")[0][0] == rate[2]


def test_a_customer_of_two_sites_counts_once_in_the_period(
    two_sites: Path, tmp_path: Path, workbook: Callable[..., Path]
) -> None:
    """A customer is one customer across the group: its later reply to another site
    supersedes the earlier one, in the group report and in the earlier site's report."""
    later = workbook(
        "later.xlsx", [TABLE_HEADER, [1, "Acme Ltd.", "C2002", "2024-06-01", *OK, None]]
    )
    got = run("score", str(later), "--period", "2024H1", "--site", "Suzhou", "--db", str(two_sites))
    assert got.exit_code == 0, got.output
    group = report(two_sites, tmp_path / "r")
    assert (group["responses"], group["superseded"]) == (5, 1)
    shenzhen = report(two_sites, tmp_path / "r", "--site", "深圳 Plant")
    assert (shenzhen["responses"], shenzhen["superseded"]) == (2, 1)
    suzhou = report(two_sites, tmp_path / "r", "--site", "Suzhou")
    assert (suzhou["responses"], suzhou["superseded"]) == (3, 0)


def test_a_store_of_schema_9_gets_the_site_column(
    tmp_path: Path, workbook: Callable[..., Path]
) -> None:
    """A store written before sites existed is migrated: its imports have no site."""
    survey = workbook("s.xlsx", [TABLE_HEADER, [1, "Acme", "C1", "2024-05-02", *OK, None]])
    db = tmp_path / "old.db"
    assert run("score", str(survey), "--db", str(db)).exit_code == 0
    with sqlite3.connect(db) as conn:  # as csat with migrations 1-9 left it
        conn.execute("ALTER TABLE imports DROP COLUMN site")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    listed = json.loads(run("imports", "list", "--json", "--db", str(db)).stdout)
    assert [i["site"] for i in listed] == [""]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_unknown_site_is_nothing_to_report(two_sites: Path, tmp_path: Path) -> None:
    got = run(
        "report", "--period", "2024H1", "--db", str(two_sites), "--out", str(tmp_path / "r"),
        "--site", "Wuxi",
    )  # fmt: skip
    assert got.exit_code == 1
    assert "no replies recorded for site 'Wuxi' in 2024H1" in got.output
    assert "'Suzhou'" in got.output and "Traceback" not in got.output
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("site", "why"),
    [("A\tB", "control characters"), ("x" * 41, "at most 40"), (" Suzhou", "start or end")],
)
def test_a_bad_site_name_is_a_usage_error(tmp_path: Path, site: str, why: str) -> None:
    got = run("score", str(ROOT / "tests" / "data"), "--site", site, "--db", str(tmp_path / "x"))
    assert got.exit_code == 2 and why in got.output
    assert not (tmp_path / "x").exists()


def test_site_from_the_config(tmp_path: Path, workbook: Callable[..., Path]) -> None:
    config = tmp_path / "weights.yaml"
    text = (ROOT / "config" / "weights.yaml").read_text(encoding="utf-8")
    config.write_text(text + "site: Suzhou\n", encoding="utf-8")
    survey = workbook("s.xlsx", [TABLE_HEADER, [1, "Acme", "C1", "2024-05-02", *OK, None]])
    db = tmp_path / "c.db"
    assert run("score", str(survey), "--config", str(config), "--db", str(db)).exit_code == 0
    listed = json.loads(run("imports", "list", "--json", "--db", str(db)).stdout)
    assert listed[0]["site"] == "Suzhou"
    config.write_text(text + 'site: "a\\nb"\n', encoding="utf-8")
    bad = run("config", "check", "--config", str(config))
    assert bad.exit_code == 1 and "site" in bad.output and "control characters" in bad.output


def test_score_json_keeps_the_spec_shape(tmp_path: Path, workbook: Callable[..., Path]) -> None:
    survey = workbook("s.xlsx", [TABLE_HEADER, [1, "Acme", "C1", "2024-05-02", *OK, None]])
    got = run("score", str(survey), "--site", "Suzhou", "--json", "--db", str(tmp_path / "c.db"))
    doc = json.loads(got.stdout)
    assert set(doc) == {"period", "scored", "rejected", "skipped", "notices", "summary"}
    assert set(doc["scored"][0]) == {
        "customer", "customer_code", "period", "date", "total", "grade", "complete", "items",
        "flags", "comments", "source",
    }  # fmt: skip


def test_a_store_without_sites_is_migrated_and_reports_without_the_column(
    tmp_path: Path, workbook: Callable[..., Path]
) -> None:
    survey = workbook("s.xlsx", [TABLE_HEADER, [1, "Acme", "C1", "2024-05-02", *OK, None]])
    db = tmp_path / "c.db"
    assert run("score", str(survey), "--db", str(db)).exit_code == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT site FROM imports").fetchall() == [("",)]
    doc = report(db, tmp_path / "r")
    assert doc["site"] is None
    assert rows(Path(doc["workbook"]), "Scores")[0][:3] == ("Customer", "Code", "Period")


def test_site_folder_is_a_safe_distinct_name() -> None:
    assert site_folder("Suzhou") == "site-Suzhou"
    assert site_folder("深圳") == "site-深圳"
    a, b = site_folder("A/B"), site_folder("A_B")
    assert a != b and "/" not in a and a.startswith("site-A_B-")
    assert site_folder("..") not in ("site-..", "site-")
    assert site_folder("capa") != "capa"


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed")
def test_the_site_column_prints(two_sites: Path, tmp_path: Path) -> None:
    """The scores sheet with the site column, printed by LibreOffice: the site names are on
    the page beside the customers."""
    doc = report(two_sites, tmp_path / "reports")
    pdf_dir = tmp_path / "pdf"
    env = {**os.environ, "HOME": str(tmp_path)}
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path / 'lo'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(pdf_dir),
            doc["workbook"],
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env=env,
    )
    pdf = pdf_dir / "csat-2024H1.pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    line = next(x for x in text.splitlines() if "Beta GmbH" in x and "C2003" in x)
    assert "深圳 Plant" in line
    assert any("Suzhou" in x and "C1003" in x for x in text.splitlines())
