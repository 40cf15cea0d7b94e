"""csat report: the statistics workbook of a period, and its summary on the terminal."""

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from csat.cli.common import (
    ConfigOpt,
    DbOpt,
    Lang,
    _check_site,
    _errors,
    _esc,
    _parse_date,
    _rules,
    _stages,
    out,
)
from csat.periods import parse_period

if TYPE_CHECKING:
    from csat.report import ReportResult


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
    site: Annotated[
        str | None,
        typer.Option(
            help="Report one site's replies (as recorded by csat score --site) into "
            "OUT/PERIOD/site-SITE/; default: the group, every site.",
            show_default=False,
        ),
    ] = None,
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

    Writes OUT/PERIOD/csat-PERIOD.xlsx (default reports/), a site's report in
    OUT/PERIOD/site-SITE/. Exit 1 when the period (or the site in it) has no recorded
    responses or the workbook cannot be written (an earlier one stays intact).
    """
    from csat.report import build_report, summary_json
    from csat.store import Store, default_db_path

    with _errors():
        the_period = parse_period(period)
        the_site = _check_site(site) if site is not None else None
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
                site=the_site,
            )
        if as_json:
            sys.stdout.write(json.dumps(summary_json(result), ensure_ascii=False, indent=2) + "\n")
            return
        _print_report(result)


def _print_report(result: "ReportResult") -> None:
    v, s = result.view, result.view.stats
    title = f"Report {v.period}" + (f" · site {_esc(v.site)}" if v.site is not None else "")
    table = Table(title=title, title_justify="left", show_header=False)
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
