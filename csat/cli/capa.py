"""csat capa: list, show, close, verify, reopen and remind the corrective actions."""

import getpass
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from csat.cli.common import (
    EXIT_PARTIAL,
    HELP,
    ConfigOpt,
    DateOpt,
    DbOpt,
    Lang,
    _arg_text,
    _errors,
    _esc,
    _parse_date,
    _rules,
    out,
)
from csat.errors import UsageError
from csat.periods import parse_period

if TYPE_CHECKING:
    from csat.capa import CapaEvent
    from csat.store import CapaRecord, Store


capa_app = typer.Typer(
    help="Follow corrective actions (CAPA) until they are closed and verified.\n\n"
    "Example: [bold]csat capa list --overdue[/bold], then "
    '[bold]csat capa close CAPA-2024H1-003 --action "8D done"[/bold]',
    no_args_is_help=True,
    context_settings=HELP,
)


def _capa_store(db: str | None) -> "Store":
    from csat.store import Store, default_db_path

    return Store.open(db or default_db_path(), create=False)


@capa_app.command("list")
def capa_list(
    period: Annotated[str | None, typer.Option(help="Only this period's CAPAs.")] = None,
    status: Annotated[
        str | None, typer.Option(help="Only this status: open, closed, verified, reopened.")
    ] = None,
    department: Annotated[
        str | None, typer.Option(help="Only this department (key, 中文 or English name).")
    ] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only CAPAs past due and not closed; exit 3 if any.")
    ] = False,
    verdict: Annotated[
        str | None,
        typer.Option(
            help="Only this effectiveness verdict of the later reply: effective, ineffective, "
            "none (not judged yet)."
        ),
    ] = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
    on: DateOpt = None,
) -> None:
    """List CAPAs with status, verdict, department and due date; overdue ones in red.

    Example: [bold]csat capa list --overdue[/bold] (for cron: exit 3 when any is overdue)
    """
    from csat.capa import STATUSES, VERDICTS

    with _errors():
        today = _parse_date(on) if on else date.today()
        rules = _rules(config).rules
        if status is not None and status not in STATUSES:
            raise UsageError(f"unknown status '{status}': use one of {', '.join(STATUSES)}")
        if verdict is not None and verdict not in VERDICTS:
            raise UsageError(f"unknown verdict '{verdict}': use one of {', '.join(VERDICTS)}")
        if department is not None:
            _department_key(rules, department)
        with _capa_store(db) as store:
            records = store.capas(str(parse_period(period)) if period else None)
        if status:
            records = [c for c in records if c.status == status]
        if department:
            wanted = department.strip().casefold()
            records = [c for c in records if wanted in _department_names(rules, c.department)]
        if overdue:
            records = [c for c in records if c.overdue(today)]
        if verdict is not None:
            records = [c for c in records if (c.effectiveness or "none") == verdict]
        if as_json:
            doc = [_capa_json(c, today) for c in records]
            sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        else:
            table = Table(title=f"CAPAs ({len(records)})", title_justify="left")
            table.add_column("Number", no_wrap=True)
            for col in ("Customer", "Department", "Due", "Status", "Verdict", "Flags"):
                table.add_column(col, overflow="fold")
            for c in records:
                late = c.overdue(today)
                due = f"[red]{c.due_date} overdue[/red]" if late else c.due_date.isoformat()
                table.add_row(
                    c.number,
                    _esc(c.customer),
                    _department_label(rules, c.department),
                    due,
                    _status_text(c),
                    _verdict_text(c),
                    _esc(_flags_text(c, rules)),
                )
            out.print(table)
        if overdue and records:
            raise typer.Exit(EXIT_PARTIAL)


@capa_app.command("show")
def capa_show(
    number: Annotated[str, typer.Argument(help="CAPA number, e.g. CAPA-2024H1-003.")],
    config: ConfigOpt = None,
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the CAPA as JSON.")] = False,
    on: DateOpt = None,
) -> None:
    """Show one CAPA: customer, flags, department, dates, status and what was done.

    Example: [bold]csat capa show CAPA-2024H1-003[/bold]
    """
    with _errors():
        today = _parse_date(on) if on else date.today()
        rules = _rules(config).rules
        with _capa_store(db) as store:
            c = store.capa(number)
        if as_json:
            sys.stdout.write(json.dumps(_capa_json(c, today), ensure_ascii=False, indent=2) + "\n")
            return
        _print_capa(c, rules, today)


ByOpt = Annotated[
    str | None,
    typer.Option("--by", help="Who did it (default: your login name).", show_default=False),
]


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment (a container, cron)
        return "unknown"


def _capa_step(
    number: str,
    step: str,
    text: str | None,
    db: str | None,
    on: str | None,
    config: Path | None,
    by: str | None,
) -> None:
    with _errors():
        now = datetime.now().astimezone()
        today = now.date()
        day = _parse_date(on) if on else today
        text = _arg_text(text, {"close": "--action", "verify": "--note"}.get(step, "--reason"))
        rules = _rules(config).rules
        who = _login_name() if by is None else by
        with _capa_store(db) as store:
            c = store.capa_step(number, step, day, text, who, today, now)
        out.print(f"{c.number}: [bold]{_status_text(c)}[/bold]")
        _print_capa(c, rules, today)


@capa_app.command("close")
def capa_close(
    number: Annotated[str, typer.Argument(help="CAPA number.")],
    action: Annotated[str, typer.Option(help="What was done (corrective/preventive action).")],
    by: ByOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    on: DateOpt = None,
) -> None:
    """Close a CAPA with the action taken (open or reopened -> closed).

    Example: [bold]csat capa close CAPA-2024H1-003 --action "8D done; packing changed"[/bold]
    """
    _capa_step(number, "close", action, db, on, config, by)


@capa_app.command("verify")
def capa_verify(
    number: Annotated[str, typer.Argument(help="CAPA number.")],
    note: Annotated[str, typer.Option(help="How the effect was checked (the evidence).")],
    by: ByOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    on: DateOpt = None,
) -> None:
    """Verify a closed CAPA worked (closed -> verified).

    Example: [bold]csat capa verify CAPA-2024H1-003 --note "no damage in 3 shipments"[/bold]
    """
    _capa_step(number, "verify", note, db, on, config, by)


@capa_app.command("reopen")
def capa_reopen(
    number: Annotated[str, typer.Argument(help="CAPA number.")],
    reason: Annotated[str, typer.Option(help="Why the action did not work.")],
    by: ByOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    on: DateOpt = None,
) -> None:
    """Reopen a closed or verified CAPA whose action did not work.

    Example: [bold]csat capa reopen CAPA-2024H1-003 --reason "damage again in May"[/bold]
    """
    _capa_step(number, "reopen", reason, db, on, config, by)


@capa_app.command("remind")
def capa_remind(
    within: Annotated[
        int,
        typer.Option(min=0, help="Also CAPAs due within this many working days."),
    ] = 3,
    department: Annotated[
        str | None, typer.Option(help="Only this department (key, 中文 or English name).")
    ] = None,
    lang: Annotated[Lang, typer.Option(help="Language of the reminder texts.")] = Lang.zh,
    config: ConfigOpt = None,
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reminders as JSON.")] = False,
    on: DateOpt = None,
) -> None:
    """CAPAs due soon or overdue, per department, with a reminder text each; exit 3 when any
    is overdue (for cron).

    Example: [bold]csat capa remind --within 5 --lang en[/bold]
    """
    from csat.remind import reminders

    with _errors():
        today = _parse_date(on) if on else date.today()
        rules = _rules(config).rules
        key = _department_key(rules, department) if department is not None else None
        with _capa_store(db) as store:
            found = reminders(
                store, rules, today, within, lang.value, key, user_templates=Path("templates")
            )
        if as_json:
            doc = [r.as_json() for r in found]
            sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        elif not found:
            out.print(f"No open CAPA is due within {within} working days or overdue.")
        for r in [] if as_json else found:
            table = Table(title=f"{_esc(r.name)} ({len(r.due)})", title_justify="left")
            table.add_column("Number", no_wrap=True)
            for col in ("Customer", "Due", "Status", "Flags"):
                table.add_column(col, overflow="fold")
            for d in r.due:
                due = d.capa.due_date.isoformat()
                if d.days_late:
                    late = f"{d.days_late} day{'s' if d.days_late != 1 else ''} overdue"
                    due = f"[red]{due} ({late})[/red]"
                else:
                    left = d.working_days_left
                    due += f" ({left} working day{'s' if left != 1 else ''} left)"
                table.add_row(
                    d.capa.number, _esc(d.capa.customer), due, d.capa.status, _esc(d.trigger)
                )
            out.print(table)
            out.print(_esc(r.text), soft_wrap=True)
        if any(r.overdue for r in found):
            raise typer.Exit(EXIT_PARTIAL)


def _department_key(rules: Any, name: str) -> str:
    """The department key for a key, 中文 or English name; a usage error naming them all."""
    wanted = name.strip().casefold()
    for key in rules.departments:
        if wanted in _department_names(rules, key):
            return str(key)
    names = ", ".join(f"{k} ({_department_label(rules, k)})" for k in rules.departments)
    raise UsageError(f"unknown department '{name}': use one of {names}")


def _department_names(rules: Any, key: str) -> set[str]:
    d = rules.departments.get(key)
    return {key.casefold()} | ({d.zh.casefold(), d.en.casefold()} if d else set())


def _department_label(rules: Any, key: str) -> str:
    d = rules.departments.get(key)
    return f"{d.zh} {d.en}" if d else key


def _flags_text(c: "CapaRecord", rules: Any) -> str:
    parts = []
    for f in c.flags:
        if f.type == "low_score":
            parts.append(f"total {f.total:.1f}")
        elif f.item in rules.items and f.level in rules.levels:
            parts.append(f"{rules.items[f.item].labels.zh} {rules.levels[f.level].labels.zh}")
        else:
            parts.append(f"{f.item} {f.level}")
    return ", ".join(parts)


def _capa_json(c: "CapaRecord", today: date) -> dict[str, Any]:
    return {
        "number": c.number,
        "period": c.period,
        "customer": c.customer,
        "customer_code": c.customer_code,
        "department": c.department,
        "flags": [f.as_json() for f in c.flags],
        "comments": c.comments,
        "issue_date": c.issue_date.isoformat(),
        "due_date": c.due_date.isoformat(),
        "status": c.status,
        "ready_to_verify": c.ready_to_verify,
        "overdue": c.overdue(today),
        "action": c.action,
        "closed_on": c.closed_on.isoformat() if c.closed_on else None,
        "verified_on": c.verified_on.isoformat() if c.verified_on else None,
        "note": c.note,
        "reopen_reason": c.reopen_reason,
        "effectiveness": c.effectiveness,
        "evidence": c.evidence,
        "repeat_of": c.repeat_of,
        "history": [e.as_json() for e in c.history],
    }


def _status_text(c: "CapaRecord") -> str:
    return "closed, ready to verify" if c.ready_to_verify else c.status


def _verdict_text(c: "CapaRecord") -> str:
    if c.effectiveness is None:
        return "—"
    colour = "green" if c.effectiveness == "effective" else "red"
    return f"[{colour}]{c.effectiveness}[/{colour}]"


def _event_text(e: "CapaEvent", rules: Any) -> str:
    from csat.capa import evidence_text

    """One step of the history in words (customer and user text escaped for Rich)."""
    if e.step == "judged":
        words = evidence_text(e.evidence, rules, "en") if e.evidence else ""
        colour = "green" if e.verdict == "effective" else "red"
        return f"[{colour}]{e.verdict}[/{colour}]: {_esc(words)}"
    return _esc(e.text or "")


def _print_capa(c: "CapaRecord", rules: Any, today: date) -> None:
    table = Table(title=c.number, title_justify="left", show_header=False)
    table.add_column("Field", style="bold")
    table.add_column("Value", overflow="fold")
    due = c.due_date.isoformat() + (" [red](overdue)[/red]" if c.overdue(today) else "")
    rows = [
        ("Customer", _esc(c.customer + (f" ({c.customer_code})" if c.customer_code else ""))),
        ("Period", c.period),
        ("Department", _department_label(rules, c.department)),
        ("Flags", _esc(_flags_text(c, rules))),
        ("Comment", _esc(c.comments or "")),
        ("Issued", c.issue_date.isoformat()),
        ("Due", due),
        ("Status", _status_text(c)),
        ("Verdict", _verdict_text(c) if c.effectiveness else ""),
        ("Repeat of", c.repeat_of or ""),
    ]
    for field_name, value in rows:
        if value:
            table.add_row(field_name, value)
    out.print(table)
    history = Table(title="History", title_justify="left")
    history.add_column("Date", no_wrap=True)
    history.add_column("Step", no_wrap=True)
    history.add_column("By", overflow="fold")
    history.add_column("Details", overflow="fold")
    for e in c.history:
        details = _event_text(e, rules)
        if e.recorded_at and e.on and e.recorded_at[:10] != e.on.isoformat():
            details += f"\n[dim](entered {e.recorded_at[:10]})[/dim]"  # backdated with --date
        history.add_row(e.on.isoformat() if e.on else "(not recorded)", e.step, _esc(e.by), details)
    out.print(history)
