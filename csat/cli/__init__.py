"""Command line: parse arguments, call the library, print with Rich, exit with SPEC §7's codes.

0 success; 1 fatal (bad config, nothing done); 2 usage error; 3 partial (some inputs rejected).
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, datetime
from inspect import cleandoc
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from rich.table import Table

from csat import __version__
from csat.cli.common import (
    EXIT_OK,
    EXIT_PARTIAL,
    HELP,
    ConfigOpt,
    DateOpt,
    DbOpt,
    Lang,
    _arg_text,
    _check_scale,
    _errors,
    _esc,
    _must_exist,
    _parse_date,
    _ReadProgress,
    _rules,
    _say,
    _stages,
    _state,
    _width,
    err,
    out,
)
from csat.errors import UsageError
from csat.models import Notice, Rejection, ScoredResponse, Skipped
from csat.periods import parse_period

# Each command imports the library it uses, so --help, --version and completion load no
# reader, writer, Jinja, pydantic or scipy (issue 12; tests/test_cli.py checks sys.modules).
if TYPE_CHECKING:
    from csat.capa import CapaEvent
    from csat.config import LoadedRules
    from csat.report import ReportResult
    from csat.store import CapaRecord, Store


TABLE_ROWS_SHOWN = 500

app = typer.Typer(
    help="Customer-satisfaction survey procedure: import returned surveys, score, grade, flag.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings=HELP,
)
config_app = typer.Typer(
    help="Check and explain the scoring rules.\n\n"
    "Example: [bold]csat config check[/bold] (prints the scoring table and which file it read)",
    no_args_is_help=True,
    context_settings=HELP,
)
app.add_typer(config_app, name="config")
capa_app = typer.Typer(
    help="Follow corrective actions (CAPA) until they are closed and verified.\n\n"
    "Example: [bold]csat capa list --overdue[/bold], then "
    '[bold]csat capa close CAPA-2024H1-003 --action "8D done"[/bold]',
    no_args_is_help=True,
    context_settings=HELP,
)
app.add_typer(capa_app, name="capa")
imports_app = typer.Typer(
    help="The imports recorded in the store; remove a wrong one with what it caused.",
    no_args_is_help=True,
)
app.add_typer(imports_app, name="imports")


def _version(value: bool) -> None:
    if value:
        out.print(f"csat {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of unexpected errors.")
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="Print results and errors only: no progress or notes."),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also say which files were read and skipped.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    if quiet and verbose:
        raise typer.BadParameter("--quiet and --verbose contradict each other")
    _state.update(debug=debug, quiet=quiet, verbose=verbose)
    out.width, err.width = _width(sys.stdout), _width(sys.stderr)


@app.command()
def score(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Returned surveys (xlsx, xlsm, xlsb, xls, ods, csv, tsv, txt) or folders."
        ),
    ],
    period: Annotated[
        str | None,
        typer.Option(
            help="Period the replies answer (2024H1, 2024Q2, 2024-05, 2024); "
            "default: from each reply date."
        ),
    ] = None,
    scale: Annotated[
        str | None,
        typer.Option(
            help="Read every sheet on this rating scale (see csat config check) instead of "
            "choosing one per sheet from the words on it."
        ),
    ] = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Score only; write nothing.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document on stdout.")
    ] = False,
    show_all: Annotated[
        bool,
        typer.Option(
            "--all", help=f"List every scored response (default: the first {TABLE_ROWS_SHOWN})."
        ),
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            help="Processes reading files when there are many (default: the number of cores); "
            "results and the store are the same as with 1.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Import returned surveys, score each customer, grade A-E and flag what needs a CAPA.

    Example: [bold]csat score returns/ --period 2024H1[/bold]

    Exit 0 when every input was scored, 3 when some were rejected (listed with file, sheet,
    cell and reason), 1 on a bad config, 2 on a usage error.
    """
    from csat.parallel import default_jobs
    from csat.pipeline import iter_outcomes, record_outcomes
    from csat.store import Store, default_db_path

    with _errors():
        the_period = parse_period(period) if period else None
        loaded = _rules(config)
        _check_scale(scale, loaded)
        today = date.today()
        if the_period is not None:
            _check_plausible(the_period, loaded, today)
        jobs = jobs or default_jobs()
        bar = _ReadProgress.start()
        files = bar.files if bar else None
        with ExitStack() as stack:
            if bar:
                stack.callback(bar.stop)
            if dry_run:
                outcomes: Iterator[Any] = iter_outcomes(
                    paths, loaded.rules, the_period, files, scale=scale, today=today, jobs=jobs
                )
            else:
                store = stack.enter_context(Store.open(db or default_db_path()))
                now = datetime.now().astimezone()
                outcomes = record_outcomes(
                    paths,
                    loaded,
                    store,
                    now,
                    the_period,
                    files,
                    scale=scale,
                    today=today,
                    jobs=jobs,
                )
                # Closed before the store (LIFO): an interrupted file rolls back cleanly.
                stack.callback(outcomes.close)
            if bar:
                outcomes = bar.count(outcomes)
            if as_json:
                counts = _write_json(sys.stdout, str(the_period) if the_period else None, outcomes)
            else:
                counts = _print_human(outcomes, loaded, None if dry_run else store, show_all, bar)
        raise typer.Exit(EXIT_PARTIAL if counts["rejected"] else EXIT_OK)


def _write_json(stream: TextIO, period: str | None, outcomes: Iterator[Any]) -> dict[str, int]:
    """Stream the SPEC §7 document: scored entries as they come, the short lists at the end."""
    rejected: list[Rejection] = []
    skipped: list[Skipped] = []
    notices: list[Notice] = []
    counts = {"scored": 0, "rejected": 0, "flagged": 0}
    stream.write('{"period": ' + json.dumps(period) + ', "scored": [')
    for outcome in outcomes:
        if isinstance(outcome, ScoredResponse):
            stream.write(",\n" if counts["scored"] else "\n")
            stream.write(outcome.json_bytes().decode())
            counts["scored"] += 1
            counts["flagged"] += bool(outcome.flags)
        elif isinstance(outcome, Rejection):
            rejected.append(outcome)
        elif isinstance(outcome, Skipped):
            skipped.append(outcome)
        elif isinstance(outcome, Notice):
            notices.append(outcome)
    counts["rejected"] = len(rejected)
    rejected_json = json.dumps([r.as_json() for r in rejected], ensure_ascii=False)
    skipped_json = json.dumps([s.as_json() for s in skipped], ensure_ascii=False)
    notices_json = json.dumps([n.as_json() for n in notices], ensure_ascii=False)
    stream.write(f'],\n"rejected": {rejected_json},\n"skipped": {skipped_json},\n')
    stream.write(f'"notices": {notices_json},\n')
    stream.write(f'"summary": {json.dumps(counts)}}}\n')
    stream.flush()
    return counts


def _print_human(
    outcomes: Iterator[Any],
    loaded: LoadedRules,
    store: Store | None,
    show_all: bool = False,
    bar: _ReadProgress | None = None,
) -> dict[str, int]:
    """The table lists flagged responses first, then the others, up to TABLE_ROWS_SHOWN
    (every one with --all); the rows kept are bounded, whatever the input's size."""
    from csat.pipeline import Recorded

    rules = loaded.rules
    limit = None if show_all else TABLE_ROWS_SHOWN
    flagged_rows: list[list[str]] = []
    other_rows: list[list[str]] = []
    table = Table(title="Scored responses", title_justify="left")
    table.add_column("Customer", overflow="fold", min_width=12)
    table.add_column("Period")
    table.add_column("Total", justify="right", no_wrap=True)
    table.add_column("Grade", justify="center")
    table.add_column("Flags", overflow="fold")
    rejected: list[Rejection] = []
    skipped: list[Skipped] = []
    notices: list[Notice] = []
    recorded: list[Recorded] = []
    periods: set[str] = set()
    counts = {"scored": 0, "rejected": 0, "flagged": 0}
    for outcome in outcomes:
        if isinstance(outcome, Rejection):
            rejected.append(outcome)
        elif isinstance(outcome, Skipped):
            skipped.append(outcome)
        elif isinstance(outcome, Recorded):
            recorded.append(outcome)
        elif isinstance(outcome, Notice):
            notices.append(outcome)
        else:
            periods.add(outcome.response.period)
            counts["scored"] += 1
            counts["flagged"] += bool(outcome.flags)
            rows = flagged_rows if outcome.flags else other_rows
            if limit is None or len(rows) < limit:
                rows.append(_score_row(outcome, rules))
    if bar:
        bar.stop()
    counts["rejected"] = len(rejected)
    shown = (flagged_rows + other_rows)[:limit]
    for row in shown:
        table.add_row(*row)
    if counts["scored"]:
        out.print(table)
        if counts["scored"] > len(shown):
            out.print(
                f"… {counts['scored'] - len(shown)} more not listed (flagged ones first): "
                "--all lists every one, --json prints them all for scripts"
            )
    if rejected:
        rt = Table(title="[red]Rejected inputs[/red]", title_justify="left")
        for col in ("File", "Sheet", "Cell", "Reason"):
            rt.add_column(col, overflow="fold")
        for r in rejected:
            rt.add_row(
                _esc(r.file),
                _esc(r.sheet or ""),
                _esc(r.cell or ""),
                f"[red]{_esc(r.reason)}[/red]",
            )
        out.print(rt)
    for s in skipped:
        _say(f"[dim]skipped {_esc(s.file)}: {_esc(s.reason)}[/dim]")
    _print_notices(notices)
    if store is None:
        where = "not recorded (dry run)"
    else:
        saved = sum(r.result.responses for r in recorded)
        where = f"{saved} recorded in {_esc(str(store.path))}"
        for period in sorted(periods):
            kept = store.period_rules(period)
            if kept and kept[0] != loaded.sha256:
                err.print(
                    f"[yellow]Note:[/yellow] {period} was first recorded under rules "
                    f"{kept[0][:12]}; its reports keep using them (csat report --rescore uses "
                    "the current rules)."
                )
    out.print(
        f"{counts['scored']} scored, {counts['rejected']} rejected, {counts['flagged']} flagged"
        f" · rules {loaded.sha256[:12]} ({_esc(str(loaded.path))}) · {where}"
    )
    return counts


def _print_notices(notices: list[Notice]) -> None:
    """Notices, the same message over many sheets said once with the count (2,000 forms all
    read on the same scale is one line, not 2,000)."""
    grouped: dict[str, list[Notice]] = {}
    for n in notices:
        grouped.setdefault(n.message, []).append(n)
    for message, group in grouped.items():
        first = group[0]
        where = first.file + (f" [{first.sheet}]" if first.sheet else "")
        if len(group) > 1:
            where += f" and {len(group) - 1} more"
        out.print(f"[yellow]notice[/yellow] {_esc(where)}: {_esc(message)}")


def _score_row(s: ScoredResponse, rules: Any) -> list[str]:
    grade_colour = {"A": "green", "B": "green", "C": "yellow", "D": "red", "E": "red"}
    flags = []
    for f in s.flags:
        if f.type == "low_score":
            flags.append(f"[red]low score {f.total:.1f}[/red]")
        else:
            flags.append(
                f"[red]{rules.items[f.item].labels.zh} {rules.levels[f.level].labels.zh}[/red]"
            )
    total = f"{s.total:.1f}" + ("" if s.complete else " [dim](rescaled)[/dim]")
    colour = grade_colour.get(s.grade, "white")
    return [
        _esc(s.response.customer),
        s.response.period,
        total,
        f"[{colour}]{s.grade}[/{colour}]",
        ", ".join(flags),
    ]


@app.command("inspect")
def inspect_command(
    paths: Annotated[list[str], typer.Argument(help="Survey files or folders holding them.")],
    scale: Annotated[
        str | None, typer.Option(help="Explain the sheets as read on this scale.")
    ] = None,
    config: ConfigOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document on stdout.")
    ] = False,
) -> None:
    """Explain how each file and sheet is read, without scoring or recording anything.

    Example: [bold]csat inspect returns/wjx-export.xlsx[/bold]

    For every file: its format and encoding; for every sheet: the layout (table or form), the
    header rows, what each column became (an item, a field, or nothing, and why), the rating
    scale chosen and the words that decided it, and the rows skipped as not replies.
    """
    from csat.intake import discover
    from csat.intake.files import InputFile
    from csat.intake.inspect import inspect_file

    with _errors():
        loaded = _rules(config)
        _check_scale(scale, loaded)
        infos: list[dict[str, Any]] = []
        for found in discover(paths):
            if isinstance(found, InputFile):
                info = inspect_file(found, loaded.rules, scale)
                if as_json:
                    infos.append(info.as_json())
                else:
                    _print_inspection(info)
            elif as_json:
                infos.append({"file": found.file, "skipped": found.reason})
            else:
                out.print(f"[dim]skipped {_esc(found.file)}: {_esc(found.reason)}[/dim]")
        if as_json:
            sys.stdout.write(json.dumps({"files": infos}, ensure_ascii=False, indent=1) + "\n")


def _print_inspection(info: Any) -> None:
    how = info.format or "unreadable"
    if info.encoding:
        sep = {"\t": "tab", ",": "comma", ";": "semicolon"}.get(info.delimiter or "", "")
        how += f", {info.encoding}" + (f", {sep}-separated" if sep else "")
    out.print(f"[bold]{_esc(info.file)}[/bold] ({_esc(how)}; {_esc(info.kind)})")
    if info.problem:
        out.print(f"  [red]cannot be read: {_esc(info.problem)}[/red]")
    for sh in info.sheets:
        head = f"  sheet [bold]{_esc(sh.name)}[/bold]: {sh.layout}"
        if sh.header_rows:
            first, last = sh.header_rows
            head += f", header row {first}" if first == last else f", header rows {first}-{last}"
        if sh.layout == "table":
            head += f", {sh.replies} reply row" + ("" if sh.replies == 1 else "s")
        out.print(head)
        if sh.layout in ("empty", "none", "refused"):
            if sh.layout == "none":
                out.print("    [red]no survey found: no customer column with items[/red]")
            if sh.refused:
                out.print(f"    [red]not read: {_esc(sh.refused)}[/red]")
            continue
        table = Table(show_edge=False, pad_edge=False, box=None, padding=(0, 2, 0, 4))
        for name in ("Cell", "Header", "Became", "Why"):
            table.add_column(name, overflow="fold")
        for c in sh.columns:
            colour = (
                "green"
                if c.became.startswith(("item", "level"))
                else ("cyan" if c.became.startswith("field") else "dim")
            )
            table.add_row(
                c.cell, _esc(c.header), f"[{colour}]{_esc(c.became)}[/{colour}]", _esc(c.why)
            )
        out.print(table)
        out.print(f"    read on {_esc(sh.scale_reason or '')}")
        for word, readings in sh.ambiguous.items():
            where = ", ".join(f"{lv} on {sc}" for sc, lv in readings.items())
            out.print(f"    [red]ambiguous: '{_esc(word)}' means {_esc(where)}[/red]")
        for key in sh.missing_items:
            out.print(f"    [yellow]no column for item {key}: read as unanswered[/yellow]")
        for skip in sh.rows_skipped:
            out.print(f"    skipped row {skip['row']}: {_esc(skip['why'])}")
        if sh.blank_rows:
            out.print(f"    {sh.blank_rows} blank rows")


def _check_plausible(period: Any, loaded: LoadedRules, today: date) -> None:
    """A --period outside the reply dates the rules find plausible is a typo, not a period."""
    dates = loaded.rules.dates
    last = today.year + dates.latest_years_ahead
    if not dates.earliest.year <= period.year <= last:
        raise UsageError(
            f"--period {period} is not plausible: replies are dated {dates.earliest.year}-{last} "
            f"(dates: in {loaded.path}); check the year for a typo"
        )


@app.command()
def report(
    period: Annotated[str, typer.Option(help="Period to report: 2024H1, 2024Q2, 2024-05, 2024.")],
    out: Annotated[
        Path, typer.Option(help="Folder for reports; the workbook goes in OUT/PERIOD/.")
    ] = Path("reports"),
    lang: Annotated[Lang, typer.Option(help="Language of sheet names and headers.")] = Lang.zh,
    config: ConfigOpt = None,
    db: DbOpt = None,
    rescore: Annotated[
        bool,
        typer.Option(
            "--rescore", help="Score with the current rules, not those recorded with the period."
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary figures as JSON.")
    ] = False,
    report_date: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="Date the report states, YYYY-MM-DD (default: today).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write the statistics workbook of a period, compared with the period before.

    Example: [bold]csat report --period 2024H1 --lang en[/bold]

    Writes OUT/PERIOD/csat-PERIOD.xlsx (default reports/). Exit 1 when the period has no
    recorded responses or the workbook cannot be written (an earlier one stays intact).
    """
    from csat.report import build_report, summary_json
    from csat.store import Store, default_db_path

    with _errors():
        the_period = parse_period(period)
        made_on = _parse_date(report_date) if report_date else date.today()
        loaded = _rules(config)
        with Store.open(db or default_db_path(), create=False) as store, _stages() as stages:
            result = build_report(
                store,
                the_period,
                loaded,
                out,
                lang.value,
                made_on,
                rescore=rescore,
                templates=Path("templates"),
                progress=stages,
            )
        if as_json:
            sys.stdout.write(json.dumps(summary_json(result), ensure_ascii=False, indent=2) + "\n")
            return
        _print_report(result)


def _print_report(result: ReportResult) -> None:
    v, s = result.view, result.view.stats
    table = Table(title=f"Report {v.period}", title_justify="left", show_header=False)
    table.add_column("Figure")
    table.add_column("Value", justify="right")
    rows = [
        ("Responses counted", f"{s.responses}"),
        ("Customers", f"{s.customers}"),
        ("Superseded by a later reply", f"{s.superseded}"),
        ("Mean total", _fmt(s.mean_total)),
        ("Median total", _fmt(s.median_total)),
        ("Grades", "  ".join(f"{g} {n}" for g, n in s.grade_counts.items())),
        ("Customers flagged", f"{s.flagged}"),
    ]
    if v.previous is not None and v.change is not None:
        rows.append(
            (
                f"Mean total vs {v.previous.period}",
                f"{_fmt(v.previous.mean_total)} → {_fmt(s.mean_total)} "
                f"({_fmt(v.change.mean_total, signed=True)})",
            )
        )
    rows.append(("Inputs rejected", f"{len(v.rejected)}"))
    for label, value in rows:
        table.add_row(label, value)
    out.print(table)
    for line in result.review:
        out.print(_esc(line))
    rescored = " · rescored with the current rules" if v.rescored else ""
    if result.capa_forms:
        counts = v.capa_counts
        late = f", [red]{counts['overdue']} overdue[/red]" if counts["overdue"] else ""
        judged = ""
        if counts["effective"] or counts["ineffective"]:
            judged = (
                f" · judged by later replies: {counts['effective']} effective, "
                f"[red]{counts['ineffective']} ineffective[/red] (reopened)"
            )
        out.print(
            f"CAPAs: {counts['total']} ({counts['open']} open{late}){judged} · forms in "
            f"{_esc(str(result.capa_forms[-1].parent))}/"
        )
    out.print(
        f"Wrote {_esc(str(result.path))} · rules {', '.join(h[:12] for h in v.rules_hashes)}"
        f"{rescored}"
    )


def _fmt(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "—"
    return f"{x:+.1f}" if signed else f"{x:.1f}"


@app.command()
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


@app.command()
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


def _capa_store(db: Path | None) -> Store:
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
    db: Path | None,
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


def _flags_text(c: CapaRecord, rules: Any) -> str:
    parts = []
    for f in c.flags:
        if f.type == "low_score":
            parts.append(f"total {f.total:.1f}")
        elif f.item in rules.items and f.level in rules.levels:
            parts.append(f"{rules.items[f.item].labels.zh} {rules.levels[f.level].labels.zh}")
        else:
            parts.append(f"{f.item} {f.level}")
    return ", ".join(parts)


def _capa_json(c: CapaRecord, today: date) -> dict[str, Any]:
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


def _status_text(c: CapaRecord) -> str:
    return "closed, ready to verify" if c.ready_to_verify else c.status


def _verdict_text(c: CapaRecord) -> str:
    if c.effectiveness is None:
        return "—"
    colour = "green" if c.effectiveness == "effective" else "red"
    return f"[{colour}]{c.effectiveness}[/{colour}]"


def _event_text(e: CapaEvent, rules: Any) -> str:
    from csat.capa import evidence_text

    """One step of the history in words (customer and user text escaped for Rich)."""
    if e.step == "judged":
        words = evidence_text(e.evidence, rules, "en") if e.evidence else ""
        colour = "green" if e.verdict == "effective" else "red"
        return f"[{colour}]{e.verdict}[/{colour}]: {_esc(words)}"
    return _esc(e.text or "")


def _print_capa(c: CapaRecord, rules: Any, today: date) -> None:
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


@imports_app.command("list")
def imports_list(
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List every import: number, when, file, periods, responses and rejections recorded.

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
        for i in found:
            table.add_row(
                str(i.id),
                i.imported_at,
                _esc(i.path),
                ", ".join(i.periods) or "—",
                str(i.responses),
                str(i.rejections),
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


@config_app.command("check")
def config_check(config: ConfigOpt = None) -> None:
    """Validate the scoring rules and print the scoring table.

    Example: [bold]csat config check --config config/weights.yaml[/bold]
    """
    from csat.config import packaged_data_dir

    with _errors():
        loaded = _rules(config)
        rules = loaded.rules
        table = Table(title=f"Scoring rules: {_esc(str(loaded.path))}", title_justify="left")
        table.add_column("Item")
        table.add_column("Weight", justify="right")
        for lv in rules.levels.values():
            table.add_column(f"{lv.labels.zh}\n{lv.labels.en}", justify="right")
        table.add_column("Department")
        for it in rules.items.values():
            dept = rules.departments[it.department]
            table.add_row(
                f"{it.labels.zh}\n{it.labels.en}",
                f"{it.weight:g}",
                *(f"{it.points[k]:g}" for k in rules.levels),
                f"{dept.zh} {dept.en}",
            )
        table.add_row(
            "[bold]Total[/bold]",
            f"{sum(i.weight for i in rules.items.values()):g}",
            *(f"{sum(i.points[k] for i in rules.items.values()):g}" for k in rules.levels),
            "",
        )
        out.print(table)
        bands = ", ".join(f"{g} ≥ {b:g}" for g, b in rules.grades.items())
        out.print(f"Grades: {bands}")
        flag_levels = ", ".join(rules.levels[k].labels.zh for k in rules.flags.flag_levels)
        out.print(f"Flags: total under {rules.flags.low_score_below:g}; items rated {flag_levels}")
        out.print(
            f"Missing items: {rules.missing_items.value} (minimum answered weight "
            f"{rules.min_answered_weight:g}); cadence {rules.cadence.value}"
        )
        scales = Table(
            title="Rating scales (each sheet is read on the one its words fit"
            + (f"; pinned: {rules.scale}" if rules.scale else "")
            + ")",
            title_justify="left",
        )
        scales.add_column("Scale", no_wrap=True)
        for lv in rules.levels.values():
            scales.add_column(f"{lv.labels.en}\n({lv.number})")
        for key, sc in rules.scales.items():
            note = "\n[dim]numbers are option positions; used only when pinned[/dim]"
            scales.add_row(
                f"{key}" + (note if sc.numbers.value == "position" else ""),
                *(" / ".join(_esc(w) for w in sc.words.get(lv, [])) for lv in rules.levels),
            )
        out.print(scales)
        out.print(
            f"Dates: 12/06/2024 read as {rules.dates.order.value}; plausible from "
            f"{rules.dates.earliest} to {rules.dates.latest_years_ahead} year(s) ahead"
        )
        out.print(f"Rules hash: {loaded.sha256}")
        if loaded.path.resolve() == (packaged_data_dir() / "config" / "weights.yaml").resolve():
            out.print(
                f"Checked the packaged defaults ({_esc(str(loaded.path))}): there is no "
                "./config/weights.yaml here. cd into the folder csat init set up, or use --config."
            )
        else:
            out.print(f"Checked {_esc(str(loaded.path))}: valid.")


@config_app.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of weights.yaml (editors use it for completion and checks).

    Example: [bold]csat config schema > config/weights.schema.json[/bold]
    """
    with _errors():
        from csat.config import json_schema

        sys.stdout.write(json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n")


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to set up.")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite files already there.")] = False,
    company: Annotated[
        str | None,
        typer.Option(help="Your company's name in Chinese, printed on the survey forms."),
    ] = None,
    company_en: Annotated[
        str | None, typer.Option(help="Your company's name in English, for English forms.")
    ] = None,
) -> None:
    """Copy the packaged config/ and templates/ into a folder for you to edit.

    Example: [bold]csat init work --company 苏州精工电子有限公司 --company-en "Suzhou
    Precision Electronics Co., Ltd."[/bold]

    Survey forms are signed with the company's name: csat survey refuses to send them until it
    is set (asked here when run in a terminal).
    """
    from csat import setup

    with _errors():
        if company is None and company_en is None and sys.stdin.isatty():
            company = typer.prompt("Company name in Chinese (on the forms)", default="") or None
            if company:
                company_en = typer.prompt("Company name in English", default=company)
        if (company is None) != (company_en is None):
            company = company or company_en
            company_en = company_en or company
        names = (company, company_en) if company and company_en else None
        result = setup.init_folder(directory, force=force, company=names)
        for path in result.written:
            _say(f"[green]wrote[/green] {_esc(str(path))}")
        for path in result.kept:
            _say(f"[yellow]kept[/yellow]  {_esc(str(path))} (exists; --force overwrites)")
        if result.company_set:
            _say(f"Company name set in {_esc(str(result.company_set))}")
        go = "" if directory.resolve() == Path.cwd().resolve() else f"cd {_esc(str(directory))}, "
        out.print(f"Next: {go}edit config/weights.yaml, then run csat config check.")
        if not result.company_set:
            out.print(
                "Before csat survey: set survey.company in config/weights.yaml "
                "(or csat init --company NAME --company-en NAME)."
            )


def _reflow(text: str) -> str:
    """Docstring paragraphs as single lines: Rich help wraps them at the terminal's width,
    not where the source line ended."""
    paragraphs = cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


for _group in (app, config_app, capa_app):
    for _command in _group.registered_commands:
        if _command.callback is not None and _command.callback.__doc__:
            _command.help = _reflow(_command.callback.__doc__)


def main() -> None:
    """Console-script entry point."""
    app()
