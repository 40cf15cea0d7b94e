"""Issue 10.9: `csat imports list` and `csat imports remove N` undo a wrong import with what it
caused, refuse when a CAPA from it has moved on, and note it in the store's history."""

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
CONSOLIDATED = DATA / "consolidated-2024H1.xlsx"


@pytest.fixture
def db(db: Path, tmp_path: Path) -> Path:
    """The samples recorded one file per import, and a report that issued their CAPAs; on
    SQLite and on PostgreSQL (tests/pg.py)."""
    loaded = load_rules(ROOT / "config" / "weights.yaml")
    path = db
    with Store.open(path) as store:
        for sample in sorted(DATA.glob("*.xlsx")):
            list(record_outcomes([str(sample)], loaded, store, datetime(2024, 7, 1), H1))
        build_report(store, H1, loaded, tmp_path / "out", "zh", date(2024, 7, 15))
    return path


def rows(db: Path, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    return query(db, sql)


def imports(db: Path) -> list[dict]:  # type: ignore[type-arg]
    result = runner.invoke(app, ["imports", "list", "--json", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_list_shows_each_import_with_what_it_recorded(db: Path) -> None:
    listed = imports(db)
    assert [Path(i["path"]).name for i in listed] == [p.name for p in sorted(DATA.glob("*.xlsx"))]
    consolidated = next(i for i in listed if i["path"] == str(CONSOLIDATED))
    assert (consolidated["responses"], consolidated["rejections"]) == (29, 1)
    assert consolidated["periods"] == ["2024H1"] and len(consolidated["sha256"]) == 64
    human = runner.invoke(app, ["imports", "list", "--db", str(db)])
    assert "consolidated-2024H1.xlsx" in human.stdout and "29" in human.stdout


def test_remove_takes_responses_rejections_and_the_open_capas_it_caused(db: Path) -> None:
    number = next(i["id"] for i in imports(db) if i["path"] == str(CONSOLIDATED))
    capas_before = rows(db, "SELECT number, customer_key FROM capas")
    from_it = {
        k for (k,) in rows(db, f"SELECT customer_key FROM responses WHERE import_id = {number}")
    }
    result = runner.invoke(app, ["imports", "remove", str(number), "--json", "--db", str(db)])
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)
    assert done["import"]["responses"] == 29
    assert sorted(done["capas_removed"]) == sorted(n for n, k in capas_before if k in from_it)
    assert rows(db, f"SELECT count(*) FROM responses WHERE import_id = {number}") == [(0,)]
    assert rows(db, f"SELECT count(*) FROM rejections WHERE import_id = {number}") == [(0,)]
    assert rows(
        db, "SELECT count(*) FROM ratings WHERE response_id NOT IN (SELECT id FROM responses)"
    ) == [(0,)]
    assert {n for (n,) in rows(db, "SELECT number FROM capas")} == {
        n for n, k in capas_before if k not in from_it
    }
    [(event, path, detail)] = rows(db, "SELECT event, path, detail FROM import_history")
    assert (event, path) == ("removed", str(CONSOLIDATED)) and '"responses":29' in detail
    # the file can be imported again, and counts as it did
    again = runner.invoke(app, ["score", str(CONSOLIDATED), "--period", "2024H1", "--db", str(db)])
    assert again.exit_code == 3 and "29 recorded" in again.stdout


def test_remove_is_refused_when_a_capa_from_it_has_moved_on(db: Path) -> None:
    number = next(i["id"] for i in imports(db) if i["path"] == str(CONSOLIDATED))
    [(capa,)] = rows(
        db,
        "SELECT c.number FROM capas c WHERE c.customer_key IN (SELECT customer_key FROM "
        f"responses WHERE import_id = {number}) ORDER BY c.number LIMIT 1",
    )
    closed = runner.invoke(app, ["capa", "close", capa, "--action", "8D", "--db", str(db)])
    assert closed.exit_code == 0, closed.output
    before = rows(db, "SELECT count(*) FROM responses"), rows(db, "SELECT * FROM capas")
    result = runner.invoke(app, ["imports", "remove", str(number), "--db", str(db)])
    assert result.exit_code == 1
    assert (
        capa in result.stderr
        and "closed" in result.stderr
        and "nothing was removed" in result.stderr
    )
    assert (rows(db, "SELECT count(*) FROM responses"), rows(db, "SELECT * FROM capas")) == before


def test_remove_an_unknown_import(db: Path) -> None:
    result = runner.invoke(app, ["imports", "remove", "999", "--db", str(db)])
    assert result.exit_code == 1 and "no import #999" in result.stderr
