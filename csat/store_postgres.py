"""The store on PostgreSQL (issue 15): the same schema, migrations and queries as on SQLite.

csat/store.py writes its SQL once, in SQLite's dialect; this module runs it on PostgreSQL through
psycopg 3, translating each statement once (cached): `?` placeholders become `%s`, `INSERT OR
IGNORE` / `OR REPLACE` become `ON CONFLICT`, SQLite's aggregates their PostgreSQL names, the DDL
its types (INTEGER -> BIGINT, REAL -> DOUBLE PRECISION, TEXT in byte order as SQLite sorts it)
and the CAPA history's triggers PL/pgSQL.
A thin layer over the DB-API rather than SQLAlchemy: SQLite keeps its own driver with nothing in
between, so its insert path costs what it did (benchmarks/run.py, "score + record").

The guarantees are those of the SQLite store: `BEGIN IMMEDIATE` takes a transaction-scoped
advisory lock, so writers queue as SQLite's do (nothing lost or doubled, CAPA numbers unique);
ids are one more than the largest, as SQLite gives them; the schema version lives in the
csat_schema table, and a database with other tables or a newer csat's schema is refused
unchanged. psycopg is imported only when a postgresql:// URL is used.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from csat.store import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, StoreError

if TYPE_CHECKING:
    import psycopg

SCHEMES = ("postgresql://", "postgres://")
LOCK_KEY = APPLICATION_ID  # pg_advisory_xact_lock: the database's one writer lock
CONNECT_TIMEOUT = 10  # seconds; an unreachable server is an error, not a hang

# csat's own objects: `csat db check` expects them, a database holding others is foreign
TABLES = (
    "csat_schema",
    "rules",
    "imports",
    "period_rules",
    "responses",
    "ratings",
    "rejections",
    "capas",
    "sent_forms",
    "capa_events",
    "capa_removals",
    "import_history",
)
VIEWS = ("ranked_responses",)
TRIGGERS = ("capa_events_no_update", "capa_events_no_delete")


def is_url(location: str) -> bool:
    return location.startswith(SCHEMES)


def redact(url: str) -> str:
    """The URL without its password (in the user part or as a query parameter): what csat
    prints and keeps as the store's name."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        netloc = f"{user.split(':', 1)[0]}@{host}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _secrets(url: str) -> list[str]:
    parts = urlsplit(url)
    found = [v for k, v in parse_qsl(parts.query) if k == "password" and v]
    if parts.password:
        found.append(parts.password)
    return found


# ---------------------------------------------------------------- the dialect

_STATEMENTS = {
    "SAVEPOINT inner": "SAVEPOINT csat_inner",  # INNER is a reserved word in PostgreSQL
    "ROLLBACK TO inner": "ROLLBACK TO SAVEPOINT csat_inner",
    "RELEASE inner": "RELEASE SAVEPOINT csat_inner",
}

# Ids as SQLite's INTEGER PRIMARY KEY gives them (one more than the largest): the same numbers
# on both backends (`csat imports remove 3`), safe because writers hold the advisory lock.
_NEXT_ID = """
CREATE OR REPLACE FUNCTION csat_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        EXECUTE format('SELECT coalesce(max(id), 0) + 1 FROM %I', TG_TABLE_NAME) INTO NEW.id;
    END IF;
    RETURN NEW;
END $$;
"""

_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION csat_capa_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND EXISTS (SELECT 1 FROM capa_removals WHERE number = OLD.number) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the CAPA history is append-only'
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
"""

_TRIGGERS = {
    "CREATE TRIGGER capa_events_no_update": _APPEND_ONLY
    + "CREATE TRIGGER capa_events_no_update BEFORE UPDATE ON capa_events "
    "FOR EACH ROW EXECUTE FUNCTION csat_capa_events_append_only()",
    "CREATE TRIGGER capa_events_no_delete": _APPEND_ONLY
    + "CREATE TRIGGER capa_events_no_delete BEFORE DELETE ON capa_events "
    "FOR EACH ROW EXECUTE FUNCTION csat_capa_events_append_only()",
}

_PRIMARY_KEYS = {"sent_forms": ("period", "customer_code")}


def _ddl(sql: str) -> str:
    # byte order, as SQLite compares text, whatever the server's locale
    sql = re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', sql)
    sql = re.sub(r"\bINTEGER\b", "BIGINT", sql)
    sql = re.sub(r"\bREAL\b", "DOUBLE PRECISION", sql)
    return re.sub(r"\)\s*WITHOUT ROWID", ")", sql)


def _group_by_all(sql: str) -> str:
    """PostgreSQL groups by a base table's key only: `GROUP BY r.id` over a view names every
    column selected that is not an aggregate."""
    select = sql[sql.index("SELECT") + len("SELECT") : sql.index(" FROM ")]
    columns, depth, start = [], 0, 0
    for i, ch in enumerate(select + ","):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            columns.append(select[start:i].strip())
            start = i + 1
    plain = [c for c in columns if "(" not in c]
    return sql.replace("GROUP BY r.id", "GROUP BY " + ", ".join(plain))


def _translate(sql: str) -> str | None:
    """The PostgreSQL text of one statement of store.py, None for one it does without."""
    s = sql.strip()
    if s in _STATEMENTS:
        return _STATEMENTS[s]
    for head, text in _TRIGGERS.items():
        if s.startswith(head):
            return text
    if "csat_name_key(" in s:
        # migration 8's backfill: a PostgreSQL store is made at schema 10, with no rows before
        return None
    if s.startswith("CREATE VIEW"):
        return None  # made again after the migrations (see migrate): `r.*` is fixed there
    if s.startswith("CREATE TABLE"):
        ddl = _ddl(s)
        name = s.split()[2]
        if re.search(r"\bid INTEGER PRIMARY KEY\b", s):
            ddl += (
                f";\n{_NEXT_ID}\nCREATE TRIGGER {name}_next_id BEFORE INSERT ON {name} "
                "FOR EACH ROW EXECUTE FUNCTION csat_next_id()"
            )
        return ddl
    if s.startswith("ALTER TABLE"):
        return _ddl(s)
    if s.startswith("INSERT OR IGNORE"):
        s = s.replace("INSERT OR IGNORE", "INSERT", 1) + " ON CONFLICT DO NOTHING"
    elif s.startswith("INSERT OR REPLACE"):
        m = re.match(r"INSERT OR REPLACE INTO (\w+) \(([^)]*)\)", s)
        assert m, s
        table, columns = m.group(1), [c.strip() for c in m.group(2).split(",")]
        key = _PRIMARY_KEYS[table]
        update = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in key)
        s = (
            s.replace("INSERT OR REPLACE", "INSERT", 1)
            + f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {update}"
        )
    # SQLite takes `IN ()` (no period recorded yet) as an empty list, PostgreSQL not at all
    s = s.replace(" IN ()", " IN (SELECT NULL WHERE FALSE)")
    s = re.sub(r"group_concat\(DISTINCT (\w+)\)", r"string_agg(DISTINCT \1, ',')", s)
    s = re.sub(
        r"json_group_object\(([\w.]+), json_array\(([\w.]+), ([\w.]+)\)\)",
        r"json_object_agg(\1, json_build_array(\2, \3))::text",
        s,
    )
    if "GROUP BY r.id" in s:
        s = _group_by_all(s)
    return s


_translated: dict[str, str | None] = {}
_with_params: dict[str, str | None] = {}


def translate(sql: str, params: bool) -> str | None:
    """`sql` in PostgreSQL's dialect, with %s placeholders when it has parameters."""
    cache = _with_params if params else _translated
    try:
        return cache[sql]
    except KeyError:
        pass
    text = _translate(sql)
    if text is not None and params:
        text = text.replace("%", "%%").replace("?", "%s")
    cache[sql] = text
    return text


# ---------------------------------------------------------------- the connection


class _NoRows:
    """The cursor of a statement PostgreSQL does without."""

    description: list[Any] = []
    rowcount = 0

    def fetchone(self) -> None:
        return None

    def fetchall(self) -> list[Any]:
        return []

    def __iter__(self) -> Iterator[Any]:
        return iter(())


class PgConnection:
    """The part of sqlite3.Connection store.py uses, on a psycopg connection in autocommit
    mode: transactions are the BEGIN/COMMIT/SAVEPOINT statements store.py sends, as on SQLite."""

    dialect = "postgresql"

    def __init__(self, raw: psycopg.Connection[Any], name: str, secrets: list[str]) -> None:
        self.raw = raw
        self.name = name
        self.secrets = secrets

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        import psycopg

        if sql == "BEGIN IMMEDIATE":  # SQLite's write lock: the database's advisory lock
            self.execute("BEGIN")
            return self.execute("SELECT pg_advisory_xact_lock(?)", (LOCK_KEY,))
        text = translate(sql, bool(params))
        if text is None:
            return _NoRows()
        try:
            return self.raw.execute(text, list(params) if params else None)
        except psycopg.Error as exc:
            raise StoreError(self.describe(exc)) from None

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        import psycopg

        rows = list(rows)
        if not rows:
            return
        text = translate(sql, True)
        assert text is not None
        try:
            self.raw.cursor().executemany(text, rows)
        except psycopg.Error as exc:
            raise StoreError(self.describe(exc)) from None

    def close(self) -> None:
        self.raw.close()

    def describe(self, exc: Exception) -> str:
        return describe_error(self.name, exc, self.secrets)


def describe_error(name: str, exc: Exception, secrets: Sequence[str] = ()) -> str:
    """What a PostgreSQL error means for the user, without a password from the URL."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    for secret in secrets:
        text = text.replace(secret, "***")
    if "password authentication failed" in text or "no password supplied" in text:
        return f"cannot log in to {name}: {text}; check the user and password"
    if "does not exist" in text and "database" in text:
        return f"cannot use {name}: {text}; create it first (createdb) or fix the URL"
    if "permission denied" in text:
        return (
            f"cannot use {name}: {text}; csat's user must own the database "
            "(createdb -O USER NAME, or ALTER DATABASE NAME OWNER TO USER); it is unchanged"
        )
    if "invalid" in text and ("connection option" in text or "URI" in text):
        return f"{name} is not a usable PostgreSQL URL: {text}"
    if "connection" in text and ("refused" in text or "failed" in text or "timeout" in text):
        hint = "" if "server running" in text else "; is the server running, the host right?"
        return f"cannot reach the PostgreSQL server of {name}: {text}{hint}"
    return f"cannot use {name}: {text}; it is unchanged"


def connect(url: str) -> PgConnection:
    """A connection to the server of `url`, or StoreError saying why not (never the password)."""
    name, secrets = redact(url), _secrets(url)
    try:
        import psycopg
    except ImportError:
        raise StoreError(
            f"{name} is a PostgreSQL database: install csat's PostgreSQL support first "
            "(pip install 'csat[postgres]')"
        ) from None
    options: dict[str, Any] = {"autocommit": True}
    if "connect_timeout" not in url:
        options["connect_timeout"] = CONNECT_TIMEOUT
    try:
        raw = psycopg.connect(url, **options)
    except (psycopg.Error, ValueError) as exc:
        raise StoreError(describe_error(name, exc, secrets)) from None
    return PgConnection(raw, name, secrets)


# ---------------------------------------------------------------- schema and migrations


def _objects(conn: PgConnection, kind: str) -> set[str]:
    if kind == "trigger":
        sql = (
            "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal"
        )
    else:
        sql = (
            "SELECT table_name FROM information_schema.tables "
            f"WHERE table_schema = current_schema() AND table_type = '{kind}'"
        )
    return {str(name) for (name,) in conn.execute(sql)}


def schema_version(conn: PgConnection) -> int | None:
    """csat's schema version of the database; None when it holds no csat store (empty or
    another application's: StoreError for the latter)."""
    tables = _objects(conn, "BASE TABLE") | _objects(conn, "VIEW")
    if "csat_schema" not in tables:
        if tables:
            shown = ", ".join(sorted(tables)[:5])
            raise StoreError(
                f"{conn.name} is not a csat database (it holds other tables: {shown}); "
                "use --db to choose another database"
            )
        return None
    row = conn.execute("SELECT application, version FROM csat_schema").fetchone()
    if row is None or row[0] != "csat":
        raise StoreError(f"{conn.name} is not a csat database; use --db to choose another")
    version = int(row[1])
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{conn.name} was written by a newer csat (schema {version}, this csat knows "
            f"{SCHEMA_VERSION}); upgrade csat to use it"
        )
    return version


def _view_statements() -> list[str]:
    return [
        statement.strip()
        for script in MIGRATIONS
        if isinstance(script, str)
        for statement in script.split(";\n")
        if statement.strip().startswith("CREATE VIEW")
    ]


def migrate(conn: PgConnection) -> int:
    """Bring the database to this csat's schema under the writer lock, in one transaction
    (PostgreSQL's DDL is transactional: a failed migration leaves it as it was). Returns the
    version found."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        # read again under the lock: another process may have migrated meanwhile
        found = schema_version(conn)
        version = found or 0
        if found is None:
            conn.execute("CREATE TABLE csat_schema (application TEXT NOT NULL, version BIGINT)")
            conn.execute("INSERT INTO csat_schema VALUES ('csat', 0)")
        if version < SCHEMA_VERSION:
            conn.execute("DROP VIEW IF EXISTS ranked_responses")
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                if callable(script):  # a migration that carries data over in Python
                    script(cast(sqlite3.Connection, conn))
                else:
                    for statement in script.split(";\n"):
                        if statement.strip():
                            conn.execute(statement)
                conn.execute("UPDATE csat_schema SET version = ?", (number,))
            for view in _view_statements():
                conn.raw.execute(view)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return version


def check(conn: PgConnection) -> list[str]:
    """What is missing from a csat store on PostgreSQL (empty when all is in place)."""
    problems = []
    tables, views, triggers = (
        _objects(conn, "BASE TABLE"),
        _objects(conn, "VIEW"),
        _objects(conn, "trigger"),
    )
    for kind, wanted, present in (
        ("table", TABLES, tables),
        ("view", VIEWS, views),
        ("trigger", TRIGGERS, triggers),
    ):
        problems += [f"{kind} {name} is missing" for name in wanted if name not in present]
    return problems
