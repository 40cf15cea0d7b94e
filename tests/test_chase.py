"""csat chase: who has not replied, how late, and a reminder in their language."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from conftest import named_rules, tick
from typer.testing import CliRunner

from csat.cli import app
from csat.config import load_rules
from csat.periods import parse_period
from csat.pipeline import record_outcomes
from csat.store import Store
from csat.survey import make_surveys

runner = CliRunner()
H1 = parse_period("2024H1")


def test_chase_lists_who_has_not_replied(tmp_path: Path) -> None:
    loaded = load_rules(named_rules(tmp_path))
    customers = tmp_path / "c.csv"
    customers.write_text(
        "Customer code,Customer,Language,Contact,E-mail\n"
        "C1,甲公司,zh,王经理,w@example.com\n"
        "E2,Acme <b>Ltd</b>,en,Ms. Berg,b@example.com\n"
        "C3,丙公司,zh,,\n",
        encoding="utf-8",
    )
    db = tmp_path / "h.db"
    with Store.open(db) as store:
        result = make_surveys(customers, H1, loaded, tmp_path / "out", date(2024, 6, 20), store)
        first = result.written[0][2]
        tick(first, ["较满意"] * 7)
        list(record_outcomes([str(first)], loaded, store, datetime(2024, 7, 1)))
    late = tmp_path / "late.csv"
    late.write_text("客户编号,客户名称,语言\nC9,没发过表的客户,zh\n", encoding="utf-8")

    args = ["chase", "--period", "2024H1", "--db", str(db), "--json"]
    on_time = runner.invoke(app, [*args, "--date", "2024-07-04"])
    assert on_time.exit_code == 0, on_time.output
    doc = json.loads(on_time.stdout)
    assert [m["customer_code"] for m in doc] == ["C3", "E2"]  # C1 replied
    assert doc[1]["days_since_sent"] == 14 and doc[1]["days_late"] == 0
    assert "Dear Ms. Berg" in doc[1]["reminder"] and "Acme <b>Ltd</b>" in doc[1]["reminder"]
    assert "您好" in doc[0]["reminder"] and "2024-07-04前" in doc[0]["reminder"]

    overdue = runner.invoke(app, [*args, "--date", "2024-07-10", "--customers", str(late)])
    assert overdue.exit_code == 3
    doc = json.loads(overdue.stdout)
    assert [m["customer_code"] for m in doc] == ["C3", "C9", "E2"]
    assert doc[0]["days_late"] == 6 and "已逾期6天" in doc[0]["reminder"]
    assert doc[1]["sent_on"] is None  # on the list, never sent a form
    human = runner.invoke(
        app, ["chase", "--period", "2024H1", "--db", str(db), "--date", "2024-07-10"]
    )
    assert human.exit_code == 3 and "6 days" in human.stdout
    assert "Example" in runner.invoke(app, ["chase", "--help"]).stdout
