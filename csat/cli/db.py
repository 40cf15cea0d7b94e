"""csat db: bring a store's schema up to date, and check one, on SQLite or PostgreSQL."""

import json
import sys
from typing import Annotated

import typer

from csat.cli.common import EXIT_FATAL, HELP, DbOpt, _errors, _esc, err, out

db_app = typer.Typer(
    help="The history database: migrate it to this csat's schema, check it.\n\n"
    "Example: [bold]csat db migrate --db postgresql://quality@db.example.com/csat[/bold]",
    no_args_is_help=True,
    context_settings=HELP,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")]


@db_app.command("migrate")
def db_migrate(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Create the store, or bring it to this csat's schema (every command does this too).

    Example: [bold]csat db migrate --db postgresql://quality@db.example.com/csat[/bold]

    For a shared PostgreSQL store, run it once before the sites start recording: the database
    must exist (createdb) and may hold nothing but csat's tables. A database of another
    application, or of a newer csat, is refused unchanged (exit 1).
    """
    from csat.store import SCHEMA_VERSION, Store, default_db_path

    with _errors():
        with Store.open(db or default_db_path()) as store:
            name, found = store.name, store.found_version
        if as_json:
            doc = {"database": name, "schema_found": found, "schema": SCHEMA_VERSION}
            sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
        elif found == SCHEMA_VERSION:
            out.print(f"{_esc(name)}: schema {SCHEMA_VERSION}, up to date")
        elif found == 0:
            out.print(f"{_esc(name)}: created at schema {SCHEMA_VERSION}")
        else:
            out.print(f"{_esc(name)}: migrated from schema {found} to {SCHEMA_VERSION}")


@db_app.command("check")
def db_check(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Check a store without changing it: its schema version and its integrity.

    Example: [bold]csat db check --db csat.db[/bold]

    SQLite: PRAGMA integrity_check and foreign_key_check. PostgreSQL: csat's tables, view and
    triggers (the append-only CAPA history) present. Exit 0 when sound, 1 when not (or when
    the database cannot be opened).
    """
    from csat.store import SCHEMA_VERSION, Store, default_db_path

    with _errors():
        with Store.open(db or default_db_path(), create=False, migrate=False) as store:
            name, version = store.name, store.schema_version
            problems = store.check()
            backend = "postgresql" if store.postgres else "sqlite"
        if as_json:
            doc = {
                "database": name,
                "backend": backend,
                "schema": version,
                "schema_current": SCHEMA_VERSION,
                "problems": problems,
                "ok": not problems,
            }
            sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        else:
            state = (
                "up to date"
                if version == SCHEMA_VERSION
                else f"this csat's is {SCHEMA_VERSION}: run csat db migrate"
            )
            out.print(f"{_esc(name)} ({backend}): schema {version}, {state}")
            for problem in problems:
                err.print(f"[red]•[/red] {_esc(problem)}")
            out.print("integrity: ok" if not problems else f"integrity: {len(problems)} problems")
        if problems:
            raise typer.Exit(EXIT_FATAL)
