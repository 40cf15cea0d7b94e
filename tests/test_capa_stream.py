"""A report reads its CAPAs from the store in batches and keeps them in a file (issue 12: memory
flat in the number of customers): the records it reads and shows are those `Store.capas()`
lists, in the same order, and its view gives them back after the store is closed."""

from __future__ import annotations

from array import array
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import DATA, ROOT, TABLE_HEADER

from csat.capa import CapaPlan
from csat.config import LoadedRules, load_rules
from csat.models import Flag
from csat.periods import parse_period
from csat.pipeline import record_outcomes
from csat.report import CapaSlots, build_report
from csat.spill import BLOCK, Spill
from csat.store import CapaRecord, Store

Db = str | Path  # an SQLite file or a PostgreSQL URL (tests/pg.py's `db` fixture)


@pytest.fixture
def loaded() -> LoadedRules:
    return load_rules(ROOT / "config" / "weights.yaml")


def _slot(c: CapaRecord) -> tuple[str, str, str]:
    return (c.period, c.customer_key, c.department)


def test_capas_read_in_batches_are_those_listed_at_once(db: Db) -> None:
    """Over more than one batch, with histories of several steps: each_capa gives capas()'s
    records in its order (of some periods only, when asked), capas_numbered the records of
    the numbers asked for in that order."""
    low = (Flag("low_score", None, None, 60.0),)
    bad = (Flag("dissatisfied_item", "service", "dissatisfied"),)
    plans = [
        CapaPlan(period, f"code:C{i}", f"客户{i}", f"C{i}", "品管部", low if i % 3 else bad, None)
        for period, n in (("2024H1", 1000), ("2024H2", 700))
        for i in range(n)
    ]
    issued, due = date(2024, 7, 1), date(2024, 7, 15)
    with Store.open(db) as store:
        numbers = [c.number for c in store.ensure_capas(plans, issued, due)[0]]
        for number in numbers[:900:97]:
            store.capa_step(number, "close", date(2024, 7, 3), "换了供应商", "王工", due)
        store.judge_capas(
            [(n, "effective", {"period": "2024H2", "total": 90.0}, "ok") for n in numbers[1:5]],
            date(2024, 12, 20),
        )
        every = store.capas()
        assert len(every) == 1700 and list(store.each_capa()) == every
        assert sorted(store.capa_periods()) == ["2024H1", "2024H2"]
        assert list(store.each_capa(["2024H2"])) == [c for c in every if c.period == "2024H2"]
        assert list(store.each_capa([])) == []
        assert {c.status for c in every} == {"open", "closed"}
        assert any(c.effectiveness == "effective" for c in every)
        asked = [*numbers[::-1], numbers[5], "CAPA-2023H1-001", numbers[5]]
        by_number = {c.number: c for c in every}
        expected = [by_number[n] for n in asked if n in by_number]
        assert list(store.capas_numbered(asked)) == expected


def test_a_spill_gives_back_what_it_was_given_by_position() -> None:
    for n in (0, 1, BLOCK - 1, BLOCK, 3 * BLOCK + 7):
        items = [(i, f"客户{i}") for i in range(n)]
        spill: Spill[tuple[int, str]] = Spill(items)
        assert len(spill) == n and list(spill) == items and list(spill) == items
        assert [spill[i] for i in reversed(range(n))] == items[::-1]  # out of order
        assert spill[1:-1:2] == items[1:-1:2]
        if n:
            assert spill[-1] == items[-1]
        with pytest.raises(IndexError):
            spill[n]
        # iterators and look-ups interleaved
        assert [(a, spill[n - 1 - i]) for i, a in enumerate(spill)] == list(
            zip(items, items[::-1], strict=True)
        )
        spill.append((-1, "x"))
        assert list(spill)[-1] == (-1, "x") and len(spill) == n + 1
        spill.close()


def _record(number: str, period: str, key: str, department: str) -> CapaRecord:
    return CapaRecord(
        number, period, key, key, None, department, (), None, date(2024, 7, 1),
        date(2024, 7, 15), "open",
    )  # fmt: skip


def test_capa_slots_are_the_dict_of_the_records_they_index() -> None:
    """view.capas of a report: what `{slot: c for c in records}` gives, a slot given twice
    counted once, whatever the records' number."""
    for n in (0, 3, 2 * BLOCK + 5):
        records = [
            _record(f"CAPA-2024H1-{i:03d}", "2024H1", f"k{i // 2}", "品管部") for i in range(n)
        ]
        records += records[:2]  # the first slots again
        spill = Spill(records)
        slots = CapaSlots(spill, array("q", (hash(_slot(c)) for c in records)))
        as_dict = {_slot(c): c for c in records}
        assert dict(slots) == as_dict and len(slots) == len(as_dict)
        assert list(slots) == list(as_dict) and list(slots.values()) == list(as_dict.values())
        assert slots.get(("2024H1", "nobody", "品管部")) is None
        assert all(slots[s] is not None for s in as_dict)


def test_the_report_shows_the_records_the_store_lists(
    tmp_path: Path, db: Db, loaded: LoadedRules, workbook: Callable[..., Path]
) -> None:
    """The register is the report's own CAPAs in plan order, then the earlier ones still
    followed, as the store lists them; view.capas are the own ones by slot; both stay readable
    when the store is closed."""
    bad = ["不满意"] * 7
    later = workbook("h2.xlsx", [TABLE_HEADER, [1, "乙公司", "B1", "2024-10-02", *bad, None]])
    out = tmp_path / "out"
    with Store.open(db) as store:
        now = datetime(2024, 7, 1)
        list(record_outcomes([str(DATA)], loaded, store, now, parse_period("2024H1")))
        build_report(store, parse_period("2024H1"), loaded, out, "zh", date(2024, 7, 15))
        earlier = store.capas()
        list(record_outcomes([str(later)], loaded, store, now, parse_period("2024H2")))
        second = build_report(store, parse_period("2024H2"), loaded, out, "zh", date(2024, 12, 20))
        own = store.capas("2024H2")
    assert earlier and own and all(c.customer_code == "B1" for c in own)
    assert list(second.view.register) == own + [c for c in earlier if c.status != "verified"]
    assert dict(second.view.capas) == {_slot(c): c for c in own}
    assert second.view.capa_counts["total"] == len(own)
    forms = {p.name for p in (out / "2024H2" / "capa").iterdir()}
    assert forms == {f"{c.number}.html" for c in second.view.register} | {"index.html"}


def test_capas_ensured_over_several_batches_are_numbered_and_linked_as_in_one(
    tmp_path: Path,
) -> None:
    """More new CAPAs than ensure_capas inserts at a time: numbered per period in plan order,
    each with one issued step, the steps in plan order, and H2's repeats of H1 linked."""
    db = tmp_path / "csat.db"
    low = (Flag("low_score", None, None, 60.0),)
    count = 99 * 124 + 5  # one whole batch and a few
    h1 = [CapaPlan("2024H1", f"k{i}", f"客户{i}", None, "品管部", low, None) for i in range(count)]
    h2 = [CapaPlan("2024H2", f"k{i}", f"客户{i}", None, "品管部", low, None) for i in range(3)]
    issued, due = date(2024, 7, 1), date(2024, 7, 15)
    with Store.open(db) as store:
        first, made = store.ensure_capas(iter(h1), issued, due)
        assert made == count
        assert [c.number for c in first] == [f"CAPA-2024H1-{i:03d}" for i in range(1, count + 1)]
        second, made = store.ensure_capas(iter(h2 + h1[:2]), issued, due)
        assert made == 3 and [c.number for c in second][3:] == [c.number for c in first[:2]]
        steps = store.conn.execute("SELECT number, step FROM capa_events ORDER BY id").fetchall()
        every = {c.number: c for c in store.capas()}
    numbers = [c.number for c in first] + [c.number for c in second[:3]]
    assert [n for n, step in steps if step == "issued"] == numbers
    escalated = [n for n, step in steps if step == "escalated"]
    assert escalated == [c.number for c in first[:3]]
    assert [every[c.number].repeat_of for c in second[:3]] == escalated
