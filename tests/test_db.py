"""`csat db migrate` and `csat db check` on both backends, the errors a PostgreSQL URL can meet
(no server, a bad URL, a refused login: a message, never a traceback or the password), and CAPA
numbers that stay unique when two reports run at once."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from conftest import DATA, ROOT
from pg import Cluster, is_pg, query
from typer.testing import CliRunner

from csat.cli import app
from csat.config import load_rules
from csat.periods import parse_period
from csat.pipeline import record_outcomes
from csat.store import SCHEMA_VERSION, Store

runner = CliRunner()


def db_cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["db", *args])
    return result.exit_code, result.stdout, result.stderr


def test_migrate_creates_then_finds_the_store_up_to_date(db: str | Path) -> None:
    code, out, _ = db_cli("migrate", "--db", str(db))
    assert code == 0 and f"created at schema {SCHEMA_VERSION}" in out
    code, out, _ = db_cli("migrate", "--db", str(db), "--json")
    assert code == 0
    assert json.loads(out)["schema_found"] == SCHEMA_VERSION
    code, out, _ = db_cli("check", "--db", str(db), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["ok"] and doc["schema"] == SCHEMA_VERSION
    assert doc["backend"] == ("postgresql" if is_pg(db) else "sqlite")
    code, out, _ = db_cli("check", "--db", str(db))
    assert code == 0 and "up to date" in out and "integrity: ok" in out


def test_check_finds_what_is_broken(db: str | Path) -> None:
    Store.open(db).close()
    if is_pg(db):
        query(db, "DROP TRIGGER capa_events_no_update ON capa_events")
        expected = "trigger capa_events_no_update is missing"
    else:
        conn = sqlite3.connect(db)  # foreign keys are off in a plain client
        conn.execute("INSERT INTO ratings VALUES (99, 'quality', 'satisfied', 'A1')")
        conn.commit()
        conn.close()
        expected = "ratings row"
    code, _, err = db_cli("check", "--db", str(db))
    assert code == 1 and expected in err and "Traceback" not in err


def test_check_and_migrate_of_nothing(tmp_path: Path, pg_url: str) -> None:
    code, _, err = db_cli("check", "--db", str(tmp_path / "none.db"))
    assert code == 1 and "no database at" in err
    assert not (tmp_path / "none.db").exists()
    code, _, err = db_cli("check", "--db", pg_url)
    assert code == 1 and "no csat store in" in err
    assert query(pg_url, "SELECT count(*) FROM information_schema.tables "
                 "WHERE table_schema = 'public'") == [(0,)]  # fmt: skip


def test_an_older_store_is_checked_as_it_is_and_migrated_on_request(db: str | Path) -> None:
    Store.open(db).close()
    # as schema 9 left it
    query(db, "ALTER TABLE imports DROP COLUMN site")
    if is_pg(db):
        query(db, "UPDATE csat_schema SET version = 9")
        columns = "SELECT column_name FROM information_schema.columns WHERE table_name = 'imports'"
    else:
        query(db, "PRAGMA user_version = 9")
        columns = "SELECT name FROM pragma_table_info('imports')"
    code, out, _ = db_cli("check", "--db", str(db))
    assert code == 0 and "schema 9" in out and "csat db migrate" in out
    assert "site" not in {c for (c,) in query(db, columns)}  # checking changed nothing
    code, out, _ = db_cli("migrate", "--db", str(db))
    assert code == 0 and f"migrated from schema 9 to {SCHEMA_VERSION}" in out
    assert "site" in {c for (c,) in query(db, columns)}
    with Store.open(db) as store:
        assert store.schema_version == SCHEMA_VERSION


def test_a_newer_postgresql_store_is_refused_by_migrate_unchanged(pg_url: str) -> None:
    Store.open(pg_url).close()
    query(pg_url, "UPDATE csat_schema SET version = ?", (SCHEMA_VERSION + 1,))
    code, _, err = db_cli("migrate", "--db", pg_url)
    assert code == 1 and "newer csat" in err
    assert query(pg_url, "SELECT version FROM csat_schema") == [(SCHEMA_VERSION + 1,)]


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_postgresql_errors_are_messages_without_the_password(pg_cluster: Cluster) -> None:
    query(pg_cluster.url(), "CREATE ROLE analyst LOGIN PASSWORD 'right-one'")
    target = pg_cluster.create_database()
    name = target.rsplit("/", 1)[1]
    query(pg_cluster.url(), f"ALTER DATABASE {name} OWNER TO analyst")  # createdb -O analyst
    port = pg_cluster.port
    cases = [
        (f"postgresql://csat:s3cret@127.0.0.1:{_closed_port()}/x", "cannot reach"),
        ("postgresql://csat:s3cret@127.0.0.1:no-port/x", "not a usable PostgreSQL URL"),
        (f"postgresql://analyst:s3cret@127.0.0.1:{port}/{name}", "cannot log in"),
        (f"postgresql://csat@127.0.0.1:{port}/x?password=s3cret&sslmode=nope", "sslmode"),
        (f"postgresql://csat:s3cret@127.0.0.1:{port}/nosuch", "createdb"),
    ]
    for url, message in cases:
        for command in (["db", "check"], ["db", "migrate"], ["imports", "list"]):
            result = runner.invoke(app, [*command, "--db", url])
            assert result.exit_code == 1, (url, result.output)
            assert message in result.stderr, (url, result.stderr)
            assert "s3cret" not in result.output and "Traceback" not in result.output
    # a login that may not create tables in the database
    query(pg_cluster.url(), "CREATE ROLE visitor LOGIN PASSWORD 'v-pass'")
    visitor = f"postgresql://visitor:v-pass@127.0.0.1:{port}/{name}"
    code, _, err = db_cli("migrate", "--db", visitor)
    assert code == 1 and "permission denied" in err and "createdb -O" in err
    assert "v-pass" not in err and "Traceback" not in err
    # the right password works
    right = f"postgresql://analyst:right-one@127.0.0.1:{port}/{name}"
    code, out, err = db_cli("migrate", "--db", right)
    assert code == 0, err
    assert "right-one" not in out and f"analyst@127.0.0.1:{port}/{name}" in out


def test_capa_numbers_stay_unique_when_two_reports_run_at_once(
    db: str | Path, tmp_path: Path
) -> None:
    loaded = load_rules(ROOT / "config" / "weights.yaml")
    with Store.open(db) as store:
        list(
            record_outcomes(
                [str(DATA / "consolidated-2024H1.xlsx")],
                loaded,
                store,
                datetime(2024, 7, 1),
                parse_period("2024H1"),
            )
        )
    env = {**os.environ, "CSAT_DB": str(db)}
    cmd = [sys.executable, "-m", "csat", "report", "--period", "2024H1", "--date", "2024-07-15"]
    logs = [tmp_path / f"log{i}.txt" for i in range(2)]
    with logs[0].open("w") as log0, logs[1].open("w") as log1:
        procs = [
            subprocess.Popen([*cmd, "--out", str(tmp_path / f"out{i}")], env=env, stdout=log,
                             stderr=log)
            for i, log in enumerate((log0, log1))
        ]  # fmt: skip
        codes = [p.wait() for p in procs]
    assert codes == [0, 0], [log.read_text()[-800:] for log in logs]
    numbers = [n for (n,) in query(db, "SELECT number FROM capas ORDER BY number")]
    assert numbers == [f"CAPA-2024H1-{i:03d}" for i in range(1, len(numbers) + 1)]
    assert len(numbers) == len(
        {(p, k, d) for p, k, d in query(db, "SELECT period, customer_key, department FROM capas")}
    )
    issued = query(db, "SELECT count(*) FROM capa_events WHERE step = 'issued'")
    assert issued == [(len(numbers),)]
