"""csat survey and csat chase: send the blank forms, then list who has not replied."""

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from csat.cli.common import (
    EXIT_PARTIAL,
    ConfigOpt,
    DbOpt,
    Lang,
    _errors,
    _esc,
    _must_exist,
    _parse_date,
    _rules,
    out,
)
from csat.errors import UsageError
from csat.periods import parse_period


def survey(
    customers: Annotated[Path, typer.Option(help="Customer list (.xlsx or .csv).")],
    period: Annotated[str, typer.Option(help="Period the survey asks about, e.g. 2024H1.")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for forms; they go in OUT/PERIOD/.")
    ] = Path("surveys"),
    reply_by: Annotated[
        str | None,
        typer.Option(help="Reply-by date, YYYY-MM-DD (default: two weeks on).", show_default=False),
    ] = None,
    lang: Annotated[
        Lang | None, typer.Option(help="Language of every form (default: each customer's).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite forms already there.")] = False,
    config: ConfigOpt = None,
    db: DbOpt = None,
    on: Annotated[
        str | None,
        typer.Option("--date", help="Issue date, YYYY-MM-DD (default: today).", show_default=False),
    ] = None,
) -> None:
    """Write one blank survey form per customer, in the customer's language, and record them sent.

    Example: [bold]csat survey --customers customers.xlsx --period 2024H1[/bold]

    The customer list is checked first: any bad row (missing code, unknown language, duplicate
    code) is listed with its cell and nothing is written (exit 1).
    """
    from csat.store import Store, default_db_path
    from csat.survey import make_surveys

    with _errors():
        _must_exist(customers, "--customers")
        the_period = parse_period(period)
        today = _parse_date(on) if on else date.today()
        due = _parse_date(reply_by, "--reply-by") if reply_by else None
        if due is not None and due < today:
            raise UsageError(
                f"--reply-by {due} is before the issue date {today}: give a later date"
            )
        loaded = _rules(config)
        with Store.open(db or default_db_path()) as store:
            result = make_surveys(
                customers,
                the_period,
                loaded,
                out_dir,
                today,
                store,
                due,
                lang.value if lang else None,
                force,
            )
        table = Table(title=f"Survey forms for {the_period}", title_justify="left")
        for col in ("Code", "Customer", "Language", "File"):
            table.add_column(col, overflow="fold")
        for customer, language, path in result.written:
            table.add_row(_esc(customer.code), _esc(customer.name), language, _esc(path.name))
        out.print(table)
        kept = f" ({result.kept} written and recorded before were kept)" if result.kept else ""
        out.print(
            f"{len(result.written)} forms in {_esc(str(result.folder))}, reply by "
            f"{result.reply_by}; recorded as sent{kept}."
        )


def chase(
    period: Annotated[str, typer.Option(help="Survey period, e.g. 2024H1.")],
    customers: Annotated[
        Path | None, typer.Option(help="Also expect every customer on this list.")
    ] = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
    on: Annotated[
        str | None,
        typer.Option(
            "--date", help="Today's date, YYYY-MM-DD (default: today).", show_default=False
        ),
    ] = None,
) -> None:
    """List customers who have not replied, with a reminder text in their language.

    Example: [bold]csat chase --period 2024H1[/bold] (for cron: exit 3 when anyone is overdue)
    """
    from csat.chase import not_replied
    from csat.store import Store, default_db_path

    with _errors():
        _must_exist(customers, "--customers")
        the_period = parse_period(period)
        today = _parse_date(on) if on else date.today()
        rules = _rules(config).rules
        with Store.open(db or default_db_path(), create=False) as store:
            missing = not_replied(store, the_period, rules, today, customers, Path("templates"))
        if as_json:
            doc = [m.as_json() for m in missing]
            sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        else:
            table = Table(
                title=f"Not replied for {the_period} ({len(missing)})", title_justify="left"
            )
            for col in ("Code", "Customer", "Lang", "Contact", "Sent", "Reply by", "Late"):
                table.add_column(col, overflow="fold")
            for m in missing:
                late = f"[red]{m.days_late} days[/red]" if m.days_late else ""
                table.add_row(
                    _esc(m.code),
                    _esc(m.customer),
                    m.language,
                    _esc(" ".join(x for x in (m.contact, m.email) if x)),
                    str(m.sent_on or "—"),
                    str(m.reply_by or "—"),
                    late,
                )
            out.print(table)
            for m in missing:
                out.print(f"\n[bold]{_esc(m.code)}[/bold]\n{_esc(m.reminder)}", soft_wrap=True)
        if any(m.days_late for m in missing):
            raise typer.Exit(EXIT_PARTIAL)
