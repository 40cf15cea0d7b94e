"""Generate realistic survey inputs for benchmarks: one N-response table workbook, or a folder
of N single-customer form files. Deterministic (seeded), so runs are comparable.

    python benchmarks/generate.py table 100000 benchmarks/out/table-100k.xlsx
    python benchmarks/generate.py table-shared 100000 benchmarks/out/table-100k-shared.xlsx
    python benchmarks/generate.py forms 2000 benchmarks/out/forms-2000
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl

LEVELS = ["非常满意", "较满意", "一般", "不满意", "非常不满意"]
WEIGHTS = [35, 40, 15, 7, 3]  # how real replies spread over the levels
ITEMS = ["产品质量", "RoHS情况", "服务情况", "改善情况", "包装运输", "交付日期", "交付数量"]
COMMENTS = [None, None, None, "交期偶有延误", "希望提供RoHS检测报告", "服务很好,继续保持"]


def _rating(rng: random.Random) -> object:
    level = rng.choices(range(5), WEIGHTS)[0]
    return 5 - level if rng.random() < 0.05 else LEVELS[level]  # some offices type numbers


def table(n: int, out: Path, seed: int = 1, shared: bool = False) -> None:
    """openpyxl's write-only mode writes each text inline; `shared`: the same rows with the
    texts in the shared-strings part, as Excel and LibreOffice save a workbook (XlsxWriter)."""
    rng = random.Random(seed)
    rows: list[list[object]] = [
        ["顾客满意度调查统计表"],
        ["调查期间:2024年1月-6月"],
        [],
        ["序号", "客户名称", "客户编号", "回复日期", *ITEMS, "其它评价", "业务员"],
    ]
    start = date(2024, 1, 1)

    def replies() -> Iterator[list[object]]:
        yield from rows
        for i in range(1, n + 1):
            yield [
                i,
                f"测试客户{i:07d}有限公司",
                f"C{i:07d}",
                start + timedelta(days=rng.randrange(181)),
                *(_rating(rng) for _ in ITEMS),
                rng.choice(COMMENTS),
                rng.choice(["张三", "李四"]),
            ]

    out.parent.mkdir(parents=True, exist_ok=True)
    if shared:
        _shared_table(replies(), out)
        return
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("2024上半年")
    for row in replies():
        ws.append(row)
    wb.save(out)


def _shared_table(rows: Iterator[list[object]], out: Path) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(out))
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet("2024上半年")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, date):
                ws.write_datetime(r, c, datetime.combine(value, time()), day)
            elif value is not None:
                ws.write(r, c, value)
    wb.close()


def forms(n: int, folder: Path, seed: int = 2) -> None:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(1, n + 1):
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "调查表"
        ws.append(["顾客满意度调查表"])
        ws.append(["表单编号: QR-BD-012  版本: A/1"])
        ws.append([])
        ws.append(
            [
                "客户名称:",
                f"表单客户{i:05d}",
                None,
                None,
                None,
                "填表日期:",
                date(2024, 6, 1) + timedelta(days=rng.randrange(30)),
            ]
        )
        ws.append([])
        ws.append(
            ["序号", "调查项目", "评分比例", "非常满意", "较满意", "满意", "不满意", "非常不满意"]
        )
        for k, item in enumerate(ITEMS):
            row: list[object] = [k + 1, item, "", None, None, None, None, None]
            row[3 + rng.choices(range(5), WEIGHTS)[0]] = "√"
            ws.append(row)
        ws.append([])
        ws.append(["其它评价:", rng.choice(COMMENTS)])
        ws.merge_cells("A1:H1")
        wb.save(folder / f"form-{i:05d}.xlsx")


if __name__ == "__main__":
    kind, count, target = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    if kind == "forms":
        forms(count, target)
    else:
        table(count, target, shared=kind == "table-shared")
