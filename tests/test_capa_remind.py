"""`csat capa remind` for cron: per department, due within N working days or overdue, a
reminder text from the templates, exit 3 when any is overdue."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import DATA, ROOT
from typer.testing import CliRunner

from csat.cli import app
from csat.config import load_rules
from csat.periods import parse_period
from csat.pipeline import record_outcomes
from csat.report import build_report
from csat.store import Store

runner = CliRunner()


@pytest.fixture
def db(db: Path, tmp_path: Path) -> Path:
    """The samples' H1 CAPAs, issued Monday 2024-07-15, due Monday 2024-07-29; on SQLite and
    on PostgreSQL (tests/pg.py)."""
    loaded = load_rules(ROOT / "config" / "weights.yaml")
    path = db
    with Store.open(path) as store:
        list(
            record_outcomes(
                [str(DATA)], loaded, store, datetime(2024, 7, 1), parse_period("2024H1")
            )
        )
        build_report(
            store, parse_period("2024H1"), loaded, tmp_path / "out", "zh", date(2024, 7, 15)
        )
    return path


def remind(db: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["capa", "remind", "--db", str(db), *args])


def test_due_soon_per_department_with_a_reminder_each(db: Path) -> None:
    # Friday 26 July: the 29th is the next working day
    result = remind(db, "--date", "2024-07-26", "--within", "1", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [r["department"] for r in doc] == ["logistics", "production_control", "quality", "sales"]
    logistics = doc[0]
    assert all(c["working_days_left"] == 1 and c["days_late"] == 0 for c in logistics["capas"])
    assert logistics["reminder"].startswith("仓储部:")
    assert f"{logistics['capas'][0]['number']} " in logistics["reminder"]
    assert "还剩1个工作日" in logistics["reminder"] and "包装运输 不满意" in logistics["reminder"]
    # not yet within 0 working days: nothing to remind, and a line that says so
    quiet = remind(db, "--date", "2024-07-26", "--within", "0")
    assert quiet.exit_code == 0 and "No open CAPA is due" in quiet.stdout


def test_overdue_exits_3_and_closed_ones_are_not_reminded(db: Path) -> None:
    capas = json.loads(runner.invoke(app, ["capa", "list", "--json", "--db", str(db)]).stdout)
    logistics = [c["number"] for c in capas if c["department"] == "logistics"]
    closed = runner.invoke(
        app,
        [
            "capa",
            "close",
            logistics[0],
            "--action",
            "new cartons",
            "--date",
            "2024-07-20",
            "--db",
            str(db),
        ],
    )
    assert closed.exit_code == 0, closed.output
    result = remind(db, "--date", "2024-07-31", "--department", "Logistics", "--lang", "en")
    assert result.exit_code == 3, result.output
    assert logistics[0] not in result.stdout and logistics[1] in result.stdout
    assert "Logistics:" in result.stdout and "2 days overdue" in result.stdout
    assert remind(db, "--department", "nope").exit_code == 2


def test_remind_has_help_with_an_example() -> None:
    result = runner.invoke(app, ["capa", "remind", "--help"])
    assert result.exit_code == 0 and "Example" in result.stdout


def test_a_reminder_template_in_the_working_folder_overrides_the_packaged_one(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    custom = tmp_path / "work" / "templates" / "capa"
    custom.mkdir(parents=True)
    (custom / "reminder.en.txt.j2").write_text(
        "OUR TEXT {{ department }}: {% for c in capas %}{{ c.number }} {% endfor %}",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path / "work")
    result = remind(db, "--date", "2024-07-30", "--lang", "en", "--json")
    assert result.exit_code == 3
    doc = json.loads(result.stdout)
    assert doc[0]["reminder"].startswith("OUR TEXT Logistics: CAPA-2024H1-")
