"""The store: recording, idempotence, supersession, refusing foreign databases, transactions that
survive Ctrl-C, kill and a second process."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from conftest import DATA, ROOT, TABLE_HEADER
from pg import Cluster, count, query

from csat.config import LoadedRules, load_rules
from csat.models import Notice, Rejection, ScoredResponse, Skipped
from csat.periods import parse_period
from csat.pipeline import Recorded, record_outcomes
from csat.store import SCHEMA_VERSION, Store, StoreError

Db = str | Path  # an SQLite file or a PostgreSQL URL (tests/pg.py's `db` fixture)
NOW = datetime(2024, 7, 1, 9, 0)
H1 = parse_period("2024H1")


@pytest.fixture
def loaded() -> LoadedRules:
    return load_rules(ROOT / "config" / "weights.yaml")


def record(store: Store, loaded: LoadedRules, *paths: Path, period: str | None = "2024H1") -> list:
    the_period = parse_period(period) if period else None
    return list(record_outcomes([str(p) for p in paths], loaded, store, NOW, the_period))


def test_records_responses_ratings_with_cells_and_rejections(
    tmp_path: Path, db: Db, loaded: LoadedRules
) -> None:
    with Store.open(db) as store:
        got = record(store, loaded, DATA / "consolidated-2024H1.xlsx")
    [done] = [g for g in got if isinstance(g, Recorded)]
    assert (done.result.responses, done.result.rejections) == (29, 1)
    assert count(db, "responses") == 29 and count(db, "ratings") == 29 * 7
    [(cell, level)] = query(
        db,
        "SELECT g.cell, g.level FROM ratings g JOIN responses r ON r.id = g.response_id "
        "WHERE r.customer_code = 'C1003' AND g.item = 'quality'",
    )
    assert (cell, level) == ("E7", "very_dissatisfied")
    assert query(db, "SELECT cell, reason FROM rejections")[0][0] == "F17"
    [(sha, rules_sha)] = query(db, "SELECT sha256, rules_sha256 FROM imports")
    assert len(sha) == 64 and rules_sha == loaded.sha256
    [(kept,)] = query(db, "SELECT rules_sha256 FROM period_rules WHERE period = '2024H1'")
    assert kept == loaded.sha256


def test_same_file_twice_records_nothing_new_and_says_so(
    tmp_path: Path, db: Db, loaded: LoadedRules
) -> None:
    copy = tmp_path / "renamed.xlsx"
    copy.write_bytes((DATA / "returned-form-zh-苏州科创.xlsx").read_bytes())
    with Store.open(db) as store:
        record(store, loaded, DATA / "returned-form-zh-苏州科创.xlsx")
        again = record(store, loaded, copy)
    [note] = again
    assert isinstance(note, Skipped) and "already imported" in note.reason
    assert "import #1" in note.reason
    assert count(db, "responses") == 1 and count(db, "imports") == 1


def test_latest_reply_counts_and_superseded_replies_stay(
    tmp_path: Path, db: Db, loaded: LoadedRules, workbook: Callable[..., Path]
) -> None:
    good = ["非常满意"] * 7
    first = workbook(
        "a.xlsx",
        [
            TABLE_HEADER,
            [1, "甲公司", None, "2024-06-20", *good, "old"],
            [2, "乙公司", "B1", "2024-03-01", *good, None],
        ],
    )
    second = workbook(
        "b.xlsx",
        [
            TABLE_HEADER,
            [1, "甲 公司", None, "2024-05-01", *good, "older"],
            [2, "乙公司 renamed", "B1", "2024-03-01", *good, "same day"],
        ],
    )
    with Store.open(db) as store:
        record(store, loaded, first, second)
        current = {s.response.customer: s.superseded for s in store.responses(["2024H1"])}
    assert count(db, "responses") == 4
    assert current == {"甲公司": False, "乙公司": True, "甲 公司": True, "乙公司 renamed": False}


def test_foreign_and_newer_databases_are_refused_unchanged(tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("not a database at all " * 100)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    newer = tmp_path / "newer.db"
    Store.open(newer).close()
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    for path, message in [
        (text, "not a csat database"),
        (other, "not a csat database"),
        (newer, "newer csat"),
    ]:
        before = path.read_bytes()
        with pytest.raises(StoreError, match=message):
            Store.open(path)
        assert path.read_bytes() == before


def test_ctrl_c_during_an_import_records_nothing_of_that_file(
    tmp_path: Path, db: Db, loaded: LoadedRules
) -> None:
    with Store.open(db) as store:
        record(store, loaded, DATA / "returned-form-zh-苏州科创.xlsx")
        stream = record_outcomes([str(DATA / "consolidated-2024H1.xlsx")], loaded, store, NOW, H1)
        assert isinstance(next(stream), Notice)  # the scale the sheet is read on
        taken = [next(stream) for _ in range(5)]
        assert all(isinstance(t, ScoredResponse) for t in taken)
        with pytest.raises(KeyboardInterrupt):
            stream.throw(KeyboardInterrupt())
    assert count(db, "responses") == 1 and count(db, "imports") == 1


KILLER = """
import os, signal, sys
from datetime import datetime
from pathlib import Path
from csat.config import load_rules
from csat.pipeline import record_outcomes
from csat.store import Store
store = Store.open(sys.argv[1])
loaded = load_rules(Path(sys.argv[3]))
for n, _ in enumerate(record_outcomes([sys.argv[2]], loaded, store, datetime(2024, 7, 1))):
    if n == 10:
        os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_kill_during_an_import_records_nothing_of_that_file(tmp_path: Path, db: Db) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLER,
            str(db),
            str(DATA / "consolidated-2024H1.xlsx"),
            str(ROOT / "config" / "weights.yaml"),
        ]
    )
    assert proc.returncode == -signal.SIGKILL
    with Store.open(db) as store:
        assert list(store.responses(["2024H1"])) == []
    assert count(db, "imports") == 0


def _big_table(path: Path, customers: range) -> Path:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("S")
    ws.append(TABLE_HEADER)
    for i in customers:
        ws.append([i, f"客户{i}", f"K{i}", "2024-05-05", *(["较满意"] * 7), None])
    wb.save(path)
    return path


def test_two_processes_at_once_lose_and_double_nothing(tmp_path: Path, db: Db) -> None:
    a = _big_table(tmp_path / "a.xlsx", range(0, 3000))
    b = _big_table(tmp_path / "b.xlsx", range(3000, 6000))
    env = {**os.environ, "CSAT_DB": str(db)}
    cmd = [sys.executable, "-m", "csat", "score", "--json", "--period", "2024H1"]
    # Output goes to files: a pipe nobody reads would block a writer inside its transaction.
    logs = [tmp_path / f"out{i}.json" for i in range(2)]
    with logs[0].open("w") as out0, logs[1].open("w") as out1:
        procs = [
            subprocess.Popen([*cmd, str(p), str(a)], env=env, stdout=out, stderr=out)
            for p, out in ((b, out0), (a, out1))
        ]
        codes = [p.wait() for p in procs]
    assert codes == [0, 0], [log.read_text()[-500:] for log in logs]
    assert count(db, "responses") == 6000
    assert count(db, "imports") == 2
    assert query(db, "SELECT count(DISTINCT customer_code) FROM responses")[0][0] == 6000


def test_rejection_objects_survive_the_round_trip(
    tmp_path: Path, db: Db, loaded: LoadedRules
) -> None:
    with Store.open(db) as store:
        record(store, loaded, DATA / "consolidated-2024H1.xlsx")
        assert store.rejections_for(["2024H1"], "2024H1") == [
            Rejection(
                str(DATA / "consolidated-2024H1.xlsx"),
                "2024上半年",
                "F17",
                "unknown rating '很好' for RoHS情况: on scale 'csat' write one of "
                "非常满意/较满意/一般/不满意/非常不满意 (or 1-5)",
            )
        ]


def test_foreign_and_newer_postgresql_databases_are_refused_unchanged(
    pg_cluster: Cluster,
) -> None:
    pg_url, other = pg_cluster.create_database(), pg_cluster.create_database()
    query(other, "CREATE TABLE invoices (id INTEGER)")
    query(other, "INSERT INTO invoices VALUES (7)")
    Store.open(pg_url).close()
    query(pg_url, "UPDATE csat_schema SET version = ?", (SCHEMA_VERSION + 1,))
    for url, message in [(other, "not a csat database.*invoices"), (pg_url, "newer csat")]:
        tables = query(url, TABLES)
        with pytest.raises(StoreError, match=message):
            Store.open(url)
        assert query(url, TABLES) == tables
    assert query(other, "SELECT * FROM invoices") == [(7,)]
    assert query(pg_url, "SELECT version FROM csat_schema") == [(SCHEMA_VERSION + 1,)]


TABLES = (
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
    "ORDER BY table_name"
)


def test_missing_database_is_not_created_for_reading(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="csat score"):
        Store.open(tmp_path / "none.db", create=False)
    assert not (tmp_path / "none.db").exists()


def test_an_empty_postgresql_database_is_not_made_a_store_for_reading(pg_url: str) -> None:
    with pytest.raises(StoreError, match="no csat store in .*csat score"):
        Store.open(pg_url, create=False)
    assert query(pg_url, TABLES) == []


# ---------------------------------------------------------------- issue 10.1: rejected files


def _dateless(path: Path) -> Path:
    from conftest import write_workbook

    header = [c for c in TABLE_HEADER if c != "回复日期"]
    return write_workbook(path, {"S": [header, [1, "甲公司", "A1", *["非常满意"] * 7, "x"]]})


def test_a_file_whose_rows_were_all_rejected_imports_again_under_new_options(
    tmp_path: Path, db: Db, loaded: LoadedRules
) -> None:
    table = _dateless(tmp_path / "t.xlsx")
    with Store.open(db) as store:
        first = record(store, loaded, table, period=None)
        assert [type(g).__name__ for g in first if not isinstance(g, Notice)] == [
            "Rejection",
            "Recorded",
        ]
        again = record(store, loaded, table, period="2024H1")
        assert not any(isinstance(g, Skipped) for g in again), again
        [done] = [g for g in again if isinstance(g, Recorded)]
        assert done.result.responses == 1
        assert [s.response.customer for s in store.responses(["2024H1"])] == ["甲公司"]
        # the old rejection ("no reply date") is gone with the import that made it
        assert store.rejections_for(["2024H1"], "2024H1") == []
        # and now it is imported, under its old number: a third run records nothing new
        [note] = record(store, loaded, table, period="2024H1")
        assert isinstance(note, Skipped) and "already imported" in note.reason
        assert "import #1" in note.reason
        [event] = store.import_history()
        assert (event["event"], event["import_id"]) == ("read again", 1)
    assert count(db, "imports") == 1 and count(db, "rejections") == 0


def test_a_corrected_file_supersedes_the_rejections_of_the_old_one(
    tmp_path: Path, db: Db, loaded: LoadedRules
) -> None:
    import openpyxl

    sent = tmp_path / "first" / "consolidated-2024H1.xlsx"
    sent.parent.mkdir()
    sent.write_bytes((DATA / "consolidated-2024H1.xlsx").read_bytes())
    fixed = tmp_path / "resent" / "consolidated-2024H1.xlsx"
    fixed.parent.mkdir()
    wb = openpyxl.load_workbook(sent)
    wb["2024上半年"]["F17"] = "较满意"  # the customer corrected the unknown rating '很好'
    wb.save(fixed)
    with Store.open(db) as store:
        record(store, loaded, sent)
        assert [r.cell for r in store.rejections_for(["2024H1"], "2024H1")] == ["F17"]
        record(store, loaded, fixed)
        assert store.rejections_for(["2024H1"], "2024H1") == []
        counted = [s for s in store.responses(["2024H1"]) if not s.superseded]
        assert len(counted) == 30


def test_a_file_that_could_not_be_read_is_read_again(
    tmp_path: Path, db: Db, loaded: LoadedRules
) -> None:
    broken = tmp_path / "later.xlsx"
    broken.write_bytes(b"PK\x03\x04 not yet complete")
    with Store.open(db) as store:
        [rejected, _] = record(store, loaded, broken)
        assert isinstance(rejected, Rejection)
        # the same bytes again: still unreadable, reported again rather than "already imported"
        again = record(store, loaded, broken)
        assert isinstance(again[0], Rejection), again


# ---------------------------------------------------------------- issue 10.10: one customer


def _reply(path: Path, name: str, code: str | None, day: str) -> Path:
    from conftest import write_workbook

    bad = ["非常不满意"] * 7
    return write_workbook(path, {"S": [TABLE_HEADER, [1, name, code, day, *bad, "差"]]})


@pytest.mark.parametrize("coded_first", [True, False])
def test_a_name_an_earlier_reply_ties_to_a_code_is_that_customer(
    tmp_path: Path, db: Db, loaded: LoadedRules, coded_first: bool
) -> None:
    from datetime import date

    from csat.report import build_report

    by_code = _reply(tmp_path / "form.xlsx", "天津立讯电子有限公司", "C1001", "2024-06-01")
    by_name = _reply(tmp_path / "office.xlsx", "天津立讯电子 有限公司", None, "2024-06-20")
    with Store.open(db) as store:
        for path in (by_code, by_name) if coded_first else (by_name, by_code):
            record(store, loaded, path)
        result = build_report(store, H1, loaded, tmp_path / "out", "zh", date(2024, 7, 1))
        assert result.view.stats.customers == 1
        assert result.view.stats.superseded == 1
        keys = {c.customer_key for c in store.capas("2024H1")}
    assert keys == {"code:c1001"}


def test_a_name_the_sent_forms_tie_to_a_code_is_that_customer(
    tmp_path: Path, db: Db, loaded: LoadedRules
) -> None:
    from datetime import date

    from csat.chase import not_replied
    from csat.customers import Customer

    by_name = _reply(tmp_path / "office.xlsx", "Nordlicht Elektronik GmbH", None, "2024-06-20")
    with Store.open(db) as store:
        sent = [
            (Customer("N2001", "Nordlicht Elektronik GmbH", "en"), "en", "a.xlsx"),
            (Customer("N2002", "Nordlicht Elektronik GmbH", "en"), "en", "b.xlsx"),  # a namesake
            (Customer("C1001", "天津立讯电子有限公司", "zh"), "zh", "c.xlsx"),
        ]
        store.record_sent("2024H1", sent[2:], date(2024, 6, 1), date(2024, 6, 15))
        record(
            store, loaded, _reply(tmp_path / "t.xlsx", "天津立讯电子有限公司", None, "2024-06-21")
        )
        [(key,)] = query(db, "SELECT customer_key FROM responses")
        assert key == "code:c1001"
        # a name two customers share is tied to neither
        store.record_sent("2024H1", sent[:2], date(2024, 6, 1), date(2024, 6, 15))
        record(store, loaded, by_name)
        keys = {k for (k,) in query(db, "SELECT customer_key FROM responses")}
        assert keys == {"code:c1001", "name:nordlicht elektronik gmbh"}
        rules = loaded.rules
        missing = {m.code for m in not_replied(store, H1, rules, date(2024, 7, 1))}
        assert "C1001" not in missing


def test_chasing_before_any_reply_lists_everyone_sent_a_form(
    tmp_path: Path, db: Db, loaded: LoadedRules
) -> None:
    from datetime import date

    from csat.chase import not_replied
    from csat.customers import Customer

    with Store.open(db) as store:
        sent = [(Customer("C1001", "天津立讯电子有限公司", "zh"), "zh", "c.xlsx")]
        store.record_sent("2024H1", sent, date(2024, 6, 1), date(2024, 6, 15))
        missing = not_replied(store, H1, loaded.rules, date(2024, 7, 1))
        assert [m.code for m in missing] == ["C1001"]
        assert store.rejections_for([], "2024H1") == []


def test_text_sorts_in_the_same_order_on_both_backends(db: Db) -> None:
    from datetime import date

    from csat.customers import Customer

    with Store.open(db) as store:
        sent = [(Customer(code, f"客户{code}", "zh"), "zh", f"{code}.xlsx") for code in "aBc"]
        store.record_sent("2024H1", sent, date(2024, 6, 1), date(2024, 6, 15))
        assert [s["customer_code"] for s in store.sent_forms("2024H1")] == ["B", "a", "c"]


def test_capas_ensured_at_once_are_numbered_per_period_in_plan_order(db: Db) -> None:
    """Many CAPAs in one call: numbered per period in plan order, after the numbers in use, a
    slot planned twice gets one CAPA, a rerun changes nothing, and repeats are linked."""
    from datetime import date

    from csat.capa import CapaPlan
    from csat.models import Flag

    low = (Flag("low_score", None, None, 60.0),)

    def plan(period: str, who: str, department: str = "质量部") -> CapaPlan:
        return CapaPlan(period, f"code:{who}", who, who, department, low, None)

    issued, due = date(2024, 7, 1), date(2024, 7, 15)
    with Store.open(db) as store:
        first, made = store.ensure_capas([plan("2024H1", "A")], issued, due)
        assert made == 1 and [c.number for c in first] == ["CAPA-2024H1-001"]
        plans = [
            plan("2024H2", "A"),
            plan("2024H1", "B"),
            plan("2024H1", "A"),  # already issued
            plan("2024H1", "C", "销售部"),
            plan("2024H1", "B"),  # planned twice
        ]
        numbers, made = store.ensure_capas(plans, issued, due)
        assert made == 3
        assert [c.number for c in numbers] == [
            "CAPA-2024H2-001",
            "CAPA-2024H1-002",
            "CAPA-2024H1-001",
            "CAPA-2024H1-003",
            "CAPA-2024H1-002",
        ]
        assert [(c.period, c.customer_key, c.department) for c in numbers] == [
            (p.period, p.customer_key, p.department) for p in plans
        ]
        records = {c.number: c for c in store.capas()}
        assert records["CAPA-2024H2-001"].repeat_of == "CAPA-2024H1-001"
        assert [e.step for e in records["CAPA-2024H1-001"].history] == ["issued", "escalated"]
        assert [e.step for e in records["CAPA-2024H1-003"].history] == ["issued"]
        assert records["CAPA-2024H1-003"].department == "销售部"
        assert store.ensure_capas(plans, issued, due) == (numbers, 0)
        assert store.capas() == list(records.values())


# ---------------------------------------------------------------- issue 12: recording in batches


def test_keys_decided_in_batches_are_those_of_replies_recorded_one_by_one(
    tmp_path: Path, db: Db, loaded: LoadedRules
) -> None:
    """A file's replies are keyed a batch (512) at a time; the names that tie replies together
    here fall in different batches, and each gets the key it gets when every reply is a file
    of its own, recorded in the same order."""
    from conftest import write_workbook

    ok = ["较满意"] * 7
    tied = {  # row in the file -> (name, code)
        3: ("甲公司", None),  # claimed by the code given at row 800
        600: ("甲公司", None),
        800: ("甲公司", "A1"),
        1000: ("甲公司", None),  # tied to A1
        5: ("乙公司", "B1"),
        700: ("乙公司", "B2"),  # a second code: later replies by name alone stay the name's
        1040: ("乙公司", None),
        7: ("丙公司", None),
        8: ("丙公司", "C1"),
        1090: ("丙 公司", None),
    }
    rows: list[list[object]] = [TABLE_HEADER]
    for i in range(1, 1101):
        name, code = tied.get(i, (f"客户{i}", f"K{i}"))
        rows.append([i, name, code, "2024-05-05", *ok, None])
    write_workbook(tmp_path / "all.xlsx", {"S": rows})
    one_by_one = tmp_path / "one.db"
    with Store.open(one_by_one) as store:
        for i in sorted(tied):
            one = write_workbook(tmp_path / f"r{i}.xlsx", {"S": [TABLE_HEADER, rows[i]]})
            record(store, loaded, one)
    expected = query(one_by_one, "SELECT customer_key FROM responses ORDER BY id")
    assert len({k for (k,) in expected}) == 5  # a1, b1, b2, 丙's code, 乙's name
    with Store.open(db) as store:
        record(store, loaded, tmp_path / "all.xlsx")
    got = dict(query(db, "SELECT row, customer_key FROM responses"))
    assert [(got[i + 1],) for i in sorted(tied)] == expected  # row 1 is the header
    assert count(db, "ratings") == 1100 * 7


@pytest.mark.parametrize("items", [0, 1, 7, 31, 600])
def test_ratings_by_numbered_parameters_are_the_rows_given(items: int) -> None:
    """_insert_ratings (numbered parameters, a statement's items named once) stores the rows a
    plain INSERT of each (id, item, level, cell) stores, whatever the number of items (600:
    more than one statement's values, the plain INSERT itself)."""
    from csat.store import _insert_ratings

    names = tuple(f"item{i}" for i in range(items))
    replies = 300
    values: list[object] = []
    expected = []
    for rid in range(1, replies + 1):
        levels = [None if (rid + i) % 5 == 0 else f"lv{(rid * i) % 4}" for i in range(items)]
        cells = [None if (rid + i) % 7 == 0 else f"C{rid}-{i}" for i in range(items)]
        values += (rid, *levels, *cells)
        expected += [(rid, n, lv, c) for n, lv, c in zip(names, levels, cells, strict=True)]
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE ratings (response_id INTEGER NOT NULL, item TEXT NOT NULL, level TEXT, "
        "cell TEXT, PRIMARY KEY (response_id, item)) WITHOUT ROWID"
    )
    _insert_ratings(conn, names, values)
    got = conn.execute("SELECT * FROM ratings ORDER BY response_id, item").fetchall()
    assert got == sorted(expected)
