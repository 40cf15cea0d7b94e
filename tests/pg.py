"""A throwaway PostgreSQL cluster for the tests (and benchmarks/run.py): `initdb` + `pg_ctl` in a
temporary folder, on a free local port, with its socket in that folder; no system service.

The store tests run on both backends through the `db` fixture: an SQLite file, or a fresh
PostgreSQL database per test. PostgreSQL is skipped only when its server binaries (or psycopg)
are missing, and never under CI=true: there that is a failure.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

USER = "csat"


def server_bin() -> Path | None:
    """The folder of initdb/pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<version>/bin
    (the newest)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A PostgreSQL server of our own. initdb refuses to run as root: then the server runs as
    `nobody` (runuser), in a folder given to it."""

    def __init__(self, bindir: Path, fast: bool = True) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="csat-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.fast = fast  # no fsync: a test cluster need not survive a power cut
        self._names = itertools.count(1)
        self._as: list[str] = []
        if os.geteuid() == 0:
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, "nobody")
            self._as = ["runuser", "-u", "nobody", "--"]

    def _run(self, *args: str) -> None:
        proc = subprocess.run(
            [*self._as, *args], capture_output=True, text=True, cwd=self.root, check=False
        )
        if proc.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stdout}{proc.stderr}\n{tail}")

    def start(self) -> Cluster:
        # a default collation that is not byte order (a > B), as on many real servers: csat's
        # text columns must still sort as on SQLite (ICU needs PostgreSQL 15; older: C only)
        usage = subprocess.run(
            [str(self.bindir / "initdb"), "--help"], capture_output=True, text=True, check=False
        ).stdout
        icu = ["--locale-provider=icu", "--icu-locale=en-US"] if "locale-provider" in usage else []
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            *icu,
            "--no-sync",
        )
        # csat (the superuser) by trust; other roles by password, to test a refused login
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\n"
            f"host all {USER} 127.0.0.1/32 trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        if self.fast:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "start",
        )
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; its URL."""
        import psycopg

        name = f"{prefix}{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}".encode())
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _unavailable(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required under CI=true: {why}")
    pytest.skip(f"PostgreSQL not available: {why}")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    bindir = server_bin()
    if bindir is None:
        _unavailable("no initdb/pg_ctl (Debian: apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install -e '.[test]')")
    assert bindir is not None
    cluster = Cluster(bindir).start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where a test's store lives: an SQLite file (not yet made), or a new PostgreSQL
    database (empty)."""
    if request.param == "sqlite":
        return tmp_path / "h.db"
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database()


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> str:
    """A new empty PostgreSQL database."""
    return pg_cluster.create_database()


def is_pg(db: str | Path) -> bool:
    return isinstance(db, str) and db.startswith("postgresql://")


def query(db: str | Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of one SQL statement run straight on the database, as a user's own client would
    (`?` placeholders on both backends)."""
    if is_pg(db):
        import psycopg

        with psycopg.connect(str(db), autocommit=True) as conn:
            cur = conn.execute(sql.replace("?", "%s").encode(), list(params) or None)
            return [tuple(r) for r in cur.fetchall()] if cur.description else []
    with sqlite3.connect(db) as conn:
        rows = conn.execute(sql, params).fetchall()
    conn.close()
    return rows


def integrity_errors() -> tuple[type[Exception], ...]:
    """What a refused write raises in a user's own client, on either backend."""
    try:
        import psycopg
    except ImportError:
        return (sqlite3.IntegrityError,)
    return (sqlite3.IntegrityError, psycopg.IntegrityError)


def count(db: str | Path, table: str) -> int:
    return int(query(db, f"SELECT count(*) FROM {table}")[0][0])
