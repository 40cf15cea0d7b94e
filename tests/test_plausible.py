"""Issue 10.2: one typo (a reply dated 0224/6/12, --period 0224H1) never breaks the store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import DATA
from typer.testing import CliRunner

from csat.cli import app

runner = CliRunner()


def test_an_implausible_period_is_a_usage_error(tmp_path: Path) -> None:
    for period in ("0224H1", "2224H1"):
        result = runner.invoke(
            app, ["score", str(DATA / "returned-form-zh-苏州科创.xlsx"), "--period", period]
        )
        assert result.exit_code == 2, result.output
        assert "plausible" in result.stderr
    assert not (tmp_path / "csat.db").exists()


def test_a_bad_period_already_in_a_store_never_stops_another_report(tmp_path: Path) -> None:
    db = tmp_path / "csat.db"
    scored = runner.invoke(app, ["score", str(DATA), "--period", "2024H1", "--db", str(db)])
    assert scored.exit_code == 3, scored.output  # F17 is rejected, the rest recorded
    with sqlite3.connect(db) as conn:  # what an older csat let in from a typo
        conn.execute("UPDATE responses SET period = '224H1' WHERE customer LIKE '苏州%'")
    out = tmp_path / "reports"
    report = runner.invoke(
        app,
        [
            "report",
            "--period",
            "2024H1",
            "--db",
            str(db),
            "--out",
            str(out),
            "--date",
            "2024-07-15",
        ],
    )
    assert report.exit_code == 0, report.output
    chase = runner.invoke(
        app, ["chase", "--period", "2024H1", "--db", str(db), "--date", "2024-07-15"]
    )
    assert chase.exit_code == 0, chase.output
