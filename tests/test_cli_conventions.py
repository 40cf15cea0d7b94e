"""What a user expects of any command line (clig.dev): --version, -h, -q/-v, completion, help
that reads well, one exit code for a missing file, tables that survive a pipe, local times."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import DATA, ROOT
from typer.testing import CliRunner

import csat.cli.score
from csat import __version__
from csat.cli import app
from csat.config import load_rules, packaged_data_dir
from csat.pipeline import record_outcomes
from csat.store import Store

runner = CliRunner()
NORDLICHT = str(DATA / "returned-form-en-Nordlicht.xlsx")
CONSOLIDATED = str(DATA / "consolidated-2024H1.xlsx")


def test_version_and_short_help() -> None:
    assert runner.invoke(app, ["--version"]).stdout.strip() == f"csat {__version__}"
    for args in (["-h"], ["score", "-h"], ["capa", "-h"], ["capa", "list", "-h"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Usage:" in result.stdout, args
    top = runner.invoke(app, ["-h"]).stdout
    for option in ("--quiet", "-q", "--verbose", "-v", "--install-completion", "--version"):
        assert option in top


@pytest.mark.parametrize(
    "args", [["-h"], ["score", "-h"], ["survey", "-h"], ["config", "-h"], ["capa", "-h"]]
)
def test_help_reads_well(args: list[str]) -> None:
    """No <bool>/<str> metavars, paragraphs not broken where the source line ended."""
    text = runner.invoke(app, args).stdout
    assert "<bool>" not in text and "<str>" not in text and "<path>" not in text
    if args == ["score", "-h"]:
        flat = " ".join(line.strip(" │") for line in text.splitlines())
        assert "(listed with file, sheet, cell and reason)" in " ".join(flat.split())
        # the sentence runs on to the terminal's width, not to the docstring's line end
        assert not any(line.rstrip().endswith("sheet,") for line in text.splitlines())
    if args in (["config", "-h"], ["capa", "-h"]):
        assert "Example:" in text


def test_quiet_and_verbose() -> None:
    loud = runner.invoke(app, ["-v", "score", NORDLICHT, "--dry-run"])
    assert loud.exit_code == 0 and "rules: " in loud.stderr
    folder = runner.invoke(app, ["score", str(ROOT / "examples"), str(DATA), "--dry-run"])
    quiet = runner.invoke(app, ["-q", "score", str(ROOT / "examples"), str(DATA), "--dry-run"])
    assert "scored" in quiet.stdout  # results stay
    assert len(quiet.stdout) <= len(folder.stdout)
    both = runner.invoke(app, ["-q", "-v", "score", NORDLICHT])
    assert both.exit_code == 2


def test_tables_to_a_pipe_keep_names_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """Width rule: $COLUMNS when set, the terminal's width, else no limit (a pipe or file
    gets each table at its natural width, so no name or flag is broken mid-word)."""
    monkeypatch.delenv("COLUMNS")
    result = runner.invoke(app, ["score", NORDLICHT, "--dry-run"])
    line = next(ln for ln in result.stdout.splitlines() if "Nordlicht Elektronik GmbH" in ln)
    assert "服务情况 不满意" in line and "交付日期 不满意" in line  # every flag on its row
    assert max(len(ln) for ln in result.stdout.splitlines()) > 80
    monkeypatch.setenv("COLUMNS", "60")
    narrow = runner.invoke(app, ["score", NORDLICHT, "--dry-run"])
    assert max(len(ln) for ln in narrow.stdout.splitlines()) <= 60


def test_score_table_lists_flagged_first_and_says_how_to_see_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(csat.cli.score, "TABLE_ROWS_SHOWN", 5)
    result = runner.invoke(app, ["score", CONSOLIDATED, "--dry-run"])
    rows = [ln for ln in result.stdout.splitlines() if "│ 2024H1" in ln]
    assert len(rows) == 5 and all("不满意" in r or "low score" in r for r in rows)
    assert "24 more not listed (flagged ones first): --all lists every one" in result.stdout
    every = runner.invoke(app, ["score", CONSOLIDATED, "--dry-run", "--all"])
    assert len([ln for ln in every.stdout.splitlines() if "│ 2024H1" in ln]) >= 29
    assert "not listed" not in every.stdout


def test_init_says_cd_and_config_check_says_which_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    made = runner.invoke(app, ["init", "work"])
    assert "Next: cd work, edit config/weights.yaml" in made.stdout
    assert "set survey.company" in made.stdout
    outside = runner.invoke(app, ["config", "check"])
    assert "Checked the packaged defaults" in outside.stdout and "cd into" in outside.stdout
    monkeypatch.chdir(tmp_path / "work")
    inside = runner.invoke(app, ["config", "check"])
    assert "Checked config/weights.yaml: valid." in inside.stdout
    # the packaged file named (a checkout's config/weights.yaml is it) is not "no config here"
    packaged = str(packaged_data_dir() / "config" / "weights.yaml")
    named = runner.invoke(app, ["config", "check", "--config", packaged])
    assert "valid." in named.stdout and "packaged defaults" not in named.stdout


@pytest.fixture
def shanghai(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_times_are_shown_in_local_time(tmp_path: Path, shanghai: None) -> None:
    db = tmp_path / "h.db"
    loaded = load_rules(ROOT / "config" / "weights.yaml")
    with Store.open(db) as store:  # recorded on a machine on UTC
        list(record_outcomes([NORDLICHT], loaded, store, datetime(2024, 7, 1, 2, 30, tzinfo=UTC)))
    again = runner.invoke(app, ["score", NORDLICHT, "--db", str(db)])
    assert "already imported on 2024-07-01 10:30" in again.stdout
    assert "+00:00" not in again.stdout


def test_the_readme_quick_start_records_nothing(tmp_path: Path) -> None:
    """The quick start's example is a dry run: it adds nothing to a store that is there."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = next(ln for ln in readme.splitlines() if "pip install . &&" in ln)
    example = command.split("&& ")[-1]
    assert example == "csat score examples/surveys-2024H1.xlsx --dry-run"
    env = {**os.environ, "CSAT_DB": str(tmp_path / "csat.db")}
    script = "from csat.cli import main; main()"
    proc = subprocess.run(
        [sys.executable, "-c", script, *example.split()[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "not recorded (dry run)" in proc.stdout
    assert not (tmp_path / "csat.db").exists()


def test_ctrl_c_that_a_library_turned_into_its_own_error_is_an_interruption() -> None:
    """openpyxl's value checks catch everything (a bare `except:`) and raise TypeError, so a
    Ctrl-C while a survey form is written came out as "unexpected TypeError … a bug in csat",
    exit 1 (seen in tests/test_survey.py's interrupted run). It is an interruption: 130."""
    import typer

    from csat.cli.common import _errors

    def a_form_cell_being_set() -> None:
        try:
            raise KeyboardInterrupt
        except:  # noqa: E722 (openpyxl.descriptors.base._convert does this)
            raise TypeError("expected <class 'float'>") from None

    with pytest.raises(typer.Exit) as got, _errors():
        a_form_cell_being_set()
    assert got.value.exit_code == 130
    with pytest.raises(typer.Exit) as bug, _errors():
        raise TypeError("expected <class 'float'>")  # a TypeError of its own is still a bug
    assert bug.value.exit_code == 1
