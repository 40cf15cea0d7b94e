"""CPU time of `csat score` recording into the store and `csat report` on an N-response
table, against XlsxWriter's constant_memory mode writing the same per-customer cells. Not part of
the tests; `benchmarks/run.py` runs the same rows paired with their baselines.

    python benchmarks/report.py            # 100,000 customers
    python benchmarks/report.py 10000
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))
from generate import table  # noqa: E402
from run import BARE_WRITE, measure  # noqa: E402


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    source = OUT / f"table-{n}.xlsx"
    if not source.exists():
        table(n, source)
    db = OUT / f"bench-{n}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    env_db = ["--db", str(db)]
    score = measure(
        [
            sys.executable,
            "-m",
            "csat",
            "score",
            "--period",
            "2024H1",
            "--json",
            *env_db,
            str(source),
        ]
    )
    report = measure(
        [
            sys.executable,
            "-m",
            "csat",
            "report",
            "--period",
            "2024H1",
            "--out",
            str(OUT / "reports"),
            "--json",
            *env_db,
        ]
    )
    bare = measure([sys.executable, "-c", BARE_WRITE, str(db), str(OUT / "bare.xlsx")])
    print(
        f"| score + record, {n:,} responses | {score.cpu:.2f} s | {n / score.cpu:,.0f} rows/s "
        f"| {score.peak_mib:.0f} MiB |"
    )
    print(
        f"| report, {n:,} customers | {report.cpu:.2f} s | {n / report.cpu:,.0f} rows/s "
        f"| {report.peak_mib:.0f} MiB |"
    )
    print(
        f"| XlsxWriter constant_memory, same cells | {bare.cpu:.2f} s | {n / bare.cpu:,.0f} rows/s "
        f"| {bare.peak_mib:.0f} MiB |"
    )
    print(f"report / XlsxWriter: {report.cpu / bare.cpu:.2f}×")


if __name__ == "__main__":
    os.environ.setdefault("COLUMNS", "120")
    main()
