"""Following CAPAs from the command line: list, show, close, verify, reopen."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import DATA, ROOT
from pg import query
from typer.testing import CliRunner

from csat.cli import app
from csat.config import load_rules
from csat.periods import parse_period
from csat.pipeline import record_outcomes
from csat.report import build_report
from csat.store import Store

runner = CliRunner()
H1 = parse_period("2024H1")


@pytest.fixture
def db(db: Path, tmp_path: Path) -> Path:
    """The samples' CAPAs, on SQLite and on PostgreSQL (tests/pg.py)."""
    loaded = load_rules(ROOT / "config" / "weights.yaml")
    path = db
    with Store.open(path) as store:
        list(record_outcomes([str(DATA)], loaded, store, datetime(2024, 7, 1), H1))
        build_report(store, H1, loaded, tmp_path / "out", "zh", date(2024, 7, 15))
    return path


def run(db: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["capa", *args, "--db", str(db)])


def listed(db: Path, *args: str) -> list[dict]:  # type: ignore[type-arg]
    result = run(db, "list", "--json", *args)
    assert result.exit_code in (0, 3), result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def snapshot(db: Path) -> list[tuple]:  # type: ignore[type-arg]
    return query(db, "SELECT * FROM capas ORDER BY number") + query(
        db, "SELECT * FROM capa_events ORDER BY id"
    )


def test_lifecycle_open_closed_verified_reopened(db: Path) -> None:
    number = listed(db)[0]["number"]
    closed = run(db, "close", number, "--action", "8D: 改进包装", "--date", "2024-07-20")
    assert closed.exit_code == 0, closed.output
    verified = run(db, "verify", number, "--note", "三批无破损", "--date", "2024-08-20")
    assert verified.exit_code == 0
    shown = json.loads(run(db, "show", number, "--json").stdout)
    assert (shown["status"], shown["action"], shown["closed_on"], shown["verified_on"]) == (
        "verified",
        "8D: 改进包装",
        "2024-07-20",
        "2024-08-20",
    )
    reopened = run(db, "reopen", number, "--reason", "damage again", "--date", "2024-09-01")
    assert reopened.exit_code == 0
    shown = json.loads(run(db, "show", number, "--json").stdout)
    assert (shown["status"], shown["reopen_reason"], shown["closed_on"]) == (
        "reopened",
        "damage again",
        None,
    )
    assert run(db, "close", number, "--action", "second try").exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["close", "CAPA-2099H1-001", "--action", "x"], "no CAPA numbered"),
        (["verify", "{open}", "--note", "x"], "only a closed CAPA can be verified"),
        (["reopen", "{open}", "--reason", "x"], "it is still open"),
        (["close", "{verified}", "--action", "again"], "status is verified"),
    ],
)
def test_refused_steps_exit_1_and_change_nothing(db: Path, args: list[str], message: str) -> None:
    numbers = [c["number"] for c in listed(db)]
    run(db, "close", numbers[1], "--action", "done")
    run(db, "verify", numbers[1], "--note", "checked")
    before = snapshot(db)
    args = [a.format(open=numbers[0], verified=numbers[1]) for a in args]
    result = run(db, *args)
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.output
    assert snapshot(db) == before


def test_list_filters_and_overdue_exit_code_for_cron(db: Path) -> None:
    everything = listed(db)
    sales = listed(db, "--department", "业务部")
    assert sales and all(c["department"] == "sales" for c in sales)
    assert listed(db, "--department", "Sales") == sales
    assert listed(db, "--period", "2024H1") == everything
    assert run(db, "list", "--overdue", "--date", "2024-07-29").exit_code == 0  # due today
    late = run(db, "list", "--overdue", "--date", "2024-07-30")
    assert late.exit_code == 3 and "overdue" in late.stdout
    run(db, "close", everything[0]["number"], "--action", "done")
    still = listed(db, "--overdue", "--date", "2024-07-30")
    assert len(still) == len(everything) - 1
    assert listed(db, "--status", "closed")[0]["number"] == everything[0]["number"]
    assert run(db, "list", "--status", "done").exit_code == 2


def test_capa_commands_have_help_with_examples() -> None:
    for command in ("list", "show", "close", "verify", "reopen"):
        result = runner.invoke(app, ["capa", command, "--help"])
        assert result.exit_code == 0 and "Example" in result.stdout, command
