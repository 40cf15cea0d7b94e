"""csat imports: the imports recorded in the store, and removing a wrong one."""

import json
import sys
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from csat.cli.common import HELP, DbOpt, _errors, _esc, out

imports_app = typer.Typer(
    help="The imports recorded in the store; remove a wrong one with what it caused.\n\n"
    "Example: [bold]csat imports list[/bold], then [bold]csat imports remove 3[/bold]",
    no_args_is_help=True,
    context_settings=HELP,
)


@imports_app.command("list")
def imports_list(
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List every import: number, when, file, periods, responses, rejections and site.

    Example: [bold]csat imports list[/bold]
    """
    from csat.store import Store, default_db_path

    with _errors():
        with Store.open(db or default_db_path(), create=False) as store:
            found = store.imports()
        if as_json:
            doc = [i.as_json() for i in found]
            sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
            return
        table = Table(title=f"Imports ({len(found)})", title_justify="left")
        table.add_column("#", justify="right")
        table.add_column("Imported", no_wrap=True)
        table.add_column("File", overflow="fold")
        table.add_column("Periods")
        table.add_column("Responses", justify="right")
        table.add_column("Rejected", justify="right")
        sites = any(i.site for i in found)  # a site column once imports name their site
        if sites:
            table.add_column("Site")
        for i in found:
            table.add_row(
                str(i.id),
                i.imported_at,
                _esc(i.path),
                ", ".join(i.periods) or "—",
                str(i.responses),
                str(i.rejections),
                *([_esc(i.site) or "—"] if sites else []),
            )
        out.print(table)


@imports_app.command("remove")
def imports_remove(
    number: Annotated[int, typer.Argument(help="Import number, from csat imports list.")],
    db: DbOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print what was removed as JSON.")
    ] = False,
) -> None:
    """Remove a wrong import: its responses, rejections and the open CAPAs only it caused.

    Example: [bold]csat imports remove 3[/bold]

    Refused (exit 1, nothing removed) when a CAPA it caused was closed, verified or reopened.
    The removal is noted in the store's history; the file can be imported again.
    """
    from csat.store import Store, default_db_path

    with _errors():
        with Store.open(db or default_db_path(), create=False) as store:
            done = store.remove_import(number, datetime.now().astimezone())
        if as_json:
            sys.stdout.write(json.dumps(done.as_json(), ensure_ascii=False, indent=2) + "\n")
            return
        i = done.summary
        out.print(
            f"Removed import #{i.id} ({_esc(i.path)}): {i.responses} responses, "
            f"{i.rejections} rejections"
        )
        if done.capas_removed:
            out.print(f"CAPAs removed (open, caused only by it): {', '.join(done.capas_removed)}")
        if done.capas_kept:
            out.print(
                f"CAPAs kept (another import has a reply of the customer): "
                f"{', '.join(done.capas_kept)}; the next report shows whether they still apply"
            )
        if done.judgments_reset:
            out.print(
                f"Effectiveness no longer judged (it came from this import): "
                f"{', '.join(done.judgments_reset)}"
            )
        if i.periods:
            out.print(f"Run csat report again for {', '.join(i.periods)} to update the reports.")
