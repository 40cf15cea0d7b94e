"""Every row of issue 12's table, csat against its baseline in the same run. Not part of the tests.

    python benchmarks/run.py            # 10k and 100k tables, 2,000 forms, record, report, --help
    python benchmarks/run.py --quick    # a one-minute subset on 10k rows
    python benchmarks/run.py --big      # also the full 1,048,575-row sheet (slow to generate)
    python benchmarks/run.py --repeat 5 # pairs per row (default 3)
    python benchmarks/run.py --big --only 1,048,575   # one row

Each row runs csat and its baseline back to back as one pair (which goes first alternates), the
pair repeated; the figures are medians over the pairs. The machine is shared, so the time is the
command's CPU time (user + sys, /usr/bin/time's %U + %S, which include the worker processes
it waited for) and the peak is its maximum resident set (%M); wall time is printed too because
--jobs trades CPU for wall time. The ratio is the median of the per-pair ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))
from generate import forms, table  # noqa: E402

FULL_SHEET = 1_048_575 - 4  # generate.table writes 4 title/header rows above the responses

BARE_READ = """
import sys, pathlib
from python_calamine import CalamineWorkbook
paths = [pathlib.Path(p) for p in sys.argv[1:]]
files = [f for p in paths for f in (sorted(p.rglob('*.xlsx')) if p.is_dir() else [p])]
cells = 0
for f in files:
    wb = CalamineWorkbook.from_path(str(f))
    for name in wb.sheet_names:
        for row in wb.get_sheet_by_name(name).to_python(skip_empty_area=True):
            cells += len(row)
print(cells)
"""

# calamine's lazy row iterator: what a reader that never holds the grid costs at best
BARE_ITER = BARE_READ.replace("to_python(skip_empty_area=True)", "iter_rows()")

# Everything a report writes, written bare: every cell of csat's workbook (its sheets, values
# and value types, no formats or charts) by XlsxWriter's constant_memory mode, then the CAPA
# files' bytes. The values are read back from csat's own report once (`dump_report`) and
# streamed here from a marshal file in chunks, as csat streams them from its store.
DUMP_CHUNK = 10_000
BARE_SAME = """
import marshal, sys, datetime, os, xlsxwriter
dump, target, forms = sys.argv[1:4]
wb = xlsxwriter.Workbook(target, {"constant_memory": True})
day = wb.add_format({"num_format": "yyyy-mm-dd"})
sheets = {}
with open(dump, "rb") as fh:
    while True:
        try:
            kind, name, chunk = marshal.load(fh)
        except EOFError:
            break
        if kind == "cells":
            if name not in sheets:
                sheets[name] = [wb.add_worksheet(name), 0]
            ws, r = sheets[name]
            for row in chunk:
                for c, v in enumerate(row):
                    if isinstance(v, str):
                        if v:
                            ws.write_string(r, c, v)
                    elif isinstance(v, tuple):
                        ws.write_datetime(r, c, datetime.datetime(*v), day)
                    elif isinstance(v, bool):
                        ws.write_boolean(r, c, v)
                    else:
                        ws.write_number(r, c, v)
                r += 1
            sheets[name][1] = r
        else:  # the files come after every sheet
            if wb is not None:
                wb.close()
                wb = None
            for path, data in chunk:
                os.makedirs(os.path.join(forms, os.path.dirname(path)), exist_ok=True)
                with open(os.path.join(forms, path), "wb") as out:
                    out.write(data)
if wb is not None:
    wb.close()
"""

BARE_WRITE = """
import sys, sqlite3, xlsxwriter
db, target = sys.argv[1], sys.argv[2]
conn = sqlite3.connect(db)
wb = xlsxwriter.Workbook(target, {"constant_memory": True})
ws = wb.add_worksheet("scores")
rows = conn.execute(
    "SELECT r.customer, r.customer_code, r.period, r.reply_date, "
    "group_concat(g.level), r.total, r.grade FROM responses r "
    "JOIN ratings g ON g.response_id = r.id GROUP BY r.id ORDER BY r.id")
for i, (name, code, period, day, levels, total, grade) in enumerate(rows):
    ws.write_row(i, 0, [name, code, period, day, *levels.split(","), *[1.0] * 7, total, grade,
                        "yes", "flags", "source"])
wb.close()
"""


@dataclass(frozen=True)
class Run:
    cpu: float  # user + sys seconds
    wall: float
    peak_mib: float


TIME = shutil.which("time", path="/usr/bin:/bin")


def measure(argv: Sequence[str], env: dict[str, str] | None = None) -> Run:
    """CPU, wall seconds and peak RSS of one child process (and the workers it waited for),
    by GNU time where there is one: its child is forked from a small process, so the peak is
    the command's own, not this script's image copied by fork."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        prefix = [TIME, "-o", report.name, "-f", "%U %S %M %e"] if TIME else []
        started = time.perf_counter()
        proc = subprocess.Popen(
            [*prefix, *argv], stdout=subprocess.DEVNULL, env={**os.environ, **(env or {})}
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) not in (0, 3):
            raise SystemExit(f"failed: {' '.join(argv)}")
        if TIME:
            user, system, peak_kib, wall_s = report.read().split()[-4:]
            return Run(float(user) + float(system), float(wall_s), int(peak_kib) / 1024)
    return Run(usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024)


@dataclass(frozen=True)
class Row:
    work: str
    units: int  # rows, files or customers, for the rate
    csat: Callable[[], Sequence[str]]
    baseline_label: str
    baseline: Callable[[], Sequence[str]]
    target: str
    before_each: Callable[[], None] | None = None  # e.g. a fresh database for recording
    before_baseline: Callable[[], None] | None = None


def csat_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "csat", *args]


def py(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


def run_row(row: Row, repeat: int) -> str:
    mine: list[Run] = []
    base: list[Run] = []
    for i in range(repeat):
        pair: list[tuple[list[Run], Callable[[], Sequence[str]], bool]] = [
            (mine, row.csat, True),
            (base, row.baseline, False),
        ]
        for runs, argv, is_csat in pair if i % 2 == 0 else reversed(pair):
            if is_csat and row.before_each:
                row.before_each()
            if not is_csat and row.before_baseline:
                row.before_baseline()
            runs.append(measure(argv()))
    ratios = [m.cpu / b.cpu for m, b in zip(mine, base, strict=True)]
    m_cpu = statistics.median(r.cpu for r in mine)
    b_cpu = statistics.median(r.cpu for r in base)
    m_wall = statistics.median(r.wall for r in mine)
    m_peak = statistics.median(r.peak_mib for r in mine)
    b_peak = statistics.median(r.peak_mib for r in base)
    rate = f"{row.units / m_cpu:,.0f}/s" if row.units else "–"
    return (
        f"| {row.work} | {m_cpu:.2f} s ({m_wall:.2f} s wall), {rate}, {m_peak:.0f} MiB "
        f"| {row.baseline_label} {b_cpu:.2f} s, {b_peak:.0f} MiB "
        f"| {statistics.median(ratios):.2f}× ({min(ratios):.2f}–{max(ratios):.2f}) "
        f"| {row.target} |"
    )


def ensure_table(n: int, shared: bool = False) -> Path:
    path = OUT / (f"table-{n}-shared.xlsx" if shared else f"table-{n}.xlsx")
    if not path.exists():
        print(f"(generating {path.name})", file=sys.stderr, flush=True)
        table(n, path, shared=shared)
    return path


def ensure_forms(n: int) -> Path:
    folder = OUT / f"forms-{n}"
    if not folder.exists() or len(list(folder.glob("*.xlsx"))) < n:
        print(f"(generating {folder.name})", file=sys.stderr, flush=True)
        forms(n, folder)
    return folder


def score_rows(n: int, label: str, target: str, shared: bool = False) -> list[Row]:
    path = str(ensure_table(n, shared))
    return [
        Row(
            f"`score --dry-run --json`, {label}",
            n,
            lambda: csat_cmd("score", "--dry-run", "--json", "--period", "2024H1", path),
            "calamine bare read",
            lambda: py(BARE_READ, path),
            target,
        )
    ]


def dump_report(report: Path, dump: Path) -> None:
    """csat's report read back for BARE_SAME: each sheet's cells (dates as tuples) in chunks of
    rows, then the CAPA files' bytes, one marshal record after another."""
    import marshal
    from datetime import date, datetime

    from python_calamine import CalamineWorkbook

    book = next(report.rglob("*.xlsx"))
    wb = CalamineWorkbook.from_path(str(book))

    def plain(v: object) -> object:
        if isinstance(v, datetime):
            return (v.year, v.month, v.day, v.hour, v.minute, v.second)
        if isinstance(v, date):
            return (v.year, v.month, v.day)
        return v if isinstance(v, str | bool | int | float) else str(v)

    with dump.open("wb") as fh:
        for name in wb.sheet_names:
            rows = wb.get_sheet_by_name(name).to_python()
            for i in range(0, len(rows), DUMP_CHUNK):
                chunk = [[plain(v) for v in row] for row in rows[i : i + DUMP_CHUNK]]
                marshal.dump(("cells", name, chunk), fh)
            del rows
        files = sorted(p for p in report.rglob("*") if p.is_file() and p != book)
        for i in range(0, len(files), 1000):
            chunk = [(str(p.relative_to(book.parent)), p.read_bytes()) for p in files[i : i + 1000]]
            marshal.dump(("files", "", chunk), fh)


def record_and_report_rows(n: int, work: Path) -> list[Row]:
    path = str(ensure_table(n))
    db = work / f"record-{n}.db"
    report_db = work / f"report-{n}.db"

    def fresh_db() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)

    reports = work / "reports"

    def report_inputs() -> None:
        """A recorded store for the report (made once), and no report from the last run."""
        if not report_db.exists():
            subprocess.run(
                csat_cmd("score", "--json", "--period", "2024H1", "--db", str(report_db), path),
                stdout=subprocess.DEVNULL,
                check=False,
            )
        shutil.rmtree(reports, ignore_errors=True)

    dump = work / f"report-{n}.marshal"

    def same_inputs() -> None:
        """csat's report dumped once for BARE_SAME, and no bare output from the last run."""
        if not dump.exists():
            report_inputs()
            subprocess.run(
                csat_cmd(
                    "report", "--period", "2024H1", "--db", str(report_db), "--out", str(reports)
                ),
                stdout=subprocess.DEVNULL,
                check=True,
            )
            dump_report(reports, dump)
        shutil.rmtree(work / "same", ignore_errors=True)

    return [
        Row(
            f"score + record, {n // 1000}k",
            n,
            lambda: csat_cmd("score", "--json", "--period", "2024H1", "--db", str(db), path),
            "dry-run",
            lambda: csat_cmd("score", "--dry-run", "--json", "--period", "2024H1", path),
            "≤ 1.3×",
            before_each=fresh_db,
        ),
        Row(
            f"`report`, {n // 1000}k customers",
            n,
            lambda: csat_cmd(
                "report", "--period", "2024H1", "--db", str(report_db), "--out", str(reports)
            ),
            "XlsxWriter constant_memory, same per-customer cells",
            lambda: py(BARE_WRITE, str(report_db), str(work / "bare.xlsx")),
            "≤ 1.2×, ≤ 100 MiB",
            before_each=report_inputs,
        ),
        Row(
            f"`report`, {n // 1000}k customers, against the same output written bare",
            n,
            lambda: csat_cmd(
                "report", "--period", "2024H1", "--db", str(report_db), "--out", str(reports)
            ),
            "XlsxWriter constant_memory writing every cell of csat's workbook, then the CAPA "
            "files' bytes",
            lambda: py(BARE_SAME, str(dump), str(work / "same.xlsx"), str(work / "same")),
            "for the record",
            before_each=report_inputs,
            before_baseline=same_inputs,
        ),
    ]


def postgres_record_rows(n: int, work: Path) -> list[Row]:
    """Recording n replies into PostgreSQL against recording them into SQLite (issue 15), on a
    throwaway cluster started by the first run of the row (tests/pg.py; fsync on, as a real
    server) and stopped at exit. The PostgreSQL server's own CPU time is not in csat's figure
    (another process): compare the wall times too. No row without the server binaries."""
    sys.path.insert(0, str(HERE.parent / "tests"))
    from pg import Cluster, server_bin

    bindir = server_bin()
    if bindir is None:
        return []
    path = str(ensure_table(n))
    db = work / f"pg-baseline-{n}.db"
    state: dict[str, str] = {}

    def fresh_database() -> None:
        import atexit

        if "url" not in state:
            cluster = Cluster(bindir, fast=False).start()
            atexit.register(cluster.stop)
            state["admin"] = cluster.url()
            state["url"] = cluster.url("bench")
        import psycopg

        with psycopg.connect(state["admin"], autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS bench")
            conn.execute("CREATE DATABASE bench")

    score = ["score", "--json", "--period", "2024H1", path]
    files = shlex.join([str(db), f"{db}-wal", f"{db}-shm"])
    sqlite_run = f"rm -f {files} && exec {shlex.join(csat_cmd(*score, '--db', str(db)))}"
    return [
        Row(
            f"score + record on PostgreSQL, {n // 1000}k",
            n,
            lambda: csat_cmd(*score, "--db", state["url"]),
            "score + record on SQLite",
            lambda: ["sh", "-c", sqlite_run],
            "for the record (server CPU not counted)",
            before_each=fresh_database,
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a minute-long subset")
    parser.add_argument("--big", action="store_true", help="also the 1,048,575-row sheet")
    parser.add_argument("--repeat", type=int, default=3, help="pairs per row (default 3)")
    parser.add_argument("--only", help="run only the rows whose work contains this text")
    args = parser.parse_args()
    os.environ.setdefault("COLUMNS", "120")
    # Measure what an installed csat costs: a wheel's modules are compiled once when installed,
    # and the baselines' libraries are too; a checkout under PYTHONDONTWRITEBYTECODE would
    # compile csat's modules on every run (~14 ms of --help, ~40 ms of score).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    csat_source = str(HERE.parent / "csat")
    subprocess.run([sys.executable, "-m", "compileall", "-q", csat_source], check=True)
    with tempfile.TemporaryDirectory(prefix="csat-bench-") as tmp:
        work = Path(tmp)
        rows: list[Row] = []
        if not args.quick:
            rows += score_rows(100_000, "100k-row table", "≤ 1.5×")
            # The table writes its texts inline (openpyxl write-only); Excel saves
            # them as shared strings, which calamine reads in Rust and csat in Python.
            rows += score_rows(100_000, "same, texts shared as Excel saves", "for the record", True)
        rows += score_rows(10_000, "10k rows", "≤ 2×")
        folder = str(ensure_forms(2000))
        rows.append(
            Row(
                "2,000 form files",
                2000,
                lambda: csat_cmd("score", "--dry-run", "--json", "--period", "2024H1", folder),
                "calamine bare read in one process",
                lambda: py(BARE_READ, folder),
                "≤ 1.5×",
            )
        )
        if args.big:
            big = str(ensure_table(FULL_SHEET))
            rows.append(
                Row(
                    "1,048,575-row table",
                    FULL_SHEET,
                    lambda: csat_cmd("score", "--dry-run", "--json", "--period", "2024H1", big),
                    "calamine row iterator",
                    lambda: py(BARE_ITER, big),
                    "≤ 1.5× and ≤ 300 MiB",
                )
            )
        rows += record_and_report_rows(10_000 if args.quick else 100_000, work)
        rows += postgres_record_rows(10_000 if args.quick else 100_000, work)
        rows.append(
            Row(
                "`csat --help`",
                0,
                lambda: csat_cmd("--help"),
                '`python -c "import typer"`',
                lambda: py("import typer"),
                "≤ 1.5×",
            )
        )
        cores = os.cpu_count()
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()} {cores} cores "
            f"({platform.processor() or platform.system()}), load {load}, "
            f"Python {platform.python_version()}; CPU time user+sys, median of {args.repeat} "
            "paired runs"
        )
        print()
        print("| work | csat | baseline | ratio (range) | target |")
        print("|---|---|---|---|---|")
        for row in rows:
            if args.only is None or args.only in row.work:
                print(run_row(row, args.repeat), flush=True)


if __name__ == "__main__":
    main()
