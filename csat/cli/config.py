"""csat config (check, schema) and csat init: the scoring rules explained, and a folder set
up to edit them."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from csat.cli.common import HELP, ConfigOpt, _errors, _esc, _rules, _say, out

config_app = typer.Typer(
    help="Check and explain the scoring rules.\n\n"
    "Example: [bold]csat config check[/bold] (prints the scoring table and which file it read)",
    no_args_is_help=True,
    context_settings=HELP,
)


@config_app.command("check")
def config_check(config: ConfigOpt = None) -> None:
    """Validate the scoring rules and print the scoring table.

    Example: [bold]csat config check --config config/weights.yaml[/bold]
    """
    from csat.config import uses_packaged_defaults

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
        if uses_packaged_defaults(config):
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
