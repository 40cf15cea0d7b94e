"""Issue 10.11: customer text, file and sheet names never drive the terminal. Every command
prints them with Rich markup escaped and control characters (ESC, OSC, C0/C1, bidi overrides)
made visible; --json keeps them exactly."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest
import xlsxwriter
from conftest import ROOT, TABLE_HEADER, named_rules
from typer.testing import CliRunner

from csat.cli import app
from csat.customers import Customer
from csat.store import Store

runner = CliRunner()
NAME = "Evil\x1b[2J\x1b]52;c;aGk=\x07 Co.\u202e"
COMMENT = "see \x1b]8;;https://x.example\x1b\\click\x1b]8;;\x1b\\ \x9b31m"
# What must never reach a terminal from our data: ESC, BEL, C1 CSI, the bidi override
FORBIDDEN = re.compile("[\x1b\x07\x9b\u202e]")


def hostile_table(path: Path, sheet: str = "S") -> Path:
    """A table (written by XlsxWriter, which stores control characters as _x001B_) with a
    hostile customer, comment and a rejected row; the sheet is then renamed in the XML, as a
    hand-edited file could be (Excel itself forbids [ ] in sheet names)."""
    wb = xlsxwriter.Workbook(path.with_suffix(".tmp.xlsx"))
    ws = wb.add_worksheet("S")
    ws.write_row(0, 0, TABLE_HEADER)
    ws.write_row(1, 0, [1, NAME, "E1", "2024-06-01", *["非常不满意"] * 7, COMMENT])
    ws.write_row(2, 0, [2, "[bold]B[/] Co.", "E2", "2024-06-01", *["很好"] * 7, None])
    wb.close()
    with (
        zipfile.ZipFile(path.with_suffix(".tmp.xlsx")) as src,
        zipfile.ZipFile(path, "w") as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b'name="S"', f'name="{sheet}"'.encode())
            dst.writestr(info, data)
    path.with_suffix(".tmp.xlsx").unlink()
    return path


def clean(*texts: str) -> None:
    for text in texts:
        found = FORBIDDEN.search(text)
        assert found is None, repr(text[max(0, found.start() - 40) : found.end() + 40])


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Path, Path]:
    path = hostile_table(tmp_path / "回执[final].xlsx", sheet="[/]x")
    db = tmp_path / "h.db"
    result = runner.invoke(app, ["score", str(path), "--db", str(db)])
    assert result.exit_code == 3, result.output
    return path, db


def test_score_prints_names_as_text_without_control_sequences(
    recorded: tuple[Path, Path],
) -> None:
    path, db = recorded
    again = hostile_table(path.with_name("[link=https:evil]x\x1b[2J.xlsx"), sheet="[/]x")
    result = runner.invoke(app, ["score", str(again), "--dry-run"])
    assert result.exit_code == 3, result.output
    clean(result.stdout, result.stderr)
    text = result.stdout.replace("\n", "").replace("│", "").replace(" ", "")
    assert "[link=https:evil]x" in text
    assert "\\x1b[2J" in text  # shown, not obeyed
    assert "[/]x" in text  # the sheet of the rejected row
    assert "Evil\\x1b[2J\\x1b]52;c;aGk=\\x07Co." in text


def test_json_keeps_customer_text_exactly(recorded: tuple[Path, Path]) -> None:
    path, _ = recorded
    result = runner.invoke(app, ["score", str(path), "--dry-run", "--json"])
    doc = json.loads(result.stdout)
    assert doc["scored"][0]["customer"] == NAME
    assert doc["rejected"][0]["sheet"] == "[/]x"
    assert doc["rejected"][0]["file"] == str(path)


def test_report_capa_and_chase_escape_too(recorded: tuple[Path, Path], tmp_path: Path) -> None:
    _, db = recorded
    out = tmp_path / "reports"
    report = runner.invoke(
        app, ["report", "--period", "2024H1", "--db", str(db), "--out", str(out)]
    )
    assert report.exit_code == 0, report.output
    listed = runner.invoke(app, ["capa", "list", "--db", str(db), "--date", "2024-07-01"])
    number = json.loads(runner.invoke(app, ["capa", "list", "--json", "--db", str(db)]).stdout)
    shown = runner.invoke(app, ["capa", "show", number[0]["number"], "--db", str(db)])
    assert number[0]["customer"] == NAME and number[0]["comments"] == COMMENT
    with Store.open(db) as store:
        evil = Customer("X[/]1", "Chased\x1b[2J", "en", contact="\x1b]52;c;aGk=\x07Ms. X")
        store.record_sent("2024H1", [(evil, "en", "f.xlsx")], date(2024, 6, 1), date(2024, 6, 15))
    chased = runner.invoke(app, ["chase", "--period", "2024H1", "--db", str(db)])
    closed = runner.invoke(
        app,
        ["capa", "close", number[0]["number"], "--action", "done\x1b[2J", "--db", str(db)],
    )
    for result in (report, listed, shown, chased, closed):
        assert result.exit_code in (0, 3), result.output
        clean(result.stdout, result.stderr)
    assert "Evil\\x1b[2J" in shown.stdout and "x.example" in shown.stdout
    assert "X[/]1" in chased.stdout and "Ms. X" in chased.stdout


def test_survey_prints_names_literally(tmp_path: Path) -> None:
    listing = tmp_path / "c.csv"
    listing.write_text("客户编号,客户名称,语言\n[b]1[/b],[red]Red[/red] Co.,en\n", encoding="utf-8")
    result = runner.invoke(
        app,
        ["survey", "--customers", str(listing), "--period", "2024H1", "--out", str(tmp_path)]
        + ["--config", str(named_rules(tmp_path))],
    )
    assert result.exit_code == 0, result.output
    assert "[red]Red[/red] Co." in result.stdout and "[b]1[/b]" in result.stdout


def test_error_messages_are_text_too(tmp_path: Path) -> None:
    result = runner.invoke(app, ["capa", "list", "--date", "[/]\x1b[2J"])
    assert result.exit_code == 2
    clean(result.stderr)
    assert "[/]" in result.stderr


def test_on_a_real_pseudo_terminal_no_escape_sequence_of_ours_gets_through(
    recorded: tuple[Path, Path], tmp_path: Path
) -> None:
    """Rich colours the output (its own SGR sequences); nothing else may appear: no OSC (52
    clipboard, 8 links), no clear screen, no bell."""
    path, _ = recorded
    main, sub = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160", "PYTHONPATH": str(ROOT)}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "csat", "score", path.name, "--dry-run"],
        stdin=sub,
        stdout=sub,
        stderr=sub,
        env=env,
        cwd=path.parent,
    )
    os.close(sub)
    got = b""
    while True:
        ready, _, _ = select.select([main], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        got += chunk
    assert proc.wait(timeout=60) == 3
    os.close(main)
    assert b"\x1b[" in got  # Rich did colour it: this really was a terminal
    for bad in (b"\x1b]", b"\x1b[2J", b"\x07", b"\xc2\x9b", "\u202e".encode()):
        assert bad not in got, bad
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|[\s│]", "", got.decode())
    assert "回执[final].xlsx" in shown
