"""CPU time of the report's CAPA stage (the store's ensure_capas, judge_capas and its CAPA reads:
capas, each_capa, capas_numbered), of the CAPA
forms (`write_capa_forms`: every form and the index) and of the whole `csat report`, and its peak
RSS, on an N-response table recorded once. Not part of the tests; each run reports into a fresh
copy of the recorded store, so every run issues the CAPAs.

    python benchmarks/capas.py            # 100,000 customers
    python benchmarks/capas.py 10000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))

CHILD = """
import json, resource, sys, time
from csat.store import Store

spent = {"stage": 0.0}
depth = [0]
def timed(name):
    inner = getattr(Store, name)
    def wrapper(*args, **kwargs):
        start = time.process_time()
        depth[0] += 1
        try:
            return inner(*args, **kwargs)
        finally:
            depth[0] -= 1
            took = time.process_time() - start
            spent[name] = spent.get(name, 0.0) + took
            if not depth[0]:  # ensure_capas calls capas: the stage counts it once
                spent["stage"] += took
    setattr(Store, name, wrapper)
# The store's CAPA readers that yield (each_capa, capas_numbered): the time spent in them is
# counted as `capas`, the report's work between their items is not.
def reading(name):
    inner = getattr(Store, name)
    def wrapper(*args, **kwargs):
        items = inner(*args, **kwargs)
        while True:
            start = time.process_time()
            depth[0] += 1
            try:
                item = next(items)
            except StopIteration:
                return
            finally:
                depth[0] -= 1
                took = time.process_time() - start
                spent["capas"] = spent.get("capas", 0.0) + took
                if not depth[0]:
                    spent["stage"] += took
            yield item
    setattr(Store, name, wrapper)
for name in ("ensure_capas", "capas", "judge_capas"):
    timed(name)
for name in ("each_capa", "capas_numbered"):
    reading(name)
import csat.report
write_forms = csat.report.write_capa_forms
def forms_timed(*args, **kwargs):
    start = resource.getrusage(resource.RUSAGE_SELF)
    try:
        return write_forms(*args, **kwargs)
    finally:
        end = resource.getrusage(resource.RUSAGE_SELF)
        spent["forms_user"] = end.ru_utime - start.ru_utime
        spent["forms_sys"] = end.ru_stime - start.ru_stime
        spent["forms"] = spent["forms_user"] + spent["forms_sys"]
csat.report.write_capa_forms = forms_timed
from csat.cli import app
try:
    code = app(sys.argv[1:], standalone_mode=False)  # an exit code when csat refused
finally:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    spent["process"] = usage.ru_utime + usage.ru_stime
    spent["peak_mib"] = usage.ru_maxrss / 1024
    sys.stderr.write("CAPAS " + json.dumps(spent) + "\\n")
sys.exit(code or 0)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    source = OUT / f"table-{args.n}.xlsx"
    if not source.exists():
        from generate import table

        table(args.n, source)
    recorded = OUT / f"capas-{args.n}.db"
    if not recorded.exists():
        subprocess.run(
            [sys.executable, "-m", "csat", "score", "--json", "--period", "2024H1"]
            + ["--db", str(recorded), str(source)],
            stdout=subprocess.DEVNULL,
            check=True,
        )
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "store.db"
            shutil.copyfile(recorded, db)
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", CHILD, "report", "--period", "2024H1"]
                + ["--db", str(db), "--out", str(Path(tmp) / "reports"), "--json"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
            wall = time.perf_counter() - start
            line = [x for x in done.stderr.splitlines() if x.startswith("CAPAS ")]
            if done.returncode != 0 or not line:
                sys.exit(done.stderr)
            spent = json.loads(line[-1][6:])
            stage = spent["stage"]
            print(
                f"n={args.n:,}  CAPA stage {stage:.2f} s CPU "
                f"(ensure_capas {spent.get('ensure_capas', 0):.2f}, "
                f"capas {spent.get('capas', 0):.2f}, judge_capas {spent.get('judge_capas', 0):.2f})"
                f"  CAPA forms {spent.get('forms', 0):.2f} s CPU "
                f"({spent.get('forms_user', 0):.2f} user, {spent.get('forms_sys', 0):.2f} sys)"
                f"  report {spent['process']:.2f} s CPU, {wall:.1f} s wall, "
                f"peak {spent['peak_mib']:.0f} MiB"
            )


if __name__ == "__main__":
    main()
