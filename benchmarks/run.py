"""Time `csat score --dry-run --json` end to end against python-calamine's bare read of the same
files, printing responses/s and peak RSS of each. Not part of the test suite.

    python benchmarks/run.py            # 10k and 100k tables, 2,000 forms
    python benchmarks/run.py --big      # also the 1M-response table (slow to generate)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))
from generate import forms, table  # noqa: E402

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


def measure(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process, stdout discarded."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 3):
        raise SystemExit(f"failed: {' '.join(argv)}")
    return elapsed, usage.ru_maxrss / 1024


def case(label: str, path: Path, responses: int) -> None:
    csat_s, csat_mb = measure(
        [
            sys.executable,
            "-m",
            "csat",
            "score",
            "--dry-run",
            "--json",
            "--period",
            "2024H1",
            str(path),
        ]
    )
    bare_s, bare_mb = measure([sys.executable, "-c", BARE_READ, str(path)])
    print(
        f"| {label} | {csat_s:.2f} s | {responses / csat_s:,.0f} | {csat_mb:.0f} MiB "
        f"| {bare_s:.2f} s | {bare_mb:.0f} MiB | {csat_s / bare_s:.2f}× |",
        flush=True,
    )


def main() -> None:
    sizes = [10_000, 100_000] + ([1_000_000] if "--big" in sys.argv else [])
    print(
        "| input | csat score | responses/s | csat peak RSS | calamine bare read "
        "| calamine peak RSS | ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    for n in sizes:
        path = OUT / f"table-{n}.xlsx"
        if not path.exists():
            table(n, path)
        case(f"table, {n:,} responses", path, n)
    folder = OUT / "forms-2000"
    if not folder.exists():
        forms(2000, folder)
    case("2,000 form files", folder, 2000)


if __name__ == "__main__":
    main()
