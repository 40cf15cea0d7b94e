"""csat score: import, score and record returned surveys; the SPEC §7 JSON document, the
human table and the notices."""

import codecs
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from rich.table import Table

from csat.cli.common import (
    EXIT_OK,
    EXIT_PARTIAL,
    ConfigOpt,
    DbOpt,
    _check_scale,
    _check_site,
    _errors,
    _esc,
    _ReadProgress,
    _rules,
    _say,
    err,
    out,
)
from csat.errors import UsageError
from csat.models import Notice, Rejection, ScoredResponse, Skipped
from csat.periods import parse_period

if TYPE_CHECKING:
    from csat.config import LoadedRules
    from csat.store import Store


TABLE_ROWS_SHOWN = 500


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
    site: Annotated[
        str | None,
        typer.Option(
            help="Site (plant) the replies are recorded for, reported with csat report --site; "
            "default: site: in the config, else none.",
            show_default=False,
        ),
    ] = None,
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

    with _errors():
        the_period = parse_period(period) if period else None
        loaded = _rules(config)
        _check_scale(scale, loaded)
        the_site = _check_site(site) if site is not None else loaded.rules.site
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
                from csat.store import Store, default_db_path  # a dry run opens no store

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
                    site=the_site,
                )
                # Closed before the store (LIFO): an interrupted file rolls back cleanly.
                stack.callback(outcomes.close)
            if bar:
                outcomes = bar.count(outcomes)
            if as_json:
                counts = _write_json(sys.stdout, str(the_period) if the_period else None, outcomes)
            else:
                counts = _print_human(
                    outcomes, loaded, None if dry_run else store, show_all, bar, the_site
                )
        raise typer.Exit(EXIT_PARTIAL if counts["rejected"] else EXIT_OK)


def _check_plausible(period: Any, loaded: "LoadedRules", today: date) -> None:
    """A --period outside the reply dates the rules find plausible is a typo, not a period."""
    dates = loaded.rules.dates
    last = today.year + dates.latest_years_ahead
    if not dates.earliest.year <= period.year <= last:
        raise UsageError(
            f"--period {period} is not plausible: replies are dated {dates.earliest.year}-{last} "
            f"(dates: in {loaded.path}); check the year for a typo"
        )


def _write_json(stream: TextIO, period: str | None, outcomes: Iterator[Any]) -> dict[str, int]:
    """Stream the SPEC §7 document: scored entries as they come, the short lists at the end."""
    rejected: list[Rejection] = []
    skipped: list[Skipped] = []
    notices: list[Notice] = []
    scored = flagged = 0
    stream.write('{"period": ' + json.dumps(period) + ', "scored": [')
    put = _bytes_writer(stream)
    batch: list[bytes] = []  # entries written 256 at a time: fewer calls into the text layer
    for outcome in outcomes:
        if isinstance(outcome, ScoredResponse):
            batch.append(b",\n" if scored else b"\n")
            batch.append(outcome.json_bytes())
            scored += 1
            if outcome.flags:
                flagged += 1
            if len(batch) >= 512:
                put(b"".join(batch))
                batch.clear()
        elif isinstance(outcome, Rejection):
            rejected.append(outcome)
        elif isinstance(outcome, Skipped):
            skipped.append(outcome)
        elif isinstance(outcome, Notice):
            notices.append(outcome)
    put(b"".join(batch))
    counts = {"scored": scored, "rejected": len(rejected), "flagged": flagged}
    rejected_json = json.dumps([r.as_json() for r in rejected], ensure_ascii=False)
    skipped_json = json.dumps([s.as_json() for s in skipped], ensure_ascii=False)
    notices_json = json.dumps([n.as_json() for n in notices], ensure_ascii=False)
    stream.write(f'],\n"rejected": {rejected_json},\n"skipped": {skipped_json},\n')
    stream.write(f'"notices": {notices_json},\n')
    stream.write(f'"summary": {json.dumps(counts)}}}\n')
    stream.flush()
    return counts


def _bytes_writer(stream: TextIO) -> Callable[[bytes], object]:
    """Write UTF-8 entries as they are: straight to the byte layer under a UTF-8 text stream
    (after what the text layer holds), else decoded a batch at a time."""
    raw = getattr(stream, "buffer", None)
    encoding = getattr(stream, "encoding", None) or ""
    if raw is None or codecs.lookup(encoding).name != "utf-8":
        return lambda data: stream.write(data.decode())

    def put(data: bytes) -> None:
        stream.flush()
        raw.write(data)

    return put


def _print_human(
    outcomes: Iterator[Any],
    loaded: "LoadedRules",
    store: "Store | None",
    show_all: bool = False,
    bar: _ReadProgress | None = None,
    site: str = "",
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
        where = f"{saved} recorded in {_esc(store.name)}"
        if site:
            where += f" for site {_esc(site)}"
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
