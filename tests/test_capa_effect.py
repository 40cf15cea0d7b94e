"""A CAPA is judged by the customer's next answer: effective, or ineffective and reissued as a
repeat linked to it (the procedure's 5.4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import openpyxl
from conftest import DATA, ROOT, TABLE_HEADER
from typer.testing import CliRunner

from csat.cli import app
from csat.config import load_rules
from csat.periods import parse_period
from csat.pipeline import record_outcomes
from csat.report import build_report
from csat.store import Store


def test_next_period_judges_capas_and_links_repeats(
    tmp_path: Path, db: str | Path, workbook: Callable[..., Path]
) -> None:
    loaded = load_rules(ROOT / "config" / "weights.yaml")
    out = tmp_path / "out"
    h1, h2 = parse_period("2024H1"), parse_period("2024H2")
    forms = [
        DATA / n for n in ("returned-form-zh-东莞精密.xlsx", "returned-form-en-Nordlicht.xlsx")
    ]
    ok = "较满意"
    # H2: 东莞精密 rates improvement 较满意; Nordlicht rates service 不满意 again.
    replies = workbook(
        "h2.xlsx",
        [
            TABLE_HEADER,
            [1, "东莞市精密五金制品有限公司", None, "2024-11-02", ok, ok, ok, ok, ok, ok, ok, None],
            [
                2,
                "Nordlicht Elektronik GmbH",
                None,
                "2024-11-05",
                ok,
                ok,
                "不满意",
                ok,
                ok,
                ok,
                ok,
                "service still slow",
            ],
        ],
    )
    with Store.open(db) as store:
        list(record_outcomes([str(p) for p in forms], loaded, store, datetime(2024, 7, 1), h1))
        build_report(store, h1, loaded, out, "en", date(2024, 7, 15))
        first = {(c.customer[:4], c.department): c for c in store.capas("2024H1")}
        assert set(first) == {
            ("东莞市精", "quality"),
            ("Nord", "sales"),
            ("Nord", "quality"),
            ("Nord", "production_control"),
        }
        list(record_outcomes([str(replies)], loaded, store, datetime(2025, 1, 5), h2))
        result = build_report(store, h2, loaded, out, "en", date(2025, 1, 10))
        judged = {(c.customer[:4], c.department): c for c in store.capas("2024H1")}
        second = store.capas("2024H2")

    assert judged["东莞市精", "quality"].effectiveness == "effective"
    evidence = judged["东莞市精", "quality"].evidence
    assert evidence is not None and evidence["period"] == "2024H2"
    assert evidence["ratings"] == {"improvement": "satisfied"}
    assert evidence["source"]["row"] == 2
    assert judged["Nord", "quality"].effectiveness == "effective"
    assert judged["Nord", "production_control"].effectiveness == "effective"
    # Service flagged again: the sales CAPA (low total + service) did not work.
    assert judged["Nord", "sales"].effectiveness == "ineffective"
    [repeat] = second
    assert (repeat.department, repeat.repeat_of) == ("sales", judged["Nord", "sales"].number)

    form = (out / "2024H2" / "capa" / f"{repeat.number}.html").read_text(encoding="utf-8")
    assert "Repeat problem" in form and judged["Nord", "sales"].number in form
    flags = openpyxl.load_workbook(result.path)["Flags"]
    header = [c.value for c in flags[1]]
    row = dict(zip(header, (c.value for c in flags[2]), strict=True))
    assert (row["CAPA"], row["Repeat of"]) == (repeat.number, judged["Nord", "sales"].number)

    # Judging happens once: a later report does not change the verdicts.
    with Store.open(db) as store:
        build_report(store, h2, loaded, out, "en", date(2025, 2, 1))
        assert {c.number: c.effectiveness for c in store.capas("2024H1")} == {
            c.number: c.effectiveness for c in judged.values()
        }
    shown = CliRunner().invoke(
        app, ["capa", "show", judged["Nord", "sales"].number, "--db", str(db)]
    )
    assert "ineffective" in shown.stdout and "2024H2" in shown.stdout
