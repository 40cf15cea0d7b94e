"""Issue 10, clear errors: faults of the store, the disk and the command line give a message
that says what to do (exit 1 or 2), never "this is a bug" or a traceback. Faults are real: bytes
overwritten in the database, an immutable file (chattr +i), a file-size limit (ulimit -f),
signals, bytes that are not UTF-8 on the command line."""

from __future__ import annotations

import errno
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from conftest import DATA, ROOT, TABLE_HEADER, write_workbook
from typer.testing import CliRunner

from csat.cli import app
from csat.config import load_rules
from csat.periods import parse_period
from csat.pipeline import record_outcomes
from csat.store import Store

runner = CliRunner()
H1 = parse_period("2024H1")


def csat(
    *args: str | bytes, cwd: Path, fsize: int | None = None, **kw: object
) -> subprocess.CompletedProcess[bytes]:
    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run(
        [sys.executable, "-m", "csat", *args],
        cwd=cwd,
        capture_output=True,
        timeout=120,
        preexec_fn=limit,
        env={**os.environ, "PYTHONPATH": str(ROOT), "CSAT_DB": str(cwd / "csat.db")},
        **kw,  # type: ignore[arg-type]
    )


def clear(proc: subprocess.CompletedProcess[bytes], code: int, *words: str) -> str:
    text = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    assert proc.returncode == code, text
    assert "bug" not in text and "Traceback" not in text, text
    for word in words:
        assert word in text, text
    return text


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    loaded = load_rules(ROOT / "config" / "weights.yaml")
    with Store.open(tmp_path / "csat.db") as store:
        list(record_outcomes([str(DATA)], loaded, store, datetime(2024, 7, 1), H1))
    return tmp_path


def test_damaged_database_pages_say_restore_a_backup(store_dir: Path) -> None:
    db = store_dir / "csat.db"
    with sqlite3.connect(db) as conn:
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    with db.open("r+b") as fh:  # pages past the schema: the tables' data
        for n in range(3, pages):
            fh.seek(n * page)
            fh.write(b"\xa5" * page)
    clear(csat("report", "--period", "2024H1", cwd=store_dir), 1, "damaged", "restore a backup")


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("chattr"), reason="needs chattr")
def test_an_immutable_database_is_a_clear_error(store_dir: Path) -> None:
    db = store_dir / "csat.db"
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode:
        pytest.skip("this file system has no immutable attribute")
    try:
        extra = write_workbook(
            store_dir / "x.xlsx",
            {"S": [TABLE_HEADER, [1, "丙", "K1", "2024-06-01", *["较满意"] * 7, None]]},
        )
        proc = csat("score", str(extra), cwd=store_dir)
        clear(proc, 1, "csat.db")
        assert "read-only" in proc.stderr.decode() or "cannot" in proc.stderr.decode()
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)


def test_disk_full_while_recording_records_nothing(store_dir: Path) -> None:
    rows = [[i, f"客户{i}", f"K{i}", "2024-06-01", *["较满意"] * 7, None] for i in range(3000)]
    big = write_workbook(store_dir / "big.xlsx", {"S": [TABLE_HEADER, *rows]})
    before = sqlite3.connect(store_dir / "csat.db").execute("SELECT count(*) FROM responses")
    count = before.fetchone()[0]
    proc = csat("score", str(big), "--period", "2024H1", cwd=store_dir, fsize=200_000)
    clear(proc, 1, "disk full", "unchanged")
    with sqlite3.connect(store_dir / "csat.db") as conn:
        assert conn.execute("SELECT count(*) FROM responses").fetchone()[0] == count


def test_a_store_on_a_file_system_without_hard_links_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FAT and SMB refuse link(2) (EPERM); creation falls back to an exclusive create."""

    def no_links(src: object, dst: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    with Store.open(tmp_path / "fat.db") as store:
        assert store.recorded_periods() == []
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".new")]


def test_control_characters_in_a_customer_list_are_named_before_anything_is_written(
    tmp_path: Path,
) -> None:
    listing = tmp_path / "c.csv"
    listing.write_text("客户编号,客户名称,语言\nK1,好公司,zh\nK2,坏\x1b[2J公司\x07,zh\n")
    result = runner.invoke(
        app,
        ["survey", "--customers", str(listing), "--period", "2024H1", "--out", str(tmp_path)],
    )
    assert result.exit_code == 1, result.output
    assert "B3" in result.stderr and "control character" in result.stderr
    assert not (tmp_path / "2024H1").exists()


def test_gbk_bytes_in_action_are_read_as_the_chinese_typed(store_dir: Path) -> None:
    report = csat("report", "--period", "2024H1", "--date", "2024-07-15", cwd=store_dir)
    clear(report, 0)
    action = "已更换包装".encode("gbk")
    proc = csat("capa", "close", "CAPA-2024H1-001", b"--action", action, cwd=store_dir)
    clear(proc, 0)
    with sqlite3.connect(store_dir / "csat.db") as conn:
        [(text,)] = conn.execute(
            "SELECT text FROM capa_events WHERE number = 'CAPA-2024H1-001' AND step = 'closed'"
        )
    assert text == "已更换包装"
    junk = csat("capa", "close", "CAPA-2024H1-002", b"--action", b"\xff\xfe\xff", cwd=store_dir)
    clear(junk, 2, "--action")


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--period", "2024H1", "--date", "9999-12-30"],
        ["capa", "list", "--date", "9999-12-30"],
        ["capa", "close", "CAPA-2024H1-001", "--action", "x", "--date", "0001-01-01"],
    ],
)
def test_implausible_dates_are_usage_errors(store_dir: Path, args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--db", str(store_dir / "csat.db")])
    assert result.exit_code == 2, result.output
    assert "plausible" in result.stderr


def test_reply_by_before_the_issue_date_is_a_usage_error(tmp_path: Path) -> None:
    listing = tmp_path / "c.csv"
    listing.write_text("客户编号,客户名称,语言\nK1,好公司,zh\n", encoding="utf-8")
    args = ["survey", "--customers", str(listing), "--period", "2024H1", "--out", str(tmp_path)]
    result = runner.invoke(app, [*args, "--date", "2024-06-20", "--reply-by", "2024-06-01"])
    assert result.exit_code == 2, result.output
    assert "--reply-by" in result.stderr
    assert not (tmp_path / "2024H1").exists()


def test_ctrl_c_in_the_first_moments_is_no_traceback(tmp_path: Path) -> None:
    """A real SIGINT lands while the `csat` command is still importing the CLI (an import
    hook sends it when typer is being imported): exit 130 and one line, no traceback."""
    code = (
        "import os, signal, sys\n"
        "class Hit:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'typer':\n"
        "            os.kill(os.getpid(), signal.SIGINT)\n"
        "        return None\n"
        "sys.meta_path.insert(0, Hit())\n"
        "sys.argv = ['csat', 'config', 'check']\n"
        "from csat.__main__ import run\n"
        "run()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr == b"Interrupted.\n"


@pytest.fixture
def full_tmpfs(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real 64 KiB tmpfs, nearly full (needs root; skipped elsewhere)."""
    mount = tmp_path / "full"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        fd = os.open(mount / "fill", os.O_WRONLY | os.O_CREAT)
        try:
            with pytest.raises(OSError):
                while True:
                    os.write(fd, b"\0" * 4096)
            # 8 KiB left: Python's tempfile still takes it for a usable TMPDIR (it falls back
            # to /tmp when it cannot write a few bytes), then the first big write fails
            os.ftruncate(fd, os.fstat(fd).st_size - 8192)
        finally:
            os.close(fd)
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.parametrize("sqlite_tmp", [True, False])
def test_a_full_tmpdir_during_a_report_changes_nothing(
    store_dir: Path, full_tmpfs: Path, sqlite_tmp: bool
) -> None:
    rows = [
        [i, f"客户{i}", f"K{i}", "2024-06-01", *["较满意"] * 7, "评论" * 50] for i in range(3000)
    ]
    big = write_workbook(store_dir / "big.xlsx", {"S": [TABLE_HEADER, *rows]})
    clear(csat("score", str(big), "--period", "2024H1", cwd=store_dir), 0)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CSAT_DB": str(store_dir / "csat.db")}
    env["TMPDIR"] = str(full_tmpfs)
    if not sqlite_tmp:  # SQLite's sort files elsewhere: the workbook's temporary files fail
        env["SQLITE_TMPDIR"] = str(store_dir)
    proc = subprocess.run(
        [sys.executable, "-m", "csat", "report", "--period", "2024H1"],
        cwd=store_dir,
        capture_output=True,
        timeout=300,
        env=env,
    )
    clear(proc, 1, "unchanged")
    assert not (store_dir / "reports").exists() or not list((store_dir / "reports").iterdir())
    with sqlite3.connect(store_dir / "csat.db") as conn:
        assert conn.execute("SELECT count(*) FROM capas").fetchone()[0] == 0
