"""The history store (SPEC §5): one SQLite file, schema versions through PRAGMA user_version;
or a PostgreSQL database (`--db postgresql://…`, csat/store_postgres.py) with the same schema,
migrations, queries and guarantees, for several sites recording into one history.

Every import is one transaction: a file is either recorded whole or not at all (Ctrl-C, kill or
a crash roll it back). Writers take the lock up front (BEGIN IMMEDIATE) and wait for each other
(WAL, busy timeout), so two cron jobs importing at once both finish, nothing lost or doubled.
Superseded responses are never deleted: which response counts is derived by a view.
"""

from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple, cast

import orjson

from csat.capa import CapaEvent, CapaPlan, CapaState, check_step, derive, repeat_links
from csat.customers import Customer
from csat.errors import CsatError, UsageError
from csat.models import Flag, Notice, Rejection, Response, ScoredResponse, Skipped, Source
from csat.periods import Period, parse_period
from csat.text import normalize

APPLICATION_ID = 0x43534154  # "CSAT": marks a database as ours
BUSY_TIMEOUT_MS = 600_000  # a second cron job waits for the first rather than failing

MIGRATIONS: list[str | Callable[[sqlite3.Connection], None]] = [
    # 1: the first schema
    """
    CREATE TABLE rules (
        sha256 TEXT PRIMARY KEY,
        content TEXT NOT NULL,
        first_used TEXT NOT NULL
    );
    CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL UNIQUE,
        imported_at TEXT NOT NULL,
        rules_sha256 TEXT NOT NULL REFERENCES rules,
        period TEXT
    );
    CREATE TABLE period_rules (
        period TEXT PRIMARY KEY,
        rules_sha256 TEXT NOT NULL REFERENCES rules
    );
    CREATE TABLE responses (
        id INTEGER PRIMARY KEY,
        import_id INTEGER NOT NULL REFERENCES imports,
        customer TEXT NOT NULL,
        customer_code TEXT,
        customer_key TEXT NOT NULL,
        period TEXT NOT NULL,
        reply_date TEXT,
        comments TEXT,
        sheet TEXT,
        row INTEGER,
        total REAL NOT NULL,
        grade TEXT NOT NULL,
        complete INTEGER NOT NULL
    );
    CREATE INDEX responses_by_period ON responses (period, customer_key);
    CREATE TABLE ratings (
        response_id INTEGER NOT NULL REFERENCES responses,
        item TEXT NOT NULL,
        level TEXT,
        cell TEXT,
        PRIMARY KEY (response_id, item)
    ) WITHOUT ROWID;
    CREATE TABLE rejections (
        id INTEGER PRIMARY KEY,
        import_id INTEGER NOT NULL REFERENCES imports,
        sheet TEXT,
        cell TEXT,
        reason TEXT NOT NULL
    );
    CREATE VIEW ranked_responses AS
    SELECT r.*, ROW_NUMBER() OVER (
        PARTITION BY r.period, r.customer_key
        ORDER BY r.reply_date IS NULL, r.reply_date DESC, r.id DESC
    ) > 1 AS superseded
    FROM responses r;
    """,
    # 2: corrective actions, one per customer, period and responsible department
    """
    CREATE TABLE capas (
        number TEXT PRIMARY KEY,
        period TEXT NOT NULL,
        customer_key TEXT NOT NULL,
        customer TEXT NOT NULL,
        customer_code TEXT,
        department TEXT NOT NULL,
        flags TEXT NOT NULL,
        comments TEXT,
        issue_date TEXT NOT NULL,
        due_date TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open',
        UNIQUE (period, customer_key, department)
    );
    """,
    # 3: the CAPA lifecycle
    """
    ALTER TABLE capas ADD COLUMN action TEXT;
    ALTER TABLE capas ADD COLUMN closed_on TEXT;
    ALTER TABLE capas ADD COLUMN verified_on TEXT;
    ALTER TABLE capas ADD COLUMN note TEXT;
    ALTER TABLE capas ADD COLUMN reopen_reason TEXT;
    """,
    # 4: effectiveness judged from a later period, and repeat problems
    """
    ALTER TABLE capas ADD COLUMN effectiveness TEXT;
    ALTER TABLE capas ADD COLUMN evidence TEXT;
    ALTER TABLE capas ADD COLUMN repeat_of TEXT REFERENCES capas (number);
    """,
    # 5: survey forms sent, for response rates and chasing
    """
    CREATE TABLE sent_forms (
        period TEXT NOT NULL,
        customer_code TEXT NOT NULL,
        customer TEXT NOT NULL,
        language TEXT NOT NULL,
        region TEXT,
        class TEXT,
        contact TEXT,
        email TEXT,
        file TEXT NOT NULL,
        sent_on TEXT NOT NULL,
        reply_by TEXT NOT NULL,
        PRIMARY KEY (period, customer_code)
    );
    """,
    # 6: the CAPA history, append-only; the state is derived from it (issue 11)
    lambda conn: _capa_history_migration(conn),
    # 7: what happened to imports besides recording them (read again, removed): the audit trail
    """
    CREATE TABLE import_history (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        event TEXT NOT NULL,
        import_id INTEGER NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    """,
    # 8: a reply by name (a sales office's table) counts for the customer code that the sent
    # forms or an earlier reply tie that name to: the name's key, to find such ties
    """
    ALTER TABLE responses ADD COLUMN name_key TEXT;
    UPDATE responses SET name_key = csat_name_key(customer);
    CREATE INDEX responses_by_name ON responses (name_key, customer_code);
    """,
    # 9: the 0-10 answer to a recommend question (NPS), reported beside the score
    """
    ALTER TABLE responses ADD COLUMN recommend INTEGER CHECK (recommend BETWEEN 0 AND 10);
    """,
    # 10: the site (plant) an import was recorded for, several sites sharing one store
    """
    ALTER TABLE imports ADD COLUMN site TEXT NOT NULL DEFAULT '';
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(CsatError):
    """The database cannot be used; nothing in it was changed."""


@dataclass(frozen=True)
class ImportRecord:
    id: int
    path: str
    imported_at: str


@dataclass
class ImportResult:
    """What recording one file did."""

    import_id: int | None
    responses: int = 0
    rejections: int = 0
    already: ImportRecord | None = None


@dataclass(frozen=True)
class ImportSummary:
    """One import as `csat imports list` shows it."""

    id: int
    path: str
    sha256: str
    imported_at: str
    period: str | None  # the --period it was run with
    periods: tuple[str, ...]  # the periods its responses answer
    responses: int
    rejections: int
    site: str = ""  # the site it was recorded for, '' for none

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "path": self.path,
            "sha256": self.sha256,
            "imported_at": self.imported_at,
            "period_option": self.period,
            "periods": list(self.periods),
            "responses": self.responses,
            "rejections": self.rejections,
            "site": self.site,
        }


@dataclass(frozen=True)
class RemovedImport:
    """What `csat imports remove` took away with the import."""

    summary: ImportSummary
    capas_removed: tuple[str, ...]
    capas_kept: tuple[str, ...]  # still backed by a reply of another import
    judgments_reset: tuple[str, ...]  # effectiveness judged from one of its replies

    def as_json(self) -> dict[str, object]:
        return {
            "import": self.summary.as_json(),
            "capas_removed": list(self.capas_removed),
            "capas_kept": list(self.capas_kept),
            "judgments_reset": list(self.judgments_reset),
        }


class ImportInUse(StoreError):
    """The import caused CAPAs that have moved on (closed, verified, reopened)."""


@dataclass
class StoredResponse:
    """A recorded response with the facts needed to score it again."""

    id: int
    response: Response
    superseded: bool
    import_id: int
    customer_key: str = ""  # who the reply counts for (a name may be tied to a code)
    site: str = ""  # the site its import was recorded for, '' for none


@dataclass(frozen=True)
class CapaRecord:
    """A CAPA as issued, its history (oldest step first) and the state derived from it."""

    number: str
    period: str
    customer_key: str
    customer: str
    customer_code: str | None
    department: str
    flags: tuple[Flag, ...]
    comments: str | None
    issue_date: date
    due_date: date
    status: str
    action: str | None = None
    closed_on: date | None = None
    verified_on: date | None = None
    note: str | None = None
    reopen_reason: str | None = None
    effectiveness: str | None = None  # "effective" | "ineffective", judged from a later period
    evidence: dict[str, object] | None = None
    repeat_of: str | None = None
    history: tuple[CapaEvent, ...] = ()

    def overdue(self, today: date) -> bool:
        return self.status in ("open", "reopened") and self.due_date < today

    @property
    def ready_to_verify(self) -> bool:
        """Closed, and the customer's next answer says it worked: verify it."""
        return self.status == "closed" and self.effectiveness == "effective"

    def days_open(self, today: date) -> int:
        """Days from issue to the close that holds now (or to `today` while not closed)."""
        end = self.closed_on if self.status in ("closed", "verified") and self.closed_on else today
        return max(0, (end - self.issue_date).days)


class IssuedCapa(NamedTuple):
    """A CAPA's number and slot, as ensure_capas returns them."""

    number: str
    period: str
    customer_key: str
    department: str


def describe_sqlite_error(path: Path | str, exc: sqlite3.Error) -> str:
    """What a failed write means for the user, and what to do about it."""
    text = str(exc)
    if "malformed" in text or "not a database" in text:
        return f"{path} is damaged ({text}); restore a backup (nothing was changed)"
    if "readonly" in text or "read-only" in text:
        return (
            f"{path} is read-only ({text}): make it writable (chmod u+w, chattr -i) or use "
            "--db for another file; it is unchanged"
        )
    if "disk" in text or "full" in text:
        return (
            f"cannot write {path}: {text} (is its disk full, or the one of TMPDIR?); "
            "it is unchanged"
        )
    return f"cannot use {path}: {text}; it is unchanged"


def customer_key(customer: str, code: str | None) -> str:
    """SPEC §3: the customer code when present, else the normalised name."""
    return f"code:{normalize(code)}" if code else f"name:{normalize(customer)}"


def _file_name(path: str) -> str:
    """The file name a re-sent file keeps, wherever it was saved (case as Windows sees it)."""
    return path.replace("\\", "/").rsplit("/", 1)[-1].casefold()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_db_path() -> Path:
    return Path("csat.db")


def is_postgres(location: Path | str) -> bool:
    """Whether `--db` names a PostgreSQL database (a URL) rather than an SQLite file."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


class Store:
    """An open csat database. Use `Store.open(path)`; close it (or use `with`).

    `conn` is sqlite3's connection, or for PostgreSQL csat.store_postgres.PgConnection, which
    takes the same SQLite-dialect statements."""

    def __init__(
        self, conn: sqlite3.Connection, path: Path, name: str | None = None, found: int = 0
    ) -> None:
        self.conn = conn
        self.path = path  # the SQLite file (for PostgreSQL, a path naming no file)
        self.name = name if name is not None else str(path)  # as messages name the store
        self.found_version = found  # the schema version it had when opened (0: new)
        self.postgres = name is not None

    @classmethod
    def open(cls, path: Path | str, create: bool = True, migrate: bool = True) -> Store:
        """Open (creating or migrating if needed) a csat database, refusing anything else.
        `path` is an SQLite file or a postgresql:// URL; `migrate=False` opens an older schema
        as it is, to check it (csat db check)."""
        if is_postgres(path):
            return cls._open_postgres(str(path), create, migrate)
        path = Path(path)
        existed = path.exists()
        if not existed:
            if not create:
                raise StoreError(f"no database at {path}: record surveys first with csat score")
            _create(path)
        try:
            conn = _connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {path}: {exc}") from None
        try:
            found = _check_and_migrate(conn, path, migrate) if existed else 0
            if not existed:  # made just now, by this process or another one at once
                _check_and_migrate(conn, path)
        except sqlite3.OperationalError as exc:
            conn.close()
            raise StoreError(f"cannot use {path}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            conn.close()
            if "malformed" in str(exc):  # a csat database whose pages are damaged
                raise StoreError(describe_sqlite_error(path, exc)) from None
            raise StoreError(
                f"{path} is not a csat database ({exc}); use --db to choose another"
            ) from None
        except StoreError:
            conn.close()
            raise
        return cls(conn, path, found=found)

    @classmethod
    def _open_postgres(cls, url: str, create: bool, migrate: bool) -> Store:
        from csat import store_postgres as pg

        conn = pg.connect(url)
        try:
            found = pg.schema_version(conn)
            if found is None and not create:
                raise StoreError(
                    f"no csat store in {conn.name}: record surveys first with csat score, "
                    "or create it with csat db migrate"
                )
            if migrate and (found or 0) < SCHEMA_VERSION:
                found = pg.migrate(conn)
        except BaseException:
            conn.close()
            raise
        return cls(cast(sqlite3.Connection, conn), Path(conn.name), conn.name, found or 0)

    @property
    def schema_version(self) -> int:
        if self.postgres:
            from csat import store_postgres as pg

            return pg.schema_version(cast("pg.PgConnection", self.conn)) or 0
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def check(self) -> list[str]:
        """What is wrong with the database (empty when nothing): SQLite's integrity and
        foreign-key checks; on PostgreSQL, csat's tables, view and triggers present."""
        if self.postgres:
            from csat import store_postgres as pg

            return pg.check(cast("pg.PgConnection", self.conn))
        problems = [
            str(row[0])
            for row in self.conn.execute("PRAGMA integrity_check")
            if str(row[0]) != "ok"
        ]
        problems += [
            f"{table} row {rowid} refers to a missing {parent} row"
            for table, rowid, parent, _ in self.conn.execute("PRAGMA foreign_key_check")
        ]
        return problems

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the lock up front; rolled back on any exception,
        including KeyboardInterrupt and a generator closed half-way. Inside `transaction()` it
        is a savepoint of the outer transaction, committed only with it."""
        if self.conn.in_transaction:
            self.conn.execute("SAVEPOINT inner")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK TO inner")
                self.conn.execute("RELEASE inner")
                raise
            self.conn.execute("RELEASE inner")
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.conn.in_transaction:
                try:
                    self.conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # SQLite rolls back by itself when the connection closes
            raise StoreError(describe_sqlite_error(self.path, exc)) from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Several writes as one: all are committed when the block ends, none if it raises (a
        report's CAPAs are committed only once its files are in place)."""
        with self._write():
            yield

    # ---------------------------------------------------------------- recording

    def record_file(
        self,
        path: str,
        sha256: str,
        rules_sha256: str,
        rules_text: str,
        period: Period | None,
        outcomes: Iterable[ScoredResponse | Rejection | Skipped | Notice],
        now: datetime,
        site: str = "",
    ) -> Iterator[ScoredResponse | Rejection | Skipped | Notice | ImportResult]:
        """Record one file's outcomes in one transaction, yielding each as it comes (it is
        inserted with its batch; nothing is committed before the whole file is) and then the
        ImportResult. A file recorded before (same SHA-256) records nothing, unless that
        import recorded no response (every row rejected, or the file unreadable): then it is
        forgotten and read again, e.g. under a --period given this time."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT id, path, imported_at, "
                "(SELECT count(*) FROM responses WHERE import_id = imports.id) "
                "FROM imports WHERE sha256 = ?",
                (sha256,),
            ).fetchone()
            if row is not None and row[3]:
                yield ImportResult(None, already=ImportRecord(*row[:3]))
                return
            if row is not None:
                self._forget_import(conn, row[0], now, "read again", "it recorded no response")
            conn.execute(
                "INSERT OR IGNORE INTO rules (sha256, content, first_used) VALUES (?, ?, ?)",
                (rules_sha256, rules_text, now.isoformat(timespec="seconds")),
            )
            (import_id,) = conn.execute(
                "INSERT INTO imports (id, path, sha256, imported_at, rules_sha256, period, site) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    row[0] if row is not None else None,  # read again: keeps its number
                    path,
                    sha256,
                    now.isoformat(timespec="seconds"),
                    rules_sha256,
                    str(period) if period else None,
                    site,
                ),
            ).fetchone()
            result = ImportResult(import_id)
            (last_id,) = conn.execute("SELECT coalesce(max(id), 0) FROM responses").fetchone()
            keys = _CustomerKeys(conn, self._sent_ties(conn))
            pending = _Pending(conn, import_id, last_id, keys, numbered=not self.postgres)
            for outcome in outcomes:
                if isinstance(outcome, Skipped):  # not a survey after all: no import recorded
                    pending.flush(result)
                    conn.execute("DELETE FROM imports WHERE id = ?", (import_id,))
                    yield outcome
                    return
                if isinstance(outcome, ScoredResponse):
                    pending.response(outcome)
                elif isinstance(outcome, Rejection):
                    pending.rejection(outcome)
                yield outcome
                if pending.count >= RECORD_BATCH:
                    pending.flush(result)
            pending.flush(result)
            conn.executemany(
                "INSERT OR IGNORE INTO period_rules (period, rules_sha256) VALUES (?, ?)",
                [(p, rules_sha256) for p in sorted(pending.periods)],
            )
            yield result

    @staticmethod
    def _forget_import(
        conn: sqlite3.Connection, import_id: int, now: datetime, event: str, detail: str
    ) -> None:
        """Delete an import row with its rejections (its responses are gone already), noting it
        in import_history."""
        conn.execute(
            "INSERT INTO import_history (at, event, import_id, path, sha256, detail) "
            "SELECT ?, ?, id, path, sha256, ? FROM imports WHERE id = ?",
            (now.isoformat(timespec="seconds"), event, detail, import_id),
        )
        conn.execute("DELETE FROM rejections WHERE import_id = ?", (import_id,))
        conn.execute("DELETE FROM imports WHERE id = ?", (import_id,))

    @staticmethod
    def _sent_ties(conn: sqlite3.Connection) -> dict[str, set[str]]:
        """Name key -> code keys of the customers sent a form under that name."""
        ties: dict[str, set[str]] = {}
        for name, code in conn.execute("SELECT DISTINCT customer, customer_code FROM sent_forms"):
            ties.setdefault(customer_key(name, None), set()).add(customer_key(name, code))
        return ties

    @staticmethod
    def _tied_codes(
        conn: sqlite3.Connection, name_key: str, sent_ties: dict[str, set[str]]
    ) -> set[str]:
        """Code keys a name is tied to: by the forms sent, or by replies that gave a code."""
        return sent_ties.get(name_key, set()) | {
            k
            for (k,) in conn.execute(
                "SELECT DISTINCT customer_key FROM responses "
                "WHERE name_key = ? AND customer_code IS NOT NULL",
                (name_key,),
            )
        }

    # ---------------------------------------------------------------- imports

    def imports(self) -> list[ImportSummary]:
        """Every import recorded, oldest first."""
        rows = self.conn.execute(
            "SELECT i.id, i.path, i.sha256, i.imported_at, i.period, "
            "(SELECT group_concat(DISTINCT period) FROM responses WHERE import_id = i.id), "
            "(SELECT count(*) FROM responses WHERE import_id = i.id), "
            "(SELECT count(*) FROM rejections WHERE import_id = i.id), i.site "
            "FROM imports i ORDER BY i.id"
        )
        return [_import_summary(row) for row in rows]

    def remove_import(self, import_id: int, now: datetime) -> RemovedImport:
        """Remove an import with its responses, ratings and rejections, the CAPAs only its
        replies caused (still open: refused with ImportInUse when one has moved on) and the
        effectiveness judged from its replies; noted in import_history. One transaction."""
        with self._write() as conn:
            summary = next((i for i in self.imports() if i.id == import_id), None)
            if summary is None:
                raise StoreError(f"no import #{import_id}: csat imports list shows them")
            keys = conn.execute(
                "SELECT DISTINCT period, customer_key FROM responses WHERE import_id = ?",
                (import_id,),
            ).fetchall()
            removed: list[str] = []
            kept: list[str] = []
            moved_on: list[str] = []
            records = self.capas()
            for capa in records:
                inside = [
                    p for p, k in keys if k == capa.customer_key and _contains(capa.period, p)
                ]
                if not inside:
                    continue
                others = conn.execute(
                    "SELECT period FROM responses WHERE customer_key = ? AND import_id != ?",
                    (capa.customer_key, import_id),
                ).fetchall()
                if any(_contains(capa.period, p) for (p,) in others):
                    kept.append(capa.number)
                elif capa.status != "open" or any(
                    e.step in ("closed", "verified", "reopened") for e in capa.history
                ):
                    moved_on.append(f"{capa.number} ({capa.status})")
                else:
                    removed.append(capa.number)
            if moved_on:
                raise ImportInUse(
                    f"import #{import_id} ({summary.path}) caused CAPAs that have moved on: "
                    f"{', '.join(moved_on)}; nothing was removed. A CAPA acted on stays on "
                    "record: import the corrected file instead (the latest reply counts)"
                )
            reset = []
            at = now.isoformat(timespec="seconds")
            for capa in records:
                if capa.number in removed or not capa.evidence:
                    continue
                source_of = capa.evidence.get("source")
                source = source_of.get("file") if isinstance(source_of, dict) else None
                if source == summary.path and capa.evidence.get("period") in summary.periods:
                    reset.append(capa.number)
                    _append(
                        conn,
                        capa.number,
                        CapaEvent(
                            "judged",
                            now.date(),
                            "csat imports remove",
                            f"verdict withdrawn: the reply it rested on (import #{import_id}, "
                            f"{summary.path}) was removed",
                        ),
                    )
            for number in removed:
                history = next(c for c in records if c.number == number).history
                conn.execute(
                    "INSERT INTO capa_removals (number, import_id, at, history) "
                    "VALUES (?, ?, ?, ?)",
                    (
                        number,
                        import_id,
                        at,
                        orjson.dumps([e.as_json() for e in history]).decode(),
                    ),
                )
                conn.execute("UPDATE capas SET repeat_of = NULL WHERE repeat_of = ?", (number,))
                conn.execute("DELETE FROM capa_events WHERE number = ?", (number,))
                conn.execute("DELETE FROM capas WHERE number = ?", (number,))
            conn.execute(
                "DELETE FROM ratings WHERE response_id IN "
                "(SELECT id FROM responses WHERE import_id = ?)",
                (import_id,),
            )
            conn.execute("DELETE FROM responses WHERE import_id = ?", (import_id,))
            conn.execute(
                "DELETE FROM period_rules WHERE period NOT IN (SELECT period FROM responses)"
            )
            detail = orjson.dumps(
                {
                    "responses": summary.responses,
                    "rejections": summary.rejections,
                    "capas_removed": removed,
                    "judgments_reset": reset,
                }
            ).decode()
            self._forget_import(conn, import_id, now, "removed", detail)
        return RemovedImport(summary, tuple(removed), tuple(kept), tuple(reset))

    def import_history(self) -> list[dict[str, object]]:
        cur = self.conn.execute("SELECT * FROM import_history ORDER BY id")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    # ---------------------------------------------------------------- reading

    def period_rules(self, period: str) -> tuple[str, str] | None:
        """(hash, YAML text) of the rules recorded with a period, if any."""
        row = self.conn.execute(
            "SELECT r.sha256, r.content FROM period_rules p JOIN rules r "
            "ON r.sha256 = p.rules_sha256 WHERE p.period = ?",
            (period,),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def is_imported(self, sha256: str) -> bool:
        """Whether a file with this SHA-256 was recorded (record_file's own check decides)."""
        sql = "SELECT 1 FROM imports WHERE sha256 = ?"
        return self.conn.execute(sql, (sha256,)).fetchone() is not None

    def recorded_periods(self) -> list[str]:
        """The periods responses are recorded for. A period an older csat let through from a
        typo (`224H1`) is passed over, so it never stops the report of another period."""
        return [
            p
            for (p,) in self.conn.execute("SELECT DISTINCT period FROM responses")
            if _is_period(p)
        ]

    def responses(self, periods: list[str], site: str | None = None) -> Iterator[StoredResponse]:
        """Responses of the given recorded periods with their ratings, in import order; only
        those recorded for `site` when given."""
        if not periods:
            return
        marks = ",".join("?" * len(periods))
        by_site = "" if site is None else " AND i.site = ?"
        query = (
            "SELECT r.id, r.customer, r.customer_code, r.period, r.reply_date, r.comments, "
            "i.path, r.sheet, r.row, r.superseded, r.import_id, "
            "json_group_object(g.item, json_array(g.level, g.cell)), r.customer_key, "
            "r.recommend, i.site "
            "FROM ranked_responses r JOIN imports i ON i.id = r.import_id "
            "JOIN ratings g ON g.response_id = r.id "
            f"WHERE r.period IN ({marks}){by_site} GROUP BY r.id ORDER BY r.id"
        )
        args = periods if site is None else [*periods, site]
        # one str per level name: a report's scorer remembers combinations of them
        shared: dict[str | None, str | None] = {}
        for row in self.conn.execute(query, args):
            facts = orjson.loads(row[11])
            ratings = {item: shared.setdefault(level, level) for item, (level, _) in facts.items()}
            cells = {item: cell for item, (_, cell) in facts.items() if cell}
            response = Response(
                customer=row[1],
                customer_code=row[2],
                date=date.fromisoformat(row[4]) if row[4] else None,
                period=row[3],
                ratings=ratings,
                comments=row[5],
                source=Source(row[6], row[7], row[8]),
                cells=cells,
                recommend=row[13],
            )
            yield StoredResponse(row[0], response, bool(row[9]), row[10], row[12], row[14])

    def ensure_capas(
        self, plans: Iterable[CapaPlan], issue_date: date, due_date: date, by: str = "csat report"
    ) -> tuple[list[IssuedCapa], int]:
        """The CAPA of every plan, creating those that do not exist yet (numbered in order per
        period, CAPA-<period>-NNN) with their `issued` step, and linking repeats both ways;
        existing ones keep their number and content. Returns the numbers and slots in plan
        order (the report reads the records it shows itself) and how many were created.
        Running it again changes nothing. `plans` is read once (a report's are on disk).

        A few statements whatever the number of plans: one read of the CAPAs recorded (their
        slots and numbers), the new ones and their steps inserted in bulk a batch at a time
        (nothing of them is held past its batch but its slot and number), and, where periods
        one after the other have CAPAs, one read of theirs (with their flags) to link repeats.
        Under the writer lock, so reports at once number apart."""
        with self._write() as conn:
            numbers: dict[tuple[str, str, str], str] = {}
            last: dict[str, int] = {}
            for number, period, key, department in conn.execute(
                "SELECT number, period, customer_key, department FROM capas ORDER BY number"
            ):
                numbers[str(period), str(key), str(department)] = str(number)
                prefix = f"CAPA-{period}-"
                if str(number).startswith(prefix):
                    serial = _serial(str(number)[len(prefix) :])
                    last[str(period)] = max(last.get(str(period), 0), serial)
            periods = set(last) | {p for p, _, _ in numbers}
            # The new rows' values, one row after the other, and their numbers: inserted a
            # batch at a time, in plan order (their steps' ids in that order, as in one go).
            capas: list[object] = []
            new: list[str] = []
            made = 0
            issued = CapaEvent("issued", issue_date, by)

            def insert() -> None:
                _insert_many(
                    conn,
                    "INSERT INTO capas (number, period, customer_key, customer, customer_code, "
                    "department, flags, comments, issue_date, due_date)",
                    10,
                    capas,
                    99,
                )
                _append_many(conn, [(number, issued) for number in new])
                capas.clear()
                new.clear()

            as_json: dict[tuple[Flag, ...], str] = {}  # few distinct flag sets among many
            issued_on, due_on = issue_date.isoformat(), due_date.isoformat()
            slots: list[tuple[str, str, str]] = []
            for plan in plans:
                slot = (plan.period, plan.customer_key, plan.department)
                slots.append(slot)
                if slot in numbers:
                    continue
                last[plan.period] = last.get(plan.period, 0) + 1
                number = f"CAPA-{plan.period}-{last[plan.period]:03d}"
                numbers[slot] = number
                periods.add(plan.period)
                flags = as_json.get(plan.flags)
                if flags is None:
                    flags = as_json[plan.flags] = orjson.dumps(
                        [f.as_json() for f in plan.flags]
                    ).decode()
                capas += (
                    number,
                    plan.period,
                    plan.customer_key,
                    plan.customer,
                    plan.customer_code,
                    plan.department,
                    flags,
                    plan.comments,
                    issued_on,
                    due_on,
                )
                new.append(number)
                made += 1
                if len(new) == _ENSURE_BATCH:
                    insert()
            if made:
                insert()
                # a link can only appear with a new CAPA, between periods one after the other
                linked = sorted(_repeat_periods(periods))
                candidates = []  # as recorded now, new ones included, in number order
                if linked:
                    for n, p, k, d, f, r in conn.execute(
                        "SELECT number, period, customer_key, department, flags, repeat_of "
                        f"FROM capas WHERE period IN ({','.join('?' * len(linked))}) "
                        "ORDER BY number",
                        linked,
                    ):
                        repeat = None if r is None else str(r)
                        candidates.append(_Recorded(str(n), str(p), str(k), str(d), str(f), repeat))
                links = repeat_links(candidates)
                conn.executemany(
                    "UPDATE capas SET repeat_of = ? WHERE number = ?",
                    [(earlier, later) for later, earlier in links],
                )
                _append_many(
                    conn,
                    [
                        (
                            earlier,
                            CapaEvent("escalated", issue_date, by, f"repeat problem: {later}"),
                        )
                        for later, earlier in links
                    ],
                )
        return [IssuedCapa(numbers[s], *s) for s in slots], made

    def capas(self, period: str | None = None) -> list[CapaRecord]:
        return self._capas(self.conn, period)

    def each_capa(self, periods: Iterable[str] | None = None) -> Iterator[CapaRecord]:
        """The CAPAs `capas()` lists (of `periods` only, when given), equal to its records and
        in its order, read a batch at a time: a report goes through every CAPA, and holding
        tens of thousands of records with their histories costs ~600 bytes each."""
        where = ""
        args: list[object] = []
        if periods is not None:
            wanted = sorted(set(periods))
            if not wanted:
                return
            where = f" AND c.period IN ({','.join('?' * len(wanted))})"
            args = list(wanted)
        last = ""  # numbers are never empty (CAPA-<period>-NNN), so every one sorts after ''
        while True:
            rows = self.conn.execute(
                f"SELECT {_CAPA_COLUMNS} FROM capas c WHERE c.number > ?{where} "
                f"ORDER BY number LIMIT {_CAPA_BATCH}",
                [last, *args],
            ).fetchall()
            yield from self._with_history([str(row[0]) for row in rows], rows)
            if len(rows) < _CAPA_BATCH:
                return
            last = str(rows[-1][0])

    def capa_periods(self) -> list[str]:
        """The reply periods CAPAs are recorded for."""
        return [str(p) for (p,) in self.conn.execute("SELECT DISTINCT period FROM capas")]

    def capas_numbered(self, numbers: Iterable[str]) -> Iterator[CapaRecord]:
        """The record of each of `numbers`, in that order (a number given twice, twice; one
        not recorded, skipped), read a batch at a time; equal to `capas()`'s records."""
        batch: list[str] = []
        for number in numbers:
            batch.append(number)
            if len(batch) == _CAPA_BATCH:
                yield from self._numbered_batch(batch)
                batch = []
        if batch:
            yield from self._numbered_batch(batch)

    def _numbered_batch(self, numbers: list[str]) -> Iterator[CapaRecord]:
        unique = sorted(set(numbers))
        marks = ",".join("?" * len(unique))
        rows = self.conn.execute(
            f"SELECT {_CAPA_COLUMNS} FROM capas c WHERE c.number IN ({marks})", unique
        ).fetchall()
        found = {c.number: c for c in self._with_history(unique, rows)}
        for number in numbers:
            if number in found:
                yield found[number]

    def _with_history(
        self, numbers: list[str], rows: list[tuple[object, ...]]
    ) -> Iterator[CapaRecord]:
        """Records of CAPA `rows` (numbered `numbers`) with their histories, oldest step first,
        read as `_capas` reads them; the reader's shared objects live for one batch only."""
        if not rows:
            return
        read = _Reader()
        history: dict[str, list[CapaEvent]] = {}
        for row in self.conn.execute(
            f"SELECT {_EVENT_COLUMNS} FROM capa_events e "
            f"WHERE e.number IN ({','.join('?' * len(numbers))}) ORDER BY e.id",
            numbers,
        ):
            history.setdefault(str(row[0]), []).append(read.event(row))
        for row in rows:
            yield read.capa(row, history.get(str(row[0]), []))

    @staticmethod
    def _capas(conn: sqlite3.Connection, period: str | None = None) -> list[CapaRecord]:
        where = " WHERE c.period = ?" if period else ""
        args = (period,) if period else ()
        read = _Reader()
        history: dict[str, list[CapaEvent]] = {}
        for row in conn.execute(
            f"SELECT {_EVENT_COLUMNS} FROM capa_events e JOIN capas c USING (number){where} "
            "ORDER BY e.id",
            args,
        ):
            history.setdefault(str(row[0]), []).append(read.event(row))
        rows = conn.execute(f"SELECT {_CAPA_COLUMNS} FROM capas c{where} ORDER BY number", args)
        return [read.capa(row, history.get(str(row[0]), [])) for row in rows]

    def record_sent(
        self, period: str, sent: list[tuple[Customer, str, str]], sent_on: date, reply_by: date
    ) -> None:
        """Record that each (customer, language, file) was sent a form for `period`."""
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO sent_forms (period, customer_code, customer, language, "
                "region, class, contact, email, file, sent_on, reply_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        period,
                        c.code,
                        c.name,
                        lang,
                        c.region,
                        c.klass,
                        c.contact,
                        c.email,
                        file,
                        sent_on.isoformat(),
                        reply_by.isoformat(),
                    )
                    for c, lang, file in sent
                ],
            )
            # replies by name alone now count for the code the list ties their name to
            ties = self._sent_ties(conn)
            for c, _, _ in sent:
                name_key = customer_key(c.name, None)
                claimed = self._tied_codes(conn, name_key, ties)
                if len(claimed) == 1:
                    conn.execute(
                        "UPDATE responses SET customer_key = ? "
                        "WHERE name_key = ? AND customer_code IS NULL",
                        (claimed.pop(), name_key),
                    )

    def customer_keys(self, periods: list[str]) -> set[str]:
        """Customer keys with a recorded response in these periods (by code and by name)."""
        marks = ",".join("?" * len(periods))
        keys: set[str] = set()
        for key, name in self.conn.execute(
            f"SELECT DISTINCT customer_key, customer FROM responses WHERE period IN ({marks})",
            periods,
        ):
            keys.add(key)
            keys.add(customer_key(name, None))
        return keys

    def sent_forms(self, period: str) -> list[dict[str, object]]:
        cur = self.conn.execute(
            "SELECT * FROM sent_forms WHERE period = ? ORDER BY customer_code", (period,)
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    def unjudged_customer_keys(self) -> dict[str, tuple[str, ...]]:
        """Customers with a CAPA that no later answer has judged yet, with those CAPAs'
        periods (an answer judges only a CAPA of a period before its own)."""
        periods: dict[str, tuple[str, ...]] = {}
        for key, period in self.conn.execute(
            "SELECT customer_key, period FROM capas WHERE number NOT IN "
            "(SELECT number FROM capa_events WHERE step = 'judged') "
            "GROUP BY customer_key, period ORDER BY customer_key, period"
        ):
            periods[key] = (*periods.get(key, ()), period)
        return periods

    def judge_capas(
        self,
        verdicts: list[tuple[str, str, dict[str, object], str]],
        on: date,
        by: str = "csat report",
    ) -> int:
        """Record each (number, verdict, evidence, reason) of later answers, once per CAPA, in
        one transaction; an ineffective one reopens a closed or verified CAPA with `reason`
        (the evidence in words). Returns how many were recorded."""
        if not verdicts:
            return 0
        recorded = 0
        with self._write() as conn:
            for number, verdict, evidence, reason in verdicts:
                found = self._capas_numbered(number)
                if not found or found[0].effectiveness is not None:
                    continue
                _append(conn, number, CapaEvent("judged", on, by, None, verdict, evidence))
                if verdict == "ineffective" and found[0].status in ("closed", "verified"):
                    _append(conn, number, CapaEvent("reopened", on, by, reason))
                recorded += 1
        return recorded

    def capa(self, number: str) -> CapaRecord:
        wanted = number.strip().upper()
        for c in self._capas_numbered(wanted):
            return c
        raise StoreError(f"no CAPA numbered {number}: csat capa list shows them all")

    def _capas_numbered(self, number: str) -> list[CapaRecord]:
        rows = self.conn.execute(f"SELECT {_CAPA_COLUMNS} FROM capas c WHERE number = ?", (number,))
        found = rows.fetchall()
        if not found:
            return []
        events = self.conn.execute(
            f"SELECT {_EVENT_COLUMNS} FROM capa_events e WHERE number = ? ORDER BY id", (number,)
        )
        read = _Reader()
        return [read.capa(found[0], [read.event(row) for row in events])]

    def capa_step(
        self,
        number: str,
        step: str,
        on: date,
        text: str | None,
        by: str,
        today: date,
        now: datetime | None = None,
    ) -> CapaRecord:
        """Append a lifecycle step (close/verify/reopen) in one transaction; nothing changes
        when the step is not allowed or cannot be true (empty text, a date out of order)."""
        with self._write() as conn:
            record = self.capa(number)
            kind, clean = check_step(
                record.number, record.history, record.issue_date, step, on, text, by, today
            )
            entered = now.isoformat(timespec="seconds") if now else None
            _append(
                conn, record.number, CapaEvent(kind, on, by.strip(), clean, recorded_at=entered)
            )
        return self.capa(record.number)

    def rejections_for(self, periods: list[str], period_given: str) -> list[Rejection]:
        """Rejections of every import that recorded a response in these periods or was run with
        --period for the report's period, except those a corrected file superseded: a later
        import of a file with the same name that recorded responses from the same sheet (any
        sheet, for a rejection of the whole file)."""
        marks = ",".join("?" * len(periods))
        query = (
            "SELECT i.path, j.sheet, j.cell, j.reason, i.id FROM rejections j "
            "JOIN imports i ON i.id = j.import_id WHERE i.period = ? OR i.id IN "
            f"(SELECT import_id FROM responses WHERE period IN ({marks})) ORDER BY j.id"
        )
        rows = self.conn.execute(query, [period_given, *periods]).fetchall()
        if not rows:
            return []
        later: dict[str, list[tuple[int, str | None]]] = {}
        for import_id, path, sheet in self.conn.execute(
            "SELECT DISTINCT i.id, i.path, r.sheet FROM responses r "
            "JOIN imports i ON i.id = r.import_id WHERE i.id > ?",
            (min(row[4] for row in rows),),
        ):
            later.setdefault(_file_name(path), []).append((import_id, sheet))

        def superseded(path: str, sheet: str | None, import_id: int) -> bool:
            return any(
                other > import_id and (sheet is None or sheet == other_sheet)
                for other, other_sheet in later.get(_file_name(path), [])
            )

        return [Rejection(*row[:4]) for row in rows if not superseded(row[0], row[1], row[4])]


# Outcomes of one file stored per batch: a few statements per batch instead of a few per reply.
RECORD_BATCH = 512
_WIDTH = 15  # values of a responses row, in the order of _INSERT_RESPONSES
_CODE, _KEY, _NAME_KEY = 3, 4, 13  # places in a responses row
_INSERT_RESPONSES = (
    "INSERT INTO responses (id, import_id, customer, customer_code, customer_key, period, "
    "reply_date, comments, sheet, row, total, grade, complete, name_key, recommend)"
)


class _CustomerKeys:
    """The customer key of each reply of one import, decided reply by reply in the file's order
    as SPEC §3 and the name ties say: a reply's code when it has one, else the one code its name
    is tied to by the forms sent or by replies that gave a code (none when two codes share the
    name); a coded reply also claims the replies recorded under its name alone. What the
    database holds about a batch's names is read in one query (`prepare`), and the batch's own
    replies, not yet inserted, are accounted for here, so the keys stored are those that
    looking each reply up just before inserting it would give."""

    def __init__(self, conn: sqlite3.Connection, sent_ties: dict[str, set[str]]) -> None:
        self.conn = conn
        self.sent_ties = sent_ties
        # name key -> code keys of replies giving a code (distinct, in a tuple: the garbage
        # collector stops tracking a tuple of strings, not a set)
        self.codes: dict[str, tuple[str, ...]] = {}
        self.unclaimed: set[str] = set()  # name keys with stored replies keyed by the name
        self.pending: dict[str, list[int]] = {}  # the same in this batch: their key's places
        self.claims: list[tuple[str, str, str]] = []  # UPDATEs to run before the batch's INSERTs
        self.rows: list[object] = []

    def prepare(self, name_keys: set[str], rows: list[object]) -> None:
        """Read what the database holds about these names, for the next batch, whose responses
        rows are `rows` (one after the other, _WIDTH values each)."""
        self.codes, self.unclaimed, self.pending, self.claims = {}, set(), {}, []
        self.rows = rows
        if not name_keys:
            return
        marks = ", ".join("?" * len(name_keys))
        found: dict[str, set[str]] = {}
        for name_key, key, uncoded in self.conn.execute(
            "SELECT DISTINCT name_key, customer_key, customer_code IS NULL FROM responses "
            f"WHERE name_key IN ({marks}) "
            "AND (customer_code IS NOT NULL OR customer_key = name_key)",
            list(name_keys),
        ):
            if uncoded:
                self.unclaimed.add(name_key)
            else:
                found.setdefault(name_key, set()).add(key)
        self.codes = {name_key: tuple(sorted(keys)) for name_key, keys in found.items()}

    def key(self, code: str | None, name_key: str, place: int) -> str:
        """The customer key of a reply of this batch with this code and name key, whose key
        goes at `place` in the batch's rows."""
        sent, codes = self.sent_ties.get(name_key), self.codes.get(name_key)
        if code:
            key = f"code:{normalize(code)}"
            # every tie of the name (sent forms, codes given) is this code, or there is none
            if (not sent or (len(sent) == 1 and key in sent)) and (not codes or codes == (key,)):
                if name_key in self.unclaimed:
                    self.claims.append((key, name_key, name_key))
                    self.unclaimed.discard(name_key)
                for claimed in self.pending.pop(name_key, ()):
                    self.rows[claimed] = key
            if codes is None:
                self.codes[name_key] = (key,)
            elif key not in codes:
                self.codes[name_key] = (*codes, key)
            return key
        ties = (sent.union(codes) if codes else sent) if sent else codes
        if ties and len(ties) == 1:
            return next(iter(ties))
        self.pending.setdefault(name_key, []).append(place)
        return name_key


class _Pending:
    """One file's outcomes not inserted yet: the values of their rows one after the other in
    flat lists of plain values, a batch at a time. Nothing of an outcome is kept but these
    values, so the outcomes die as soon as the caller is done with them, as in a dry run: kept
    for a batch, 100k replies' objects lived long enough for the cyclic garbage collector to
    move them to its oldest generation, and its full passes cost ~0.45 s of 100k replies.
    Response ids are given as SQLite would (one more than the largest: the writer lock is
    held), so that ratings can be inserted in one go."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        import_id: int,
        last_id: int,
        keys: _CustomerKeys,
        numbered: bool,
    ) -> None:
        self.conn = conn
        self.numbered = numbered  # SQLite: ratings by numbered parameters (_insert_ratings)
        self.import_id = import_id
        self.last_id = last_id
        self.keys = keys
        self.periods: set[str] = set()
        self.count = 0  # outcomes held
        self.rows: list[object] = []  # responses rows, _WIDTH values each, the key to be set
        self.ratings: list[object] = []  # response id, item, level, cell; one after the other
        # numbered: per tuple of items, each reply's id, its levels and its cells
        self.by_items: dict[tuple[str, ...], list[object]] = {}
        self.rejected: list[tuple[int, str | None, str | None, str]] = []
        self.days: dict[date, str] = {}  # reply dates as text: a table has few distinct ones

    def response(self, s: ScoredResponse) -> None:
        r = s.response
        self.last_id = response_id = self.last_id + 1
        day = r.date
        if day is not None:
            text = self.days.get(day)
            if text is None:
                text = self.days[day] = day.isoformat()
        src = r.source
        self.rows += (
            response_id,
            self.import_id,
            r.customer,
            r.customer_code,
            None,  # the customer key, decided when the batch is stored
            r.period,
            None if day is None else text,
            r.comments,
            src.sheet,
            src.row,
            s.total,
            s.grade,
            1 if s.complete else 0,
            f"name:{normalize(r.customer)}",  # customer_key(r.customer, None)
            r.recommend,
        )
        cells, ratings = r.cells, r.ratings
        if self.numbered:
            items = tuple(ratings)
            values = self.by_items.get(items)
            if values is None:
                values = self.by_items[items] = []
            values += (response_id, *ratings.values(), *map(cells.get, items))
        else:
            flat = self.ratings
            for k, level in ratings.items():
                flat += (response_id, k, level, cells.get(k))
        self.periods.add(r.period)
        self.count += 1

    def rejection(self, o: Rejection) -> None:
        self.rejected.append((self.import_id, o.sheet, o.cell, o.reason))
        self.count += 1

    def flush(self, result: ImportResult) -> None:
        """Insert what is held, with the customer keys decided in the file's order."""
        rows, keys = self.rows, self.keys
        if rows:
            keys.prepare(cast(set[str], set(rows[_NAME_KEY::_WIDTH])), rows)
            key = keys.key
            for at in range(0, len(rows), _WIDTH):
                rows[at + _KEY] = key(
                    cast("str | None", rows[at + _CODE]), cast(str, rows[at + _NAME_KEY]), at + _KEY
                )
            self.conn.executemany(
                "UPDATE responses SET customer_key = ? "
                "WHERE name_key = ? AND customer_code IS NULL AND customer_key = ?",
                keys.claims,
            )
            _insert_many(self.conn, _INSERT_RESPONSES, _WIDTH, rows, 66)
            for items, values in self.by_items.items():
                _insert_ratings(self.conn, items, values)
            _insert_many(self.conn, _INSERT_RATINGS, 4, self.ratings, 249)
        self.conn.executemany(
            "INSERT INTO rejections (import_id, sheet, cell, reason) VALUES (?, ?, ?, ?)",
            self.rejected,
        )
        result.responses += len(rows) // _WIDTH
        result.rejections += len(self.rejected)
        self.rows, self.ratings, self.rejected, self.count = [], [], [], 0
        self.by_items = {}
        keys.rows = []


_INSERT_RATINGS = "INSERT INTO ratings (response_id, item, level, cell)"
_MAX_VALUES = 999  # values to a statement: the limit of old SQLite builds


def _insert_ratings(conn: sqlite3.Connection, items: tuple[str, ...], values: list[object]) -> None:
    """The ratings of replies rated on the same items, given as each reply's id, its levels and
    its cells one reply after the other: as _insert_many of (id, item, level, cell) rows, with
    numbered parameters (SQLite's ?NNN) naming the items once a statement and each reply's id
    once, so that 15 values are bound for a reply of 7 items instead of 28 (~0.15 s of 100k
    replies). PostgreSQL's driver has no numbered parameters: there, the rows go in as rows."""
    k = len(items)
    width = 1 + 2 * k
    if not k or k + width > _MAX_VALUES:
        rows: list[object] = []
        for at in range(0, len(values), width):
            for i, item in enumerate(items):
                rows += (values[at], item, values[at + 1 + i], values[at + 1 + k + i])
        _insert_many(conn, _INSERT_RATINGS, 4, rows, 249)
        return
    per = (_MAX_VALUES - k) // width
    count = len(values) // width
    grouped = count - count % per
    step = per * width
    # a reply's rows in the table's key order: inserted in key order, ~7 % less CPU
    order = tuple(sorted(range(k), key=items.__getitem__))
    conn.executemany(
        _numbered_ratings(order, per),
        [[*items, *values[at : at + step]] for at in range(0, grouped * width, step)],
    )
    if count > grouped:
        rest = _numbered_ratings(order, count - grouped)
        conn.execute(rest, [*items, *values[grouped * width :]])


@lru_cache(maxsize=64)
def _numbered_ratings(order: tuple[int, ...], replies: int) -> str:
    """The INSERT of `replies` replies' ratings on k items for _insert_ratings: ?1..?k are the
    items, then each reply's id, its k levels and its k cells; a reply's rows in `order` (of
    the items)."""
    k = len(order)
    rows = []
    for j in range(replies):
        at = k + j * (1 + 2 * k)  # the reply's first value, less one
        rows += [f"(?{at + 1}, ?{i + 1}, ?{at + 2 + i}, ?{at + 2 + k + i})" for i in order]
    return f"{_INSERT_RATINGS} VALUES {', '.join(rows)}"


def _insert_many(
    conn: sqlite3.Connection, head: str, width: int, values: list[object], per: int
) -> None:
    """`head` VALUES for rows of `width` values given one after the other, `per` rows to a
    statement: SQLite inserts many rows of one statement faster than as many one-row
    statements (a third less for ratings). Rows go in in their order; at most _MAX_VALUES
    values to a statement."""
    count = len(values) // width
    grouped = count - count % per
    one = "(" + ", ".join("?" * width) + ")"
    step = width * per
    conn.executemany(
        f"{head} VALUES {', '.join([one] * per)}",
        [values[i : i + step] for i in range(0, grouped * width, step)],
    )
    conn.executemany(
        f"{head} VALUES {one}",
        [values[i : i + width] for i in range(grouped * width, count * width, width)],
    )


def _import_summary(row: tuple[object, ...]) -> ImportSummary:
    i, path, sha, at, period, periods, responses, rejections, site = row
    return ImportSummary(
        int(str(i)),
        str(path),
        str(sha),
        str(at),
        None if period is None else str(period),
        tuple(sorted(str(periods).split(","))) if periods else (),
        int(str(responses)),
        int(str(rejections)),
        str(site),
    )


def _contains(outer: str, inner: str) -> bool:
    """Whether the period `outer` (a CAPA's) holds the period `inner` (a response's)."""
    try:
        return outer == inner or parse_period(outer).contains(parse_period(inner))
    except CsatError:
        return False


_CAPA_COLUMNS = (
    "c.number, c.period, c.customer_key, c.customer, c.customer_code, c.department, c.flags, "
    "c.comments, c.issue_date, c.due_date, c.repeat_of"
)
_ENSURE_BATCH = 99 * 124  # new CAPAs inserted at a time by ensure_capas: whole statements
_CAPA_BATCH = 900  # CAPAs read at a time (a statement takes at most _MAX_VALUES values)
_EVENT_COLUMNS = "e.number, e.step, e.on_date, e.by, e.text, e.verdict, e.evidence, e.recorded_at"


def _append(conn: sqlite3.Connection, number: str, e: CapaEvent) -> None:
    _append_many(conn, [(number, e)])


def _append_many(conn: sqlite3.Connection, steps: list[tuple[str, CapaEvent]]) -> None:
    """`_append` of many (number, step) in one executemany, in their order; a step given for
    many CAPAs (`issued`) is turned into values once."""
    values: dict[int, tuple[object, ...]] = {}
    rows: list[object] = []
    for number, e in steps:
        done = values.get(id(e))
        if done is None:
            done = values[id(e)] = (
                e.step,
                e.on.isoformat() if e.on else None,
                e.by,
                e.text,
                e.verdict,
                orjson.dumps(e.evidence).decode() if e.evidence is not None else None,
                e.recorded_at,
            )
        rows.append(number)
        rows += done
    _insert_many(
        conn,
        "INSERT INTO capa_events (number, step, on_date, by, text, verdict, evidence, recorded_at)",
        8,
        rows,
        124,
    )


def _repeat_periods(periods: set[str]) -> set[str]:
    """The periods of the CAPAs repeat linking needs to see: a period whose previous period has
    CAPAs too, and that previous period (a link joins a CAPA to one of the period right before
    its own). Periods are parsed once each, not once a CAPA."""
    previous = {p: str(parse_period(p).previous()) for p in periods}
    linked = {p for p in periods if previous[p] in periods}
    return linked | {previous[p] for p in linked}


def _serial(text: str) -> int:
    """The serial of a CAPA number after its `CAPA-<period>-` prefix, read as SQLite's
    CAST(... AS INTEGER) reads it (its leading digits, 0 for none)."""
    digits = len(text) - len(text.lstrip("0123456789"))
    return int(text[:digits]) if digits else 0


@dataclass(frozen=True)
class _Recorded:
    """What ensure_capas reads of a recorded CAPA: its slot, and its flags as stored, parsed
    only when repeat linking compares two of them."""

    number: str
    period: str
    customer_key: str
    department: str
    flags_json: str
    repeat_of: str | None

    @property
    def flags(self) -> tuple[Flag, ...]:
        return _flags(self.flags_json)


def _flags(text: object) -> tuple[Flag, ...]:
    return tuple(
        Flag(f["type"], f.get("item"), f.get("level"), f.get("total"))
        for f in orjson.loads(str(text))
    )


class _Reader:
    """Reads CAPA and history rows into records. What repeats among many CAPAs (their
    `issued` step, dates, flags, the state a history leads to) is made once and shared: a
    report reads every CAPA, tens of thousands of them at 100k customers. All of it is
    immutable but a judged step's evidence, which is never shared."""

    def __init__(self) -> None:
        self.events: dict[tuple[object, ...], CapaEvent] = {}
        self.days: dict[object, date] = {}
        self.flags: dict[object, tuple[Flag, ...]] = {}
        self.words: dict[object, str] = {}
        # by the ids of a history's steps, all alive (in the histories) while reading
        self.states: dict[tuple[int, ...], tuple[tuple[CapaEvent, ...], CapaState]] = {}

    def day(self, text: object) -> date:
        found = self.days.get(text)
        if found is None:
            found = self.days[text] = date.fromisoformat(str(text))
        return found

    def word(self, text: object) -> str:
        return self.words.setdefault(text, str(text))

    def event(self, row: tuple[object, ...]) -> CapaEvent:
        _, step, on, by, text, verdict, evidence, recorded_at = row
        key = row[1:]
        found = self.events.get(key) if evidence is None else None
        if found is not None:
            return found
        made = CapaEvent(
            step=self.word(step),
            on=self.day(on) if on else None,
            by=self.word(by),
            text=None if text is None else str(text),
            verdict=None if verdict is None else str(verdict),
            evidence=orjson.loads(str(evidence)) if evidence else None,
            recorded_at=None if recorded_at is None else str(recorded_at),
        )
        if evidence is None:
            self.events[key] = made
        return made

    def capa(self, row: tuple[object, ...], history: list[CapaEvent]) -> CapaRecord:
        (
            number,
            period,
            key,
            customer,
            code,
            department,
            flags,
            comments,
            issued,
            due,
            repeat_of,
        ) = row
        ids = tuple(map(id, history))
        known = self.states.get(ids)
        if known is None:
            known = self.states[ids] = (tuple(history), derive(history))
        steps, state = known
        shared = self.flags.get(flags)
        if shared is None:
            shared = self.flags[flags] = _flags(flags)
        return CapaRecord(
            number=str(number),
            period=self.word(period),
            customer_key=str(key),
            customer=str(customer),
            customer_code=code if code is None else str(code),
            department=self.word(department),
            flags=shared,
            comments=comments if comments is None else str(comments),
            issue_date=self.day(issued),
            due_date=self.day(due),
            status=state.status,
            action=state.action,
            closed_on=state.closed_on,
            verified_on=state.verified_on,
            note=state.note,
            reopen_reason=state.reopen_reason,
            effectiveness=state.effectiveness,
            evidence=state.evidence,
            repeat_of=None if repeat_of is None else str(repeat_of),
            history=steps,
        )


MIGRATED_BY = "(carried over from schema 5)"


def _capa_history_migration(conn: sqlite3.Connection) -> None:
    """Schema 6: the CAPA history table, filled from the schema-5 columns, which are dropped.
    Schema 5 overwrote a step's text and date when the step was repeated; what it still held
    is carried over (a date it had cleared is NULL, an action it had overwritten is NULL) and
    nothing is invented, except the reopen an ineffective verdict now makes."""
    conn.execute(
        "CREATE TABLE capa_events ("
        " id INTEGER PRIMARY KEY,"
        " number TEXT NOT NULL REFERENCES capas (number),"
        " step TEXT NOT NULL CHECK (step IN "
        "('issued', 'closed', 'verified', 'reopened', 'judged', 'escalated')),"
        " on_date TEXT,"
        " by TEXT NOT NULL,"
        " text TEXT,"
        " verdict TEXT CHECK (verdict IN ('effective', 'ineffective')),"
        " evidence TEXT,"
        " recorded_at TEXT)"
    )
    conn.execute("CREATE INDEX capa_events_by_number ON capa_events (number, id)")
    # The history is append-only. The one way out is `csat imports remove` taking back a CAPA
    # that nobody acted on: it first records the CAPA in capa_removals (the record of that).
    conn.execute(
        "CREATE TABLE capa_removals (number TEXT PRIMARY KEY, import_id INTEGER NOT NULL,"
        " at TEXT NOT NULL, history TEXT NOT NULL)"
    )
    conn.execute(
        "CREATE TRIGGER capa_events_no_update BEFORE UPDATE ON capa_events "
        "BEGIN SELECT RAISE(ABORT, 'the CAPA history is append-only'); END"
    )
    conn.execute(
        "CREATE TRIGGER capa_events_no_delete BEFORE DELETE ON capa_events "
        "WHEN NOT EXISTS (SELECT 1 FROM capa_removals WHERE number = OLD.number) "
        "BEGIN SELECT RAISE(ABORT, 'the CAPA history is append-only'); END"
    )
    rows = conn.execute(
        "SELECT number, issue_date, status, action, closed_on, verified_on, note, "
        "reopen_reason, effectiveness, evidence FROM capas ORDER BY number"
    ).fetchall()
    for number, issued, status, action, closed_on, verified_on, note, reason, verdict, ev in rows:

        def day(value: object) -> date | None:
            return date.fromisoformat(str(value)) if value else None

        by = MIGRATED_BY
        events = [CapaEvent("issued", day(issued), by)]
        if reason is not None and status in ("closed", "verified"):
            # an earlier cycle: closed (text overwritten), maybe verified, then reopened
            events.append(CapaEvent("closed", None, by, None))
            events.append(CapaEvent("reopened", None, by, reason))
        if status == "reopened":
            events.append(CapaEvent("closed", None, by, action))
            if note is not None:
                events.append(CapaEvent("verified", None, by, note))
            events.append(CapaEvent("reopened", None, by, reason))
        elif status in ("closed", "verified"):
            events.append(CapaEvent("closed", day(closed_on), by, action))
            if status == "verified":
                events.append(CapaEvent("verified", day(verified_on), by, note))
        if verdict is not None:
            evidence = orjson.loads(ev) if ev else {}
            events.append(CapaEvent("judged", None, by, None, verdict, evidence))
            if verdict == "ineffective" and derive(events).status in ("closed", "verified"):
                events.append(CapaEvent("reopened", None, by, "ineffective: see the verdict"))
        for e in events:
            _append(conn, number, e)
    for column in (
        "status",
        "action",
        "closed_on",
        "verified_on",
        "note",
        "reopen_reason",
        "effectiveness",
        "evidence",
    ):
        conn.execute(f"ALTER TABLE capas DROP COLUMN {column}")


def _is_period(text: str) -> bool:
    try:
        parse_period(text)
    except UsageError:
        return False
    return True


def _connect(path: Path, timeout: float = 5.0) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    conn.create_function(
        "csat_name_key", 1, lambda name: customer_key(str(name), None), deterministic=True
    )
    return conn


def _create(path: Path) -> None:
    """Build a new database privately (WAL, current schema) and link it into place, so no
    process ever sees a half-made one; if another process got there first, use theirs."""
    if not path.parent.is_dir():
        raise StoreError(f"cannot create {path}: folder {path.parent} does not exist")
    temp = path.with_name(f".{path.name}.{os.getpid()}.new")
    try:
        conn = _connect(temp)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            _migrate(conn)
        finally:
            conn.close()
        try:
            os.link(temp, path)
        except FileExistsError:
            pass
        except OSError as exc:
            if exc.errno not in _NO_LINKS:
                raise
            _create_in_place(path)
    except OSError as exc:
        raise StoreError(f"cannot create {path}: {exc.strerror or exc}") from None
    finally:
        temp.unlink(missing_ok=True)


# link(2) refused: FAT, exFAT, SMB and some FUSE file systems have no hard links
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS}


def _create_in_place(path: Path) -> None:
    """Without hard links: create the file exclusively (one process wins), empty. SQLite takes
    an empty file for a new database; whoever opens it first migrates it under the write lock,
    so a second process never sees half a schema."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        return
    conn = _connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        _migrate(conn)
    finally:
        conn.close()


def _check_and_migrate(conn: sqlite3.Connection, path: Path, migrate: bool = True) -> int:
    """Refuse foreign or newer databases before changing anything; then migrate in order.
    Returns the version found."""
    conn.execute("BEGIN")  # one snapshot for the three reads
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")
    if app_id != APPLICATION_ID and (tables or version):
        raise StoreError(f"{path} is not a csat database; use --db to choose another file")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} was written by a newer csat (schema {version}, this csat knows "
            f"{SCHEMA_VERSION}); upgrade csat to use it"
        )
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    if version < SCHEMA_VERSION and migrate:
        _migrate(conn)
    return int(version)


def _migrate(conn: sqlite3.Connection) -> None:
    """Apply the migrations this database lacks, in order, in one write transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Read again under the write lock: another process may have migrated meanwhile.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            if callable(script):  # a migration that carries data over in Python
                script(conn)
                conn.execute(f"PRAGMA user_version = {number}")
                continue
            for statement in script.split(";\n"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
