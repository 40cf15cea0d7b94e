"""`csat score --jobs N` (issue 12): many files read by a pool of processes give the same
results, in the same order, and the same store as one process. Real subprocesses and SQLite."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import form_rows, write_workbook

from csat.pipeline import POOL_MIN_FILES


def _forms(folder: Path) -> Path:
    """More forms than it takes to start a pool, one without a customer (rejected) and one
    file that is not a workbook (skipped), named so the order of reading matters."""
    count = POOL_MIN_FILES * 2 + 3
    for i in range(count):
        marks = {item: (i + item) % 5 for item in range(7) if (i, item) != (4, 3)}
        customer = None if i == 7 else f"客户{i:02d}"
        write_workbook(
            folder / f"form-{(i * 7) % count:02d}.xlsx",
            {"调查表": form_rows(customer, marks, comment=f"意见{i}")},
        )
    (folder / "notes.txt").write_text("not a survey\n", encoding="utf-8")
    return folder


def _csat(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "csat", *args], capture_output=True, text=True, env=env, check=False
    )


def _stored(db: Path) -> list[list[tuple[object, ...]]]:
    conn = sqlite3.connect(db)
    try:
        return [
            conn.execute("SELECT id, path FROM imports ORDER BY id").fetchall(),
            conn.execute(
                "SELECT id, import_id, customer, period, total, grade FROM responses ORDER BY id"
            ).fetchall(),
            conn.execute(
                "SELECT response_id, item, level FROM ratings ORDER BY response_id, item"
            ).fetchall(),
            conn.execute(
                "SELECT import_id, sheet, cell, reason FROM rejections ORDER BY id"
            ).fetchall(),
        ]
    finally:
        conn.close()


def test_jobs_2_prints_what_jobs_1_prints_in_the_same_order(tmp_path: Path) -> None:
    folder = _forms(tmp_path / "returns")
    one = _csat("score", "--dry-run", "--json", "--period", "2024H1", "--jobs", "1", str(folder))
    two = _csat("score", "--dry-run", "--json", "--period", "2024H1", "--jobs", "2", str(folder))
    assert one.returncode == two.returncode == 3, one.stderr  # the form without a customer
    assert one.stdout == two.stdout
    assert one.stdout.index("form-00.xlsx") < one.stdout.index("form-01.xlsx")
    human_one = _csat(
        "score", "--dry-run", "--all", "--jobs", "1", str(folder), "--period", "2024H1"
    )
    human_two = _csat(
        "score", "--dry-run", "--all", "--jobs", "2", str(folder), "--period", "2024H1"
    )
    assert human_one.stdout == human_two.stdout


def test_jobs_2_records_the_same_store_as_jobs_1(tmp_path: Path) -> None:
    folder = _forms(tmp_path / "returns")
    runs = []
    for jobs in ("1", "2"):
        db = tmp_path / f"csat-{jobs}.db"
        runs.append(_csat("score", "--period", "2024H1", "--db", str(db), "-j", jobs, str(folder)))
        assert _stored(db)[1], runs[-1].stdout + runs[-1].stderr
    assert runs[0].returncode == runs[1].returncode == 3
    assert _stored(tmp_path / "csat-1.db") == _stored(tmp_path / "csat-2.db")
    again = _csat(
        "score", "--period", "2024H1", "--db", str(tmp_path / "csat-2.db"), "-j", "2", str(folder)
    )
    # every file but the one whose only reply was rejected (no customer): a file that recorded
    # nothing is read again (issue 10.1), so it is rejected again rather than "already imported"
    assert again.stdout.count(".xlsx: already imported") == POOL_MIN_FILES * 2 + 2
    assert again.returncode == 3
