"""Command line: parse arguments, call the library, print with Rich, exit with SPEC §7's codes.

0 success; 1 fatal (bad config, nothing done); 2 usage error; 3 partial (some inputs rejected).

One module per command group (score, inspect, report, survey and chase, capa, imports, config
and init) over common.py, the shared options and helpers; this one builds the app from them.
"""

import os
import sys
from inspect import cleandoc
from typing import Annotated

import typer

from csat import __version__
from csat.cli import capa, config, db, imports, inspect, report, score, survey
from csat.cli.common import HELP, _state, _width, err, out

app = typer.Typer(
    help="Customer-satisfaction survey procedure: import returned surveys, score, grade, flag.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings=HELP,
)


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
    if not debug:
        # calamine is Rust: a panic in it (a damaged cell; the sheet is refused) prints its
        # stack to stderr when RUST_BACKTRACE is set. Read at the panic, so set here.
        os.environ["RUST_BACKTRACE"] = "0"


# The commands, then the groups: --help lists them in this order.
app.command()(score.score)
app.command("inspect")(inspect.inspect_command)
app.command()(report.report)
app.command()(survey.survey)
app.command()(survey.chase)
app.command()(config.init)
app.add_typer(config.config_app, name="config")
app.add_typer(capa.capa_app, name="capa")
app.add_typer(imports.imports_app, name="imports")
app.add_typer(db.db_app, name="db")


def _reflow(text: str) -> str:
    """Docstring paragraphs as single lines: Rich help wraps them at the terminal's width,
    not where the source line ended."""
    paragraphs = cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


for _group in (app, config.config_app, capa.capa_app, imports.imports_app, db.db_app):
    for _command in _group.registered_commands:
        if _command.callback is not None and _command.callback.__doc__:
            _command.help = _reflow(_command.callback.__doc__)


def main() -> None:
    """Console-script entry point."""
    app()
