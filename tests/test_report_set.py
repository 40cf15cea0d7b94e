"""Issue 10.7 and 10.13: a report set (workbook, CAPA forms, index) is replaced whole or not at
all, and its CAPAs are recorded only with it. Faults are real: a file-size limit (ulimit -f) for
a full disk, kill -9 while a form waits on a FIFO, broken and hostile templates."""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from conftest import DATA, ROOT, TABLE_HEADER, write_workbook

from csat.config import load_rules
from csat.periods import parse_period
from csat.pipeline import record_outcomes
from csat.store import Store

H1 = parse_period("2024H1")
BAD = ["非常不满意"] * 7


def csat(*args: str, cwd: Path, fsize: int | None = None) -> subprocess.Popen[str]:
    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.Popen(
        [sys.executable, "-m", "csat", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=limit,
        env={**os.environ, "PYTHONPATH": str(ROOT), "CSAT_DB": str(cwd / "csat.db")},
    )


def finished(proc: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out + err


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def capas(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [n for (n,) in conn.execute("SELECT number FROM capas ORDER BY number")]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder with a store holding 2024H1 and a first report of it."""
    loaded = load_rules(ROOT / "config" / "weights.yaml")
    with Store.open(tmp_path / "csat.db") as store:
        list(record_outcomes([str(DATA)], loaded, store, datetime(2024, 7, 1), H1))
    code, output = finished(
        csat("report", "--period", "2024H1", "--date", "2024-07-15", cwd=tmp_path)
    )
    assert code == 0, output
    return tmp_path


def add_flagged_customer(work: Path, content: int = 0) -> None:
    """One more customer to flag, and `content` more who are not."""
    good = [[i, f"客户{i}", f"K{i}", "2024-05-05", *["较满意"] * 7, None] for i in range(content)]
    new = write_workbook(
        work / "late.xlsx",
        {"S": [TABLE_HEADER, [1, "新客户", "Z9", "2024-06-30", *BAD, "差"], *good]},
    )
    loaded = load_rules(ROOT / "config" / "weights.yaml")
    with Store.open(work / "csat.db") as store:
        list(record_outcomes([str(new)], loaded, store, datetime(2024, 7, 2), H1))


def test_disk_full_during_the_report_changes_nothing(work: Path) -> None:
    before, issued = snapshot(work / "reports"), capas(work / "csat.db")
    # enough customers for a workbook bigger than the limit, which SQLite's 32 KiB index is not
    add_flagged_customer(work, content=2000)
    proc = csat("report", "--period", "2024H1", "--date", "2024-07-16", cwd=work, fsize=64 * 1024)
    code, output = finished(proc)
    assert code == 1, output
    assert "cannot write" in output and "unchanged" in output and "bug" not in output
    assert snapshot(work / "reports") == before
    assert capas(work / "csat.db") == issued
    assert [p.name for p in (work / "reports").iterdir()] == ["2024H1"]  # no temp left
    # with room again, the new customer's CAPAs are issued and their forms written together
    code, output = finished(csat("report", "--period", "2024H1", "--date", "2024-07-16", cwd=work))
    assert code == 0, output
    added = sorted(set(capas(work / "csat.db")) - set(issued))
    assert added and all((work / "reports/2024H1/capa" / f"{n}.html").is_file() for n in added)


def test_kill_9_while_writing_the_forms_leaves_the_earlier_set_and_no_capa(work: Path) -> None:
    before, issued = snapshot(work / "reports" / "2024H1"), capas(work / "csat.db")
    add_flagged_customer(work)
    templates = work / "templates" / "capa"
    templates.mkdir(parents=True)
    form = (ROOT / "templates/capa/form.html.j2").read_text(encoding="utf-8")
    endless = "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}"
    (templates / "form.html.j2").write_text(
        form.replace("{% block body %}", "{% block body %}" + endless), encoding="utf-8"
    )
    proc = csat("report", "--period", "2024H1", "--date", "2024-07-16", cwd=work)
    # The workbook is written first, then the forms: once the temporary folder holds the
    # workbook and a capa/ folder, csat is rendering the first form (and stays there).
    temp = work / "reports" / f".2024H1.{proc.pid}.tmp"
    for _ in range(1200):
        if (temp / "capa").is_dir() and (temp / "csat-2024H1.xlsx").is_file():
            break
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=0.05)  # a pause that ends early if csat exits
    else:
        proc.kill()
        pytest.fail(str(finished(proc)))
    proc.send_signal(signal.SIGKILL)
    assert finished(proc)[0] == -signal.SIGKILL
    assert snapshot(work / "reports" / "2024H1") == before
    assert capas(work / "csat.db") == issued
    assert temp.is_dir()  # what kill -9 leaves behind
    # the next run cleans what the dead process left, and completes the set
    (templates / "form.html.j2").unlink()
    code, output = finished(csat("report", "--period", "2024H1", "--date", "2024-07-16", cwd=work))
    assert code == 0, output
    assert [p.name for p in (work / "reports").iterdir()] == ["2024H1"]
    assert len(capas(work / "csat.db")) > len(issued)


@pytest.mark.parametrize(
    ("template", "body", "where"),
    [
        ("capa/form.html.j2", "<p>\n{% if %}\n</p>", "form.html.j2, line 2"),
        ("capa/index.html.j2", "<p>\n\n{{ nothing_like_this }}</p>", "index.html.j2, line 3"),
        (
            "capa/form.html.j2",
            "{{ ''.__class__.__mro__[1].__subclasses__() }}",
            "form.html.j2, line 1",
        ),
    ],
)
def test_a_broken_or_hostile_template_is_named_and_nothing_is_written_or_issued(
    work: Path, template: str, body: str, where: str
) -> None:
    before, issued = snapshot(work / "reports"), capas(work / "csat.db")
    add_flagged_customer(work)
    path = work / "templates" / template
    path.parent.mkdir(parents=True)
    path.write_text(body, encoding="utf-8")
    code, output = finished(csat("report", "--period", "2024H1", "--date", "2024-07-16", cwd=work))
    assert code == 1, output
    assert where in output and "Nothing was written" in output, output
    assert "bug" not in output and "Traceback" not in output
    assert snapshot(work / "reports") == before
    assert capas(work / "csat.db") == issued


def test_a_broken_reminder_template_is_named(work: Path) -> None:
    customers = work / "customers.csv"
    customers.write_text("客户编号,客户名称,语言\nQ1,未回复公司,zh\n", encoding="utf-8")
    (work / "templates").mkdir()
    (work / "templates" / "reminder.zh.txt.j2").write_text("您好\n{{ customer.bad() }}\n")
    code, output = finished(
        csat("chase", "--period", "2024H1", "--customers", str(customers), cwd=work)
    )
    assert code == 1, output
    assert "reminder.zh.txt.j2, line 2" in output and "bug" not in output


def test_files_of_your_own_in_the_report_folder_are_kept(work: Path) -> None:
    notes = work / "reports" / "2024H1" / "会议纪要.txt"
    notes.write_text("keep me", encoding="utf-8")
    code, output = finished(csat("report", "--period", "2024H1", "--date", "2024-07-16", cwd=work))
    assert code == 0, output
    assert notes.read_text(encoding="utf-8") == "keep me"
    assert (work / "reports" / "2024H1" / "csat-2024H1.xlsx").is_file()


def test_a_report_folder_that_is_a_symlink_stays_one(work: Path) -> None:
    share = work / "share" / "2024H1"
    share.parent.mkdir()
    (work / "reports" / "2024H1").rename(share)
    (work / "reports" / "2024H1").symlink_to(share, target_is_directory=True)
    code, output = finished(csat("report", "--period", "2024H1", "--date", "2024-07-16", cwd=work))
    assert code == 0, output
    assert (work / "reports" / "2024H1").is_symlink()
    assert (share / "csat-2024H1.xlsx").is_file() and (share / "capa" / "index.html").is_file()
