"""csat report: the statistics workbook, read back as a client would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import DATA, ROOT, TABLE_HEADER
from typer.testing import CliRunner

from csat.cli import app
from csat.config import LoadedRules, load_rules
from csat.periods import parse_period
from csat.pipeline import record_outcomes
from csat.report import NothingToReport, build_report, report_path
from csat.store import Store

GOLDEN = Path(__file__).parent / "golden"
MADE_ON = date(2024, 7, 15)
H1 = parse_period("2024H1")
EVIL = '=HYPERLINK("http://example.invalid","click")'


@pytest.fixture
def loaded() -> LoadedRules:
    return load_rules(ROOT / "config" / "weights.yaml")


@pytest.fixture
def history(tmp_path: Path, loaded: LoadedRules, workbook: Callable[..., Path]) -> Path:
    """2023H2: three customers; 2024H1: the shared samples plus a reply with a formula-like
    comment and an earlier reply of 苏州科创 that the returned form supersedes."""
    return _history(tmp_path / "history.db", loaded, workbook)


@pytest.fixture
def history_on_both(db: Path, loaded: LoadedRules, workbook: Callable[..., Path]) -> Path:
    """The same history on SQLite and on PostgreSQL (tests/pg.py): the same report from both."""
    return _history(db, loaded, workbook)


def _history(db: Path, loaded: LoadedRules, workbook: Callable[..., Path]) -> Path:
    ok = ["较满意"] * 7
    h2 = workbook(
        "2023h2.xlsx",
        [
            TABLE_HEADER,
            [1, "天津立讯电子有限公司", "C1001", "2023-11-02", *ok, None],
            [2, "深圳市鑫源电子有限公司", "C1002", "2023-12-01", *(["一般"] * 7), "交期"],
            [3, "苏州科创电子科技有限公司", None, "2023-10-10", *(["不满意"] * 7), None],
        ],
    )
    extra = workbook(
        "extra.xlsx",
        [
            TABLE_HEADER,
            [1, "Formula Test Ltd.", "X1", "2024-05-01", *ok, EVIL],
            [2, "苏州科创电子科技有限公司", None, "2024-01-05", *(["一般"] * 7), "earlier reply"],
        ],
    )
    book = openpyxl.load_workbook(extra)  # the comment as typed text, not a formula
    cell = book.active["L2"]
    cell.value, cell.data_type = EVIL, "s"
    book.save(extra)
    with Store.open(db) as store:
        now = datetime(2024, 7, 1)
        list(record_outcomes([str(h2)], loaded, store, now))
        list(record_outcomes([str(DATA), str(extra)], loaded, store, now, H1))
    return db


def make(
    db: Path,
    loaded: LoadedRules,
    out: Path,
    lang: str = "zh",
    period: str = "2024H1",
    rescore: bool = False,
):  # type: ignore[no-untyped-def]
    with Store.open(db, create=False) as store:
        return build_report(
            store,
            parse_period(period),
            loaded,
            out,
            lang,
            MADE_ON,  # type: ignore[arg-type]
            rescore=rescore,
        )


def dump(path: Path) -> dict[str, Any]:
    """Cell values and number formats of every sheet, plus the charts per sheet."""
    wb = openpyxl.load_workbook(path)
    out: dict[str, Any] = {}
    for ws in wb.worksheets:
        cells = []
        for row in ws.iter_rows():
            for c in row:
                if c.value is None:
                    continue
                value = c.value
                if isinstance(value, datetime):
                    value = value.date().isoformat()
                elif isinstance(value, float):
                    value = round(value, 6)
                fmt = c.number_format if c.number_format != "General" else None
                cells.append([c.coordinate, value] + ([fmt] if fmt else []))
        out[ws.title] = {
            "charts": len(ws._charts),
            "freeze": ws.freeze_panes,
            "filter": ws.auto_filter.ref,
            "cells": cells,
        }
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_workbook_matches_golden(
    history_on_both: Path, loaded: LoadedRules, tmp_path: Path, lang: str, update_golden: bool
) -> None:
    result = make(history_on_both, loaded, tmp_path / "reports", lang)
    assert result.path == tmp_path / "reports" / "2024H1" / "csat-2024H1.xlsx"
    got = dump(result.path)
    text = golden_text(got).replace(str(DATA), "DATA").replace(str(tmp_path), "TMP")
    text = text.replace(loaded.sha256, "RULES-SHA256").replace(loaded.sha256[:12], "RULES-SHA")
    golden = GOLDEN / f"report-2024H1-{lang}.json"
    if update_golden:
        golden.write_text(text, encoding="utf-8")
    assert json.loads(text) == json.loads(golden.read_text(encoding="utf-8"))


def golden_text(dumped: dict[str, Any]) -> str:
    """JSON with one cell per line, so a changed golden reads as a short diff."""
    lines = ["{"]
    for i, (sheet, content) in enumerate(dumped.items()):
        lines.append(f" {json.dumps(sheet, ensure_ascii=False)}: {{")
        lines += [
            f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in content.items() if k != "cells"
        ]
        cells = [f"   {json.dumps(c, ensure_ascii=False)}" for c in content["cells"]]
        lines.append('  "cells": [\n' + ",\n".join(cells) + "\n  ]")
        lines.append(" }" + ("," if i < len(dumped) - 1 else ""))
    return "\n".join(lines) + "\n}\n"


def test_figures_a_reader_checks(
    history_on_both: Path, loaded: LoadedRules, tmp_path: Path
) -> None:
    result = make(history_on_both, loaded, tmp_path)
    s = result.view.stats
    assert (s.responses, s.superseded) == (
        33,
        1,
    )  # 32 samples + Formula Test; 苏州科创's early reply
    assert result.view.previous is not None and result.view.previous.period == "2023H2"
    assert result.view.change is not None
    assert result.view.previous.mean_total == pytest.approx((86 + 73 + 50) / 3)
    assert [t.period for t in result.view.trend] == ["2023H2", "2024H1"]
    assert result.view.rules_hashes == [loaded.sha256]
    assert len(result.view.rejected) == 1 and result.view.rejected[0].cell == "F17"

    wb = openpyxl.load_workbook(result.path)
    assert wb.sheetnames == [
        "汇总",
        "客户得分",
        "项目分析",
        "柏拉图",
        "问题项",
        "纠正措施登记",
        "未回复的顾客",
        "客户分类分析",
        "趋势",
        "顾客意见",
        "未计入的输入",
        "统计检验",
        "重要度-表现",
        "控制图",
        "满意度指数",
        "意见分类",
    ]
    summary = {
        r[0].value: r[1].value for r in wb["汇总"].iter_rows(min_row=3, max_col=2) if r[0].value
    }
    assert summary["期间"] == "2024H1"
    assert summary["评分规则(SHA-256)"] == loaded.sha256[:12]  # the full hash in a note
    [hash_cell] = [
        r[1]
        for r in wb["汇总"].iter_rows(min_row=3, max_col=2)
        if r[0].value == "评分规则(SHA-256)"
    ]
    assert loaded.sha256 in hash_cell.comment.text
    assert summary["制表日期"].date() == MADE_ON
    scores = wb["客户得分"]
    assert scores.freeze_panes == "B2" and scores.auto_filter.ref
    assert scores.print_title_rows == "$1:$1" and scores.print_title_cols == "$A:$A"
    assert scores.page_setup.orientation == "landscape" and scores.page_setup.paperSize == 9
    names = [r[0].value for r in scores.iter_rows(min_row=2)]
    assert names.count("苏州科创电子科技有限公司") == 1
    comments = {r[0].value: r[5] for r in wb["顾客意见"].iter_rows(min_row=2)}
    evil = comments["Formula Test Ltd."]
    assert evil.value == EVIL and evil.data_type == "s"  # text, never a formula
    assert sum(len(ws._charts) for ws in wb.worksheets) >= 4
    # The topics sheet's comment list: its header row and each item's title row have their
    # heights set (its rows are streamed, so LibreOffice would draw the 14 pt titles over the
    # rows above them at the default height).
    topics = wb["意见分类"]
    [head] = [r[0].row for r in topics.iter_rows() if r[0].value == "客户名称"]
    titles = [r[0].row for r in topics.iter_rows() if r[0].font.sz == 14]
    assert titles and all((topics.row_dimensions[r].height or 0) >= 20 for r in titles)
    assert (topics.row_dimensions[head].height or 0) >= 20


def test_stored_rules_are_used_unless_rescore(history_on_both: Path, tmp_path: Path) -> None:
    text = (ROOT / "config" / "weights.yaml").read_text(encoding="utf-8")
    stricter = tmp_path / "weights.yaml"
    stricter.write_text(
        text.replace("low_score_below: 70", "low_score_below: 90"), encoding="utf-8"
    )
    edited = load_rules(stricter)
    kept = make(history_on_both, edited, tmp_path / "a")
    rescored = make(history_on_both, edited, tmp_path / "b", rescore=True)
    assert kept.view.stats.flagged == 18 and not kept.view.rescored
    assert rescored.view.stats.flagged > 18 and rescored.view.rescored
    assert rescored.view.rules_hashes == [edited.sha256]


def test_nothing_to_report(history_on_both: Path, loaded: LoadedRules, tmp_path: Path) -> None:
    with pytest.raises(NothingToReport, match="2022H1.*2023H2, 2024H1"):
        make(history_on_both, loaded, tmp_path, period="2022H1")
    assert not (tmp_path / "2022H1").exists()


def test_failed_or_interrupted_write_keeps_the_previous_report(
    history: Path, loaded: LoadedRules, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "reports"
    first = make(history, loaded, out).path
    before = first.read_bytes()
    # (a write that fails for want of disk space: tests/test_report_set.py)
    import csat.render.workbook as wbmod

    def interrupted(self: object, view: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(wbmod.StatisticsWorkbook, "finish", interrupted)
    with pytest.raises(KeyboardInterrupt):
        make(history, loaded, out)
    assert first.read_bytes() == before
    assert sorted(p.name for p in first.parent.iterdir()) == ["capa", first.name]  # no temp file


def test_cli_report(history_on_both: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "r"
    args = [
        "report",
        "--period",
        "2024H1",
        "--db",
        str(history_on_both),
        "--out",
        str(out),
        "--date",
        "2024-07-15",
    ]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert "Warning" not in result.stderr  # scipy's warnings on small samples stay quiet
    assert doc["responses"] == 33 and doc["made_on"] == "2024-07-15"
    assert doc["previous"]["period"] == "2023H2" and doc["rejected"] == 1
    assert doc["workbook"] == str(report_path(out, H1))
    stats = doc["statistics"]
    assert stats["mean_total"]["n"] == 33 and stats["mean_total"]["low"] < 83.89
    paired = stats["change"]["paired_total"]  # 3 customers answered both periods
    assert (paired["test"], paired["n"], paired["few_replies"]) == ("wilcoxon", 3, True)
    assert paired["verdict"] == "within_noise"
    assert stats["fix_first"] in stats["items"]
    assert stats["items"]["delivery_date"]["comments"] >= 1
    assert [p["period"] for p in stats["control_chart"]] == ["2023H2", "2024H1"]
    human = runner.invoke(app, args + ["--lang", "en"])
    assert human.exit_code == 0 and "Mean total vs 2023H2" in human.stdout
    assert openpyxl.load_workbook(report_path(out, H1)).sheetnames[0] == "Summary"
    for bad, code, message in [
        (
            ["report", "--period", "2019H1", "--db", str(history_on_both)],
            1,
            "no responses recorded",
        ),
        (["report", "--period", "2024H9", "--db", str(history_on_both)], 2, "2024H1"),
        (["report", "--period", "2024H1", "--db", str(tmp_path / "none.db")], 1, "csat score"),
        ([*args, "--date", "15/07/2024"], 2, "not a date"),
    ]:
        result = runner.invoke(app, bad)
        assert result.exit_code == code, (bad, result.output)
        assert message in result.stderr
    assert not (tmp_path / "none.db").exists()


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(path: Path, tmp_path: Path) -> Path:
    """The workbook printed by LibreOffice, as a manager would print it."""
    soffice = _soffice()
    if soffice is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice is required under CI (.ci/run installs it)")
        pytest.skip("LibreOffice (soffice) not installed")
    out = tmp_path / f"pdf-{path.parent.parent.name}"
    proc = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    pdf = out / path.with_suffix(".pdf").name
    assert proc.returncode == 0 and pdf.exists(), proc.stderr
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
    return pdf


def pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_printed_workbook(
    history: Path, loaded: LoadedRules, tmp_path: Path, lang: str
) -> None:
    """What LibreOffice prints: whole headers, a footer on every page, the per-customer
    sheet on a few pages wide, empty sheets as one line, the quadrants named."""
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils (pdftotext) not installed")
    result = make(history, loaded, tmp_path / lang, lang)
    pages = pdf_pages(to_pdf(result.path, tmp_path))
    n = len(pages)
    # 1-2 summary, 4-6 scores (3 wide, 2 long), items, pareto, flags, CAPA register, not
    # replied (one line), segments, trend, comments, rejected, and the five statistics sheets
    assert 16 <= n <= 24, n
    made = "制表日期 2024-07-15" if lang == "zh" else "Made on 2024-07-15"
    word = "页" if lang == "zh" else "Page"
    for i, page in enumerate(pages, 1):
        assert f"{word} {i} / {n}" in page and "2024H1" in page and made in page, i
        assert loaded.sha256[:12] in page
    words = {w for page in pages for w in page.split()}
    wb = openpyxl.load_workbook(result.path)
    for sheet in (wb.worksheets[1], wb.worksheets[2]):  # scores, items: long headers
        for cell in next(sheet.iter_rows(max_row=1)):
            for w in str(cell.value).split():
                assert w in words, (sheet.title, cell.value, w)  # never "Answere d"
    every = "\n".join(pages)
    quadrants = ["q_concentrate", "q_keep", "q_low", "q_overkill"]
    from csat.render.labels import t

    for key in quadrants:
        assert t(key, lang) in every  # type: ignore[arg-type]
    assert t("none_unanswered", lang) in every  # type: ignore[arg-type]
    # the items table and both its charts on one page
    squeezed = ["".join(p.split()) for p in pages]
    title = "".join(t("items_chart", lang).split())  # type: ignore[arg-type]
    [items_page] = [p for p in squeezed if title in p]
    for key in ("scatter_chart", "q_keep"):
        assert "".join(t(key, lang).split()) in items_page  # type: ignore[arg-type]
    # the customer column repeats on every page of the per-customer sheet
    customer = t("customer", lang)  # type: ignore[arg-type]
    # scores (three pages wide at least), flags and comments start with the customer column
    assert sum(p.lstrip().startswith(customer) for p in pages) >= 5
    assert "Answere d" not in every and "Dissatisfie d" not in every
    if lang == "zh":  # the summary page reads as a management review
        assert "管理评审摘要" in pages[0] and "优先改进：" in pages[0]
        assert "与上期 2023H2 比较" in pages[0] and "在随机波动范围内" in pages[0]


def test_rescoring_a_folder_skips_csats_own_report_and_database(
    history: Path, loaded: LoadedRules, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    shutil.copytree(DATA, work)
    db = work / "csat.db"
    with Store.open(db) as store:
        list(record_outcomes([str(work)], loaded, store, datetime(2024, 7, 1), H1))
    make(db, loaded, work / "reports")
    with Store.open(db) as store:
        again = list(record_outcomes([str(work)], loaded, store, datetime(2024, 7, 2), H1))
    reasons = {Path(s.file).name: s.reason for s in again if hasattr(s, "reason")}
    assert reasons["csat-2024H1.xlsx"] == "a report csat wrote, not a returned survey"
    assert not any(name.startswith("csat.db") for name in reasons)
    assert all(
        "already imported" in r
        for n, r in reasons.items()
        if n.endswith(".xlsx") and n != "csat-2024H1.xlsx"
    )


def test_progress_names_each_stage_and_counts_the_forms(
    history: Path, loaded: LoadedRules, tmp_path: Path
) -> None:
    told: list[tuple[str, int]] = []
    with Store.open(history, create=False) as store:
        result = build_report(
            store,
            H1,
            loaded,
            tmp_path / "out",
            "en",
            MADE_ON,
            progress=lambda s, n: told.append((s, n)),
        )
    stages = [s for s, _ in told]
    assert stages.index("Reading responses") < stages.index("Writing the workbook")
    assert stages.index("Writing the workbook") < stages.index("Writing CAPA forms")
    forms = [n for s, n in told if s == "Writing CAPA forms" and n]
    assert forms and forms[-1] == len(result.capa_forms) - 1  # every form; the index is not one
