"""Shared fixtures: the default rules, a builder for small survey workbooks, a pinned console."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from csat.config import Rules, load_rules

# the PostgreSQL cluster and the `db` fixture on both backends (tests/pg.py)
pytest_plugins = ["pg"]

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
ITEM_KEYS = [
    "quality",
    "rohs",
    "service",
    "improvement",
    "packaging",
    "delivery_date",
    "delivery_quantity",
]
EN_ITEMS = [
    "Product quality",
    "RoHS compliance",
    "Service",
    "Improvement responsiveness",
    "Packaging and transport",
    "Delivery date",
    "Delivery quantity",
]
TABLE_HEADER = [
    "序号",
    "客户名称",
    "客户编号",
    "回复日期",
    "产品质量",
    "RoHS情况",
    "服务情况",
    "改善情况",
    "包装运输",
    "交付日期",
    "交付数量",
    "其它评价",
]


@pytest.fixture(autouse=True)
def _stable_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Rich output that does not depend on the terminal, and a database of the test's own."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.delenv("CSAT_CONFIG", raising=False)
    monkeypatch.setenv("CSAT_DB", str(tmp_path / "csat.db"))


@pytest.fixture(scope="session")
def rules() -> Rules:
    return load_rules(ROOT / "config" / "weights.yaml").rules


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    """A private copy of the shared samples (tests/data), so tests may add files beside them."""
    dest = tmp_path / "samples"
    shutil.copytree(DATA, dest)
    return dest


Rows = list[list[Any]]


def write_workbook(
    path: Path, sheets: dict[str, Rows], merges: dict[str, list[str]] | None = None
) -> Path:
    """Write a workbook whose sheets hold the given rows (row 1 first)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
        for rng in (merges or {}).get(name, []):
            ws.merge_cells(rng)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


@pytest.fixture
def workbook(tmp_path: Path) -> Callable[..., Path]:
    """`workbook("name.xlsx", rows)` or `workbook("name.xlsx", {"Sheet": rows, ...})`."""

    def make(name: str, content: Rows | dict[str, Rows], **kw: Any) -> Path:
        sheets = content if isinstance(content, dict) else {"Sheet1": content}
        return write_workbook(tmp_path / name, sheets, **kw)

    return make


def form_rows(
    customer: str | None,
    marks: dict[int, int],
    date: Any = "2024-06-12",
    comment: str | None = None,
) -> Rows:
    """A zh form like the procedure's: marks maps item row (0-6) -> level column (0-4)."""
    items = ["产品质量", "RoHS情况", "服务情况", "改善情况", "包装运输", "交付日期", "交付数量"]
    rows: Rows = [
        ["顾客满意度调查表"],
        ["表单编号: QR-BD-012  版本: A/1"],
        [],
        ["客户名称:", customer, None, None, None, "填表日期:", date],
        [],
        ["序号", "调查项目", "评分比例", "非常满意", "较满意", "满意", "不满意", "非常不满意"],
    ]
    for i, item in enumerate(items):
        row: list[Any] = [i + 1, item, "", None, None, None, None, None]
        if i in marks:
            row[3 + marks[i]] = "√"
        rows.append(row)
    rows += [[], ["其它评价:", comment]]
    return rows


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite tests/golden/ from the current output; review the diff.",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


COMPANY = 'company: {zh: 苏州精工电子有限公司, en: "Suzhou Precision Electronics Co., Ltd."}'


def named_rules(folder: Path) -> Path:
    """The shipped rules with the company named, as `csat init --company` leaves them:
    forms never go out signed by the placeholder."""
    text = (ROOT / "config" / "weights.yaml").read_text(encoding="utf-8")
    path = folder / "weights.yaml"
    path.write_text(
        text.replace("company: {zh: 本公司, en: Our company}", COMPANY), encoding="utf-8"
    )
    return path


def tick(path: Path, ratings: list[object]) -> None:
    """What a customer does on a csat form: a ✓ under the level of each item (None: none)."""
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    header = {c.value: c.column for c in ws[8] if c.value}
    for i, rating in enumerate(ratings):
        if rating is not None:
            ws.cell(9 + i, header[rating], "✓")
    wb.save(path)
