"""Builders for the FORMATS.md fixtures: small xlsx files shaped like what customers and survey
platforms really send back, written in code (never real customer data), plus helpers to score
them through the public contract (score_files and `csat score --json`)."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import yaml
from conftest import EN_ITEMS, ITEM_KEYS
from typer.testing import CliRunner

from csat.cli import app
from csat.config import Rules, load_rules
from csat.models import ScoreRun

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = ROOT / "config" / "weights.yaml"

Rows = list[list[Any]]

ITEMS_ZH = ["产品质量", "RoHS情况", "服务情况", "改善情况", "包装运输", "交付日期", "交付数量"]
ITEMS_HANT = ["產品質量", "RoHS情況", "服務情況", "改善情況", "包裝運輸", "交付日期", "交付數量"]
ITEMS_EN = EN_ITEMS
LEVELS = ["very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied"]

# The words of FORMATS.md §5, best first.
CSAT = ["非常满意", "较满意", "一般", "不满意", "非常不满意"]
CSAT_HANT = ["非常滿意", "較滿意", "一般", "不滿意", "非常不滿意"]
PROCEDURE = ["非常满意", "较满意", "满意", "不满意", "非常不满意"]
PLATFORM = ["非常满意", "满意", "一般", "不满意", "非常不满意"]
PLATFORM_HANT = ["非常滿意", "滿意", "一般", "不滿意", "非常不滿意"]
VARIANT = ["很满意", "比较满意", "一般", "不太满意", "很不满意"]
EN_SATISFACTION = ["Very satisfied", "Satisfied", "Neutral", "Dissatisfied", "Very dissatisfied"]
EN_QUALITY = ["Excellent", "Very good", "Good", "Fair", "Poor"]
EN_QUALITY_OTHER = ["Very good", "Good", "Average", "Poor", "Very poor"]


# ------------------------------------------------------------------------ writing workbooks


def save(
    path: Path,
    sheets: Mapping[str, Sequence[Sequence[Any]]],
    merges: dict[str, list[str]] | None = None,
    formulas: dict[str, dict[str, tuple[str, Any]]] | None = None,
) -> Path:
    """Write an xlsx whose sheets hold the given rows (row 1 first). `formulas` maps sheet ->
    cell -> (formula, cached value): the cell holds the formula and, as Excel saves it, the
    value it last computed (openpyxl cannot write that part, so it is patched into the XML)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    order = list(sheets)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
        for rng in (merges or {}).get(name, []):
            ws.merge_cells(rng)
        for ref, (formula, _) in (formulas or {}).get(name, {}).items():
            ws[ref] = formula
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    if formulas:
        _patch_cached_values(path, {order.index(s) + 1: f for s, f in formulas.items()})
    return path


def _patch_cached_values(path: Path, by_sheet: dict[int, dict[str, tuple[str, Any]]]) -> None:
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            m = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", info.filename)
            if m and int(m.group(1)) in by_sheet:
                text = data.decode("utf-8")
                for ref, (_, cached) in by_sheet[int(m.group(1))].items():
                    text = _with_cached(text, ref, cached)
                data = text.encode("utf-8")
            dst.writestr(info, data)
    shutil.move(tmp, path)


def _with_cached(xml: str, ref: str, cached: Any) -> str:
    pattern = re.compile(rf'<c r="{ref}"([^>]*)>(<f>.*?</f>)(?:<v\s*/>|<v>.*?</v>)?</c>')
    m = pattern.search(xml)
    assert m, f"formula cell {ref} not found in the sheet XML"
    attrs = re.sub(r'\s*t="[^"]*"', "", m.group(1))
    if isinstance(cached, str):
        cell = f'<c r="{ref}"{attrs} t="str">{m.group(2)}<v>{cached}</v></c>'
    else:
        cell = f'<c r="{ref}"{attrs}>{m.group(2)}<v>{cached}</v></c>'
    return xml[: m.start()] + cell + xml[m.end() :]


# ------------------------------------------------------------------------ platform exports


def wjx_text_export(
    replies: list[dict[str, Any]],
    *,
    customer_header: str | None = "1、单位名称(填空题 *必答)",
    matrix: bool = False,
    with_total: bool = True,
) -> Rows:
    """A 问卷星 按选项文本 download: metadata first, then `N、question(type tag)` columns. Each
    reply is {customer, time, ratings (7 option texts, in item order), comment}. With `matrix`, the
    items are one 矩阵单选题: the first row's column is `N、题干(矩阵单选题 *必答)—产品质量`, the
    others the bare row labels."""
    header: list[Any] = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP"]
    if with_total:
        header.append("总分")
    if customer_header:
        header.append(customer_header)
    n = 2 if customer_header else 1
    if matrix:
        header.append(f"{n}、您对我司以下方面的满意度(矩阵单选题 *必答)—{ITEMS_ZH[0]}")
        header += ITEMS_ZH[1:]
        n += 1
    else:
        for item in ITEMS_ZH:
            header.append(f"{n}、您对我司{item}的满意度(单选题 *必答)")
            n += 1
    header.append(f"{n}、您是通过哪些渠道了解我司的(多选题)")
    header.append(f"{n + 1}、您对我司的其他意见或建议(填空题)")
    rows: Rows = [header]
    for i, r in enumerate(replies):
        row: list[Any] = [
            i + 1,
            r.get("time", "2024/6/17 11:22:31"),
            r.get("duration", "136秒"),
            "手机提交",
            "直接访问",
            r.get("ip", "1.2.3.4(广东-深圳)"),
        ]
        if with_total:
            row.append(0)
        if customer_header:
            row.append(r["customer"])
        row += r["ratings"]
        row.append("展会┋网络搜索")  # multi-select answers are joined with ┋
        row.append(r.get("comment", "(空)"))
        rows.append(row)
    return rows


# On the platforms' default scale 满意 is the second-best level (FORMATS §5).
WJX_REPLIES: list[dict[str, Any]] = [
    {
        "customer": "深圳市华强电子有限公司",
        "time": "2024/6/17 11:22:31",
        "ratings": ["非常满意", "满意", "满意", "一般", "非常满意", "满意", "不满意"],
    },
    {
        "customer": "东莞精密模具有限公司",
        "time": "2024/7/2 9:05:10",
        "duration": "1分12秒",
        "ip": "5.6.7.8(广东-东莞)",
        "ratings": ["满意", "(跳过)", "非常满意", "满意", "满意", "一般", "满意"],
    },
    {
        "customer": "苏州科创电子科技有限公司",
        "time": "2024/6/3 8:00:00",
        "ratings": ["非常满意"] * 7,
        "comment": "交期需要改善",
    },
]


# ------------------------------------------------------------------------ per-customer forms


def level_form(
    customer: str | None,
    marks: dict[int, int],
    *,
    mark: Any = "√",
    level_headers: list[str] = PROCEDURE,
    customer_label: str = "客户名称:",
    date: Any = "2024-06-12",
    date_label: str = "填表日期:",
    items: list[str] = ITEMS_ZH,
    title: str = "顾客满意度调查表",
) -> Rows:
    """The company's form: items in rows 7-13 (B), one column per level in D-H, a mark under the
    level chosen. `marks` maps item index (0-6) -> level index (0 = best)."""
    rows: Rows = [
        [title],
        ["表单编号: QR-BD-012  版本: A/1"],
        [],
        [customer_label, customer, None, None, None, date_label, date],
        [],
        ["序号", "调查项目", "评分比例", *level_headers],
    ]
    for i, item in enumerate(items):
        row: list[Any] = [i + 1, item, "", None, None, None, None, None]
        if i in marks:
            row[3 + marks[i]] = mark
        rows.append(row)
    rows += [[], ["其它评价:", None]]
    return rows


# ------------------------------------------------------------------------ the rules and scales


def yaml_rules() -> dict[str, Any]:
    data = yaml.safe_load(WEIGHTS.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _strings_by_level(node: Any) -> dict[str, set[str]]:
    """Every string found under each level key, however the scale entry nests them."""
    found: dict[str, set[str]] = {}

    def strings(n: Any) -> set[str]:
        if isinstance(n, str):
            return {n}
        if isinstance(n, dict):
            return set().union(*(strings(v) for v in n.values())) if n else set()
        if isinstance(n, list):
            return set().union(*(strings(v) for v in n)) if n else set()
        return set()

    def walk(n: Any) -> None:
        if isinstance(n, dict):
            for k, v in n.items():
                if k in LEVELS:
                    found.setdefault(k, set()).update(strings(v))
                else:
                    walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(node)
    return found


def scale_name(words: list[str]) -> str:
    """The name of the shipped scale whose levels (best first) carry exactly these words' places:
    found in the YAML by content, so the tests do not depend on what the lead named them."""
    scales = yaml_rules().get("scales")
    assert isinstance(scales, dict), "config/weights.yaml has no `scales:` mapping (SPEC §2)"
    fits = []
    for name, entry in scales.items():
        if isinstance(entry, dict) and entry.get("numbers") == "position":
            continue  # plain numbers are option positions there: not the words' own scale
        found = _strings_by_level(entry)
        if all(w in found.get(level, set()) for w, level in zip(words, LEVELS, strict=False)):
            fits.append(name)
    assert fits, f"no shipped scale has the words {words} (FORMATS.md §5)"
    return str(fits[0])


def scale_entry(words: list[str]) -> Any:
    return yaml_rules()["scales"][scale_name(words)]


def rules_file(tmp_path: Path, **top: Any) -> Path:
    """A copy of the default rules with top-level keys set (e.g. scale:) or, for a mapping,
    updated (dates={"order": ...})."""
    data = yaml_rules()
    for key, value in top.items():
        if key == "extra_scales":
            data["scales"].update(value)
        elif isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    path = tmp_path / "weights-test.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def rules_with(tmp_path: Path, **top: Any) -> Rules:
    return load_rules(rules_file(tmp_path, **top)).rules


# ------------------------------------------------------------------------ reading the outcome


runner = CliRunner()


def cli_json(*args: str) -> tuple[int, dict[str, Any]]:
    """`csat score ... --json --dry-run`: exit code and the one JSON document."""
    result = runner.invoke(app, ["score", *args, "--json", "--dry-run"])
    assert result.stdout.strip(), result.output
    return result.exit_code, json.loads(result.stdout)


def notices(run: ScoreRun, sheet: str | None = None) -> list[Any]:
    """run.notices (SPEC §7 `notices`), optionally those of one sheet."""
    got: list[Any] = list(run.notices)
    return [n for n in got if sheet is None or n.sheet == sheet]


def names_scale(message: str, name: str) -> bool:
    """Whether a message names the scale `name` (as a word, not inside `csat's` or a longer
    scale name such as quality_en_alt)."""
    return re.search(rf"(?<![\w'])'?{re.escape(name)}'?(?![\w'])", message) is not None


def levels(scored: Any) -> list[str | None]:
    return [scored.items[k].level for k in ITEM_KEYS]


def by_customer(run: ScoreRun) -> dict[str, Any]:
    return {s.response.customer: s for s in run.scored}
