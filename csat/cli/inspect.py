"""csat inspect: how each file and sheet is read, without scoring or recording anything."""

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from csat.cli.common import ConfigOpt, _check_scale, _errors, _esc, _rules, out


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
