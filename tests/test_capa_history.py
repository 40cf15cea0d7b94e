"""The CAPA history an auditor reads: every step kept with its date, text and who; the state
derived from it; impossible steps refused with nothing changed; schema-5 stores carried over."""

from __future__ import annotations

import getpass
import json
import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import DATA, ROOT
from pg import integrity_errors, query
from typer.testing import CliRunner

from csat.cli import app
from csat.config import load_rules
from csat.periods import parse_period
from csat.pipeline import record_outcomes
from csat.report import build_report
from csat.store import MIGRATIONS, Store

runner = CliRunner()
H1 = parse_period("2024H1")
ISSUED = "2024-07-15"  # the report date: every CAPA is issued that day, due 2024-07-29


@pytest.fixture
def db(db: Path, tmp_path: Path) -> Path:
    """A store with the CAPAs of a report, on SQLite and on PostgreSQL (tests/pg.py)."""
    loaded = load_rules(ROOT / "config" / "weights.yaml")
    with Store.open(db) as store:
        list(record_outcomes([str(DATA)], loaded, store, datetime(2024, 7, 1), H1))
        build_report(store, H1, loaded, tmp_path / "out", "zh", date.fromisoformat(ISSUED))
    return db


def run(db: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["capa", *args, "--db", str(db)])


def first(db: Path) -> str:
    result = run(db, "list", "--json")
    return str(json.loads(result.stdout)[0]["number"])


def shown(db: Path, number: str) -> dict:  # type: ignore[type-arg]
    result = run(db, "show", number, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def snapshot(db: Path) -> list[tuple]:  # type: ignore[type-arg]
    return [
        *query(db, "SELECT * FROM capas ORDER BY number"),
        *query(db, "SELECT * FROM capa_events ORDER BY id"),
    ]


def test_every_step_is_kept_and_the_state_is_the_last_one(db: Path) -> None:
    n = first(db)
    steps = [
        ("close", "--action", "8D: 改进包装", "2024-07-20", "王工"),
        ("verify", "--note", "三批无破损", "2024-08-20", "李经理"),
        ("reopen", "--reason", "damage again", "2024-09-01", "李经理"),
        ("close", "--action", "second try: foam corners", "2024-09-10", "王工"),
    ]
    for step, option, text, day, by in steps:
        result = run(db, step, n, option, text, "--date", day, "--by", by)
        assert result.exit_code == 0, result.output
    c = shown(db, n)
    assert [(e["step"], e["date"], e["by"], e["text"]) for e in c["history"]] == [
        ("issued", ISSUED, "csat report", None),
        ("closed", "2024-07-20", "王工", "8D: 改进包装"),
        ("verified", "2024-08-20", "李经理", "三批无破损"),
        ("reopened", "2024-09-01", "李经理", "damage again"),
        ("closed", "2024-09-10", "王工", "second try: foam corners"),
    ]
    # The state is the current cycle: the first action and the old note are history only.
    assert (c["status"], c["action"], c["closed_on"], c["note"], c["verified_on"]) == (
        "closed",
        "second try: foam corners",
        "2024-09-10",
        None,
        None,
    )
    # when each was entered stays visible beside the date given with --date
    assert c["history"][0]["recorded_at"] is None  # the report's own step
    entered = [datetime.fromisoformat(e["recorded_at"]) for e in c["history"][1:]]
    assert all(e.tzinfo is not None and e.date() > date(2024, 9, 10) for e in entered)
    text = run(db, "show", n).stdout
    assert text.count("(entered ") == 4  # all four were backdated
    for expected in ("History", "2024-08-20", "三批无破损", "second try", "李经理"):
        assert expected in text
    assert "{" not in text  # a timeline, not a Python dict


def test_by_defaults_to_the_login_name(db: Path) -> None:
    n = first(db)
    assert run(db, "close", n, "--action", "done", "--date", "2024-07-16").exit_code == 0
    assert shown(db, n)["history"][-1]["by"] == getpass.getuser()


def test_the_history_cannot_be_edited_or_deleted(db: Path) -> None:
    before = snapshot(db)
    with pytest.raises(integrity_errors(), match="append-only"):
        query(db, "UPDATE capa_events SET text = 'rewritten'")
    with pytest.raises(integrity_errors(), match="append-only"):
        query(db, "DELETE FROM capa_events")
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["close", "{n}", "--action", ""], "--action is empty"),
        (["close", "{n}", "--action", "  \t "], "--action is empty"),
        (["close", "{closed}", "--action", "x"], "status is closed"),
        (["verify", "{closed}", "--note", " "], "--note is empty"),
        (["reopen", "{closed}", "--reason", ""], "--reason is empty"),
        (["close", "{n}", "--action", "x", "--by", " "], "--by is empty"),
        (["close", "{n}", "--action", "x", "--date", "2024-07-14"], "it was issued on 2024-07-15"),
        (["verify", "{closed}", "--note", "x", "--date", "2024-07-19"], "dated 2024-07-20"),
        (["reopen", "{closed}", "--reason", "x", "--date", "2024-07-19"], "dated 2024-07-20"),
        (["close", "{n}", "--action", "x", "--date", "2098-01-01"], "after today"),
    ],
)
def test_what_cannot_be_true_is_refused_and_changes_nothing(
    db: Path, args: list[str], message: str
) -> None:
    numbers = [c["number"] for c in json.loads(run(db, "list", "--json").stdout)]
    closed = run(db, "close", numbers[1], "--action", "done", "--date", "2024-07-20")
    assert closed.exit_code == 0, closed.output
    before = snapshot(db)
    result = run(db, *(a.format(n=numbers[0], closed=numbers[1]) for a in args))
    assert result.exit_code == 1, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "--department", "nope"], "unknown department 'nope'"),
        (["list", "--verdict", "good"], "unknown verdict 'good'"),
        (["list", "--status", "done"], "unknown status 'done'"),
    ],
)
def test_unknown_filters_are_usage_errors(db: Path, args: list[str], message: str) -> None:
    before = snapshot(db)
    result = run(db, *args)
    assert result.exit_code == 2 and message in result.stderr
    assert "业务部" in result.stderr or "department" not in message
    assert snapshot(db) == before


def _schema5(path: Path) -> None:
    """A store as csat wrote it before the history existed (schema 5), with a CAPA in each
    state that schema could hold."""
    conn = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:5]:
        assert isinstance(script, str)
        for statement in script.split(";\n"):
            if statement.strip():
                conn.execute(statement)
    conn.execute("PRAGMA user_version = 5")
    conn.execute(f"PRAGMA application_id = {0x43534154}")
    flags = '[{"type": "dissatisfied_item", "item": "packaging", "level": "dissatisfied"}]'
    rows = [
        ("001", "open", None, None, None, None, None, None, None),
        ("002", "closed", "packing changed", "2024-07-20", None, None, None, None, None),
        ("003", "verified", "8D", "2024-07-20", "2024-08-01", "3 lots ok", None, None, None),
        ("004", "reopened", "first try", None, None, "3 lots ok", "damage again", None, None),
        (
            "005",
            "closed",
            "packing changed",
            "2024-07-20",
            None,
            None,
            None,
            "ineffective",
            '{"period": "2024H2", "ratings": {"packaging": "dissatisfied"}, "total": 80.0}',
        ),
    ]
    for n, status, action, closed, verified, note, reason, verdict, evidence in rows:
        conn.execute(
            "INSERT INTO capas VALUES (?, '2024H1', ?, 'Kunde', NULL, 'logistics', ?, NULL, "
            "'2024-07-15', '2024-07-29', ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (f"CAPA-2024H1-{n}", f"name:k{n}", flags, status, action, closed, verified)
            + (note, reason, verdict, evidence),
        )
    conn.close()


def test_a_schema_5_store_is_carried_over_without_loss(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _schema5(path)
    with Store.open(path) as store:
        capas = {c.number[-3:]: c for c in store.capas()}
    steps = {
        n: [(e.step, e.on and e.on.isoformat(), e.text) for e in c.history]
        for n, c in capas.items()
    }
    assert steps["001"] == [("issued", ISSUED, None)]
    assert steps["002"] == [("issued", ISSUED, None), ("closed", "2024-07-20", "packing changed")]
    assert steps["003"] == [
        ("issued", ISSUED, None),
        ("closed", "2024-07-20", "8D"),
        ("verified", "2024-08-01", "3 lots ok"),
    ]
    # schema 5 had cleared the dates of a reopened CAPA: carried over as not recorded
    assert steps["004"] == [
        ("issued", ISSUED, None),
        ("closed", None, "first try"),
        ("verified", None, "3 lots ok"),
        ("reopened", None, "damage again"),
    ]
    assert [(c.status, c.action, c.note, c.reopen_reason) for c in capas.values()] == [
        ("open", None, None, None),
        ("closed", "packing changed", None, None),
        ("verified", "8D", "3 lots ok", None),
        ("reopened", "first try", None, "damage again"),  # the action that did not work
        ("reopened", "packing changed", None, "ineffective: see the verdict"),
    ]
    # an ineffective verdict now reopens the CAPA it judged
    assert capas["005"].effectiveness == "ineffective"
    assert capas["005"].evidence == {
        "period": "2024H2",
        "ratings": {"packaging": "dissatisfied"},
        "total": 80.0,
    }
    with sqlite3.connect(path) as conn:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(capas)")}
    assert "status" not in columns and "action" not in columns  # the state lives in the history
