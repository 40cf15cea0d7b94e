"""What every command shares: the consoles, exit codes, shared options, the error handler,
the width rule, progress on stderr, and the escaping of untrusted text for the terminal."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from rich.console import Console

from csat.errors import ConfigError, CsatError, UsageError
from csat.models import Rejection, ScoredResponse

# Each command imports the library it uses, so --help, --version and completion load no
# reader, writer, Jinja, pydantic or scipy (issue 12; tests/test_startup.py checks sys.modules).
if TYPE_CHECKING:
    from csat.config import LoadedRules


EXIT_OK, EXIT_FATAL, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


class Lang(StrEnum):
    zh = "zh"
    en = "en"


HELP = {"help_option_names": ["-h", "--help"]}


out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
_state = {"debug": False, "quiet": False, "verbose": False}


def _say(message: str) -> None:
    """Progress and notes on stdout that --quiet silences (results and errors never are)."""
    if not _state["quiet"]:
        out.print(message)


ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Scoring rules YAML. Default: $CSAT_CONFIG, ./config/weights.yaml, the packaged one.",
        show_default=False,
    ),
]


# A file path or a postgresql:// URL (kept a string: a Path would fold the URL's `//`)
DbOpt = Annotated[
    str | None,
    typer.Option(
        envvar="CSAT_DB",
        metavar="PATH|URL",
        help="History database: an SQLite file (default ./csat.db) or postgresql://user@host/db.",
    ),
]
DateOpt = Annotated[
    str | None,
    typer.Option(
        "--date", help="The date to use, YYYY-MM-DD (default: today).", show_default=False
    ),
]


PIPE_WIDTH = 1000


def _width(stream: TextIO) -> int:
    """$COLUMNS when set; the terminal's width; else (a pipe, a file) so wide that a table keeps
    its natural width and no name is broken mid-word: lines end where the content does."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        if stream.isatty():
            size = os.get_terminal_size(stream.fileno()).columns
            return size if size >= 20 else 80  # a terminal that reports no size
    except (OSError, ValueError):
        pass
    return PIPE_WIDTH


@contextmanager
def _errors() -> Iterator[None]:
    """Known failures print `Error: …` and exit 1 (2 for usage); nothing shows a traceback
    unless --debug."""
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except UsageError as exc:
        err.print(f"[red]Error:[/red] {_esc(str(exc))}")
        raise typer.Exit(EXIT_USAGE) from None
    except ConfigError as exc:
        err.print("[red]Error:[/red] the scoring rules are not valid:")
        for problem in exc.problems:
            err.print(f"  • {_esc(str(problem))}")
        raise typer.Exit(EXIT_FATAL) from None
    except CsatError as exc:
        err.print(f"[red]Error:[/red] {_esc(str(exc))}")
        raise typer.Exit(EXIT_FATAL) from None
    except KeyboardInterrupt:
        err.print("[red]Interrupted.[/red]")
        raise typer.Exit(130) from None
    except BrokenPipeError:
        # The reader (| head, a pager) went away. Anything being recorded was rolled back.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        err.print("[red]Error:[/red] output closed early; a file being recorded was rolled back")
        raise typer.Exit(EXIT_FATAL) from None
    except Exception as exc:
        if _interrupted(exc):  # Ctrl-C that a library's bare `except:` made its own error
            err.print("[red]Interrupted.[/red]")
            raise typer.Exit(130) from None
        sqlite = sys.modules.get("sqlite3")  # loaded only by commands that open a store
        if sqlite is not None and isinstance(exc, sqlite.Error):
            # read failures: writes become StoreError in the store
            from csat.store import describe_sqlite_error

            err.print(f"[red]Error:[/red] {_esc(describe_sqlite_error('the database', exc))}")
            raise typer.Exit(EXIT_FATAL) from None
        if _state["debug"]:
            raise
        err.print(
            f"[red]Error:[/red] unexpected {type(exc).__name__}: {_esc(str(exc))}\n"
            "This is a bug in csat; run again with --debug and report the traceback."
        )
        raise typer.Exit(EXIT_FATAL) from None


def _interrupted(exc: BaseException) -> bool:
    """Whether a KeyboardInterrupt is behind `exc`: openpyxl's value checks catch everything
    and raise TypeError("expected <class 'float'>"), so a Ctrl-C while a form is written came
    out as "unexpected TypeError … a bug in csat", exit 1."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def _must_exist(path: Path | None, option: str) -> None:
    """A file named on the command line that is not there is a usage error (exit 2), in
    every command, as for csat score's paths."""
    if path is not None and not path.exists():
        raise UsageError(f"'{path}' does not exist ({option}): check the path")


def _rules(config: Path | None) -> LoadedRules:
    from csat.config import find_config, load_rules

    _must_exist(config, "--config")
    loaded = load_rules(find_config(config))
    if _state["verbose"]:
        err.print(f"rules: {_esc(str(loaded.path))} ({loaded.sha256[:12]})")
    return loaded


def _check_scale(scale: str | None, loaded: LoadedRules) -> None:
    if scale is not None and scale not in loaded.rules.scales:
        raise UsageError(
            f"unknown scale '{scale}': one of {', '.join(loaded.rules.scales)} ({loaded.path})"
        )


def _check_site(site: str) -> str:
    """A --site given on the command line, checked as the config's site: is."""
    from csat.config import site_problem

    problem = site_problem(site)
    if problem:
        raise UsageError(f"--site {site!r}: {problem}")
    return site


@contextmanager
def _stages() -> Iterator[Any]:
    """A spinner on stderr naming the stage of a long command (and the count so far), only
    when stderr is a terminal and not --quiet."""
    if not err.is_terminal or _state["quiet"]:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task("Starting", total=None)

    def update(stage: str, count: int) -> None:
        bar.update(task, description=f"{stage} · {count:,}" if count else stage)

    with bar:
        yield update


class _ReadProgress:
    """Progress on stderr while reading, only when stderr is a terminal and not --quiet: the
    file being read and the replies read so far, so one big file does not sit at 0/1."""

    def __init__(self) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        self.task = self.bar.add_task("Reading", total=None)
        self.file, self.file_no, self.file_count, self.rows = "", 0, 0, 0
        self.bar.start()

    @classmethod
    def start(cls) -> _ReadProgress | None:
        return cls() if err.is_terminal and not _state["quiet"] else None

    def files(self, done: int, total: int, current: str) -> None:
        self.file = current or self.file  # the last call (all done) names no file
        self.file_no, self.file_count = min(done + 1, total), total
        self._show()

    def count(self, outcomes: Iterator[Any]) -> Iterator[Any]:
        for outcome in outcomes:
            if isinstance(outcome, ScoredResponse | Rejection):
                self.rows += 1
                if self.rows % 200 == 0:
                    self._show()
            yield outcome

    def _show(self) -> None:
        where = f"file {self.file_no}/{self.file_count} " if self.file_count > 1 else ""
        self.bar.update(
            self.task,
            description=f"Reading {_esc(self.file)} {where}· {self.rows:,} replies",
        )

    def stop(self) -> None:
        self.bar.stop()


# Characters that would drive the terminal rather than be shown: C0 controls but tab and newline
# (ESC starts CSI/OSC sequences: clear screen, OSC 52 clipboard, OSC 8 links; CR overwrites a
# line), DEL, C1 controls (0x9b is a one-byte CSI), bidi overrides and isolates (text shown in
# another order than stored), and lone surrogates (undecodable bytes of a file name).
_TERMINAL_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _esc(text: str) -> str:
    """Untrusted text (customer names, comments, file and sheet names, CAPA texts) for the
    terminal: control characters shown as \\xNN instead of obeyed, Rich markup escaped. The one
    place every command's human output goes through; --json prints the text exactly."""
    from rich.markup import escape

    return escape(_TERMINAL_UNSAFE.sub(_visible, text))


FIRST_DATE, LAST_DATE = date(1990, 1, 1), date(2099, 12, 31)  # what a --date can mean


def _parse_date(text: str, option: str = "--date") -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"'{text}' is not a date: write it as 2024-07-15") from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise UsageError(
            f"{option} {text} is not a plausible date: use one between {FIRST_DATE} and {LAST_DATE}"
        )
    return day


def _arg_text(text: str | None, option: str) -> str | None:
    """Text typed on the command line. A terminal set to GBK (Chinese Windows, some SSH
    sessions) sends bytes that are not UTF-8; Python keeps them as surrogates, which cannot be
    stored. Read them as GB18030 (a superset of GBK), or refuse them with a usage error."""
    if text is None or not re.search("[\udc80-\udcff]", text):
        return text
    raw = text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise UsageError(
            f"{option} is not readable text (neither UTF-8 nor GBK); set the terminal to UTF-8 "
            "and type it again"
        ) from None
