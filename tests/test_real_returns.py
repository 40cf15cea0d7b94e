"""The issue's silent misreadings, each now read right or refused (SPEC §3, FORMATS §2-§5)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from csat.cli import app
from csat.config import Rules
from csat.pipeline import score_files

WJX_META = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP"]
MATRIX = "5、您对以下方面的满意度(矩阵单选题 *必答)—产品质量"
ROWS = ["RoHS情况", "服务情况", "改善情况", "包装运输", "交付日期", "交付数量"]


def wjx_rows(ratings: list[list[str]]) -> list[list[object]]:
    head = [*WJX_META, "1、贵公司名称(填空题 *必答)", MATRIX, *ROWS, "6、意见或建议"]
    rows: list[list[object]] = [head]
    for i, r in enumerate(ratings, start=1):
        meta = [
            i,
            f"2024/6/{10 + i} 11:22:31",
            "136秒",
            "手机提交",
            "直接访问",
            "1.2.3.4(广东-深圳)",
        ]
        rows.append([*meta, f"客户{i}有限公司", *r, "(空)"])
    return rows


def test_wjx_matrix_export_on_the_platform_scale(
    rules: Rules, workbook: Callable[..., Path]
) -> None:
    """满意 beside 一般 is the second best (18 of 20 for service); the matrix's first row
    (产品质量, weight 25) is read, not lost; the IP and time columns are not the customer."""
    path = workbook(
        "wjx.xlsx",
        wjx_rows(
            [
                ["满意", "非常满意", "满意", "一般", "满意", "不满意", "非常满意"],
                ["非常满意", "非常满意", "非常满意", "非常满意", "(跳过)", "非常满意", "非常满意"],
            ]
        ),
    )
    run = score_files([str(path)], rules)
    assert run.rejected == []
    first, second = run.scored
    assert first.response.customer == "客户1有限公司"
    assert first.response.date is not None and first.response.date.isoformat() == "2024-06-11"
    # 20 + 20 + 18 + 11 + 9 + 2 + 5 = 85 on the platform scale (the csat scale would give 80)
    assert (first.total, first.complete) == (85.0, True)
    assert first.items["service"].level == "satisfied"
    assert first.response.comments is None or first.response.comments == "(空)"
    # a skipped question is unanswered: 90 of 90 answered weight, rescaled to 100
    assert (second.total, second.complete) == (100.0, False)
    scale = [n.message for n in run.notices if "scale" in n.message]
    assert scale == [n for n in scale if "'platform'" in n] and scale


def test_a_summary_row_under_the_table_is_skipped_and_said(
    rules: Rules, workbook: Callable[..., Path]
) -> None:
    head = [
        "客户名称",
        "产品质量",
        "RoHS情况",
        "服务情况",
        "改善情况",
        "包装运输",
        "交付日期",
        "交付数量",
    ]
    path = workbook(
        "t.xlsx",
        [
            head,
            ["甲", 5, 5, 5, 5, 5, 5, 5],
            ["乙", 4, 4, 4, 4, 4, 4, 4],
            ["平均", 4.5, 4.5, 4.5, 4.5, 4.5, 4.5, 4.5],
            ["制表：张三  审核：李四"],
        ],
    )
    run = score_files([str(path)], rules, period=None)
    assert run.rejected and all("no reply date" in r.reason for r in run.rejected)
    run = score_files(
        [str(path)], rules, period=__import__("csat.periods").periods.parse_period("2024H1")
    )
    assert [s.response.customer for s in run.scored] == ["甲", "乙"] and run.rejected == []
    [skipped] = [n for n in run.notices if "skipped" in n.message]
    assert "2 rows skipped" in skipped.message and "row 4 (summary line '平均')" in skipped.message


def test_english_quality_scale_gives_good_its_own_meaning(
    rules: Rules, workbook: Callable[..., Path]
) -> None:
    head = [
        "Company",
        "Timestamp",
        "Email Address",
        "Name",
        *[
            f"Please rate us [{x}]"
            for x in [
                "Product quality",
                "RoHS compliance",
                "Service",
                "Improvement",
                "Packaging",
                "Delivery date",
                "Delivery quantity",
            ]
        ],
    ]
    path = workbook(
        "g.xlsx",
        [
            head,
            ["Acme GmbH", "2024/06/12 10:00:00", "a@acme.de", "Anna", *["Good"] * 7],
            ["Beta AG", "2024/06/13 10:00:00", "b@beta.de", "Bob", "Excellent", *["Fair"] * 6],
        ],
    )
    run = score_files([str(path)], rules)
    assert run.rejected == []
    acme, beta = run.scored
    assert acme.response.customer == "Acme GmbH" and acme.total == 73.0  # Good = the middle
    assert beta.items["quality"].level == "very_satisfied"
    assert beta.items["service"].level == "dissatisfied"


def test_good_and_very_good_alone_are_refused_and_pinning_decides(
    rules: Rules, workbook: Callable[..., Path], tmp_path: Path
) -> None:
    head = ["Customer", "Date", "Product quality", "RoHS", "Service", "Delivery date"]
    path = workbook("e.xlsx", [head, ["Acme", "2024-06-12", "Good", "Good", "Very good", "Good"]])
    run = score_files([str(path)], rules)
    assert run.scored == [] and len(run.rejected) == 4
    assert all("ambiguous" in r.reason and "--scale" in r.reason for r in run.rejected)
    pinned = score_files([str(path)], rules, scale="quality_en_alt")
    assert pinned.rejected == [] and pinned.scored[0].items["quality"].level == "satisfied"


def test_a_column_on_one_to_ten_is_refused_whole(
    rules: Rules, workbook: Callable[..., Path]
) -> None:
    head = ["客户名称", "日期", "产品质量(1-10分)", "RoHS情况", "服务情况", "改善情况", "包装运输"]
    path = workbook("ten.xlsx", [head, ["甲", "2024-06-12", 4, 5, 5, 5, 5]])
    run = score_files([str(path)], rules)
    assert run.scored == []
    [rej] = run.rejected
    assert rej.cell == "C2" and "not on the five levels" in rej.reason and "1-10" in rej.reason


def test_a_missing_item_column_is_a_notice_naming_the_unmatched_headers(
    rules: Rules, workbook: Callable[..., Path]
) -> None:
    head = [
        "客户名称",
        "日期",
        "产品质量",
        "RoHS情况",
        "您对我司服务和交期的评价",
        "改善情况",
        "包装运输",
    ]
    path = workbook("m.xlsx", [head, ["甲", "2024-06-12", 5, 5, 5, 5, 5]])
    run = score_files([str(path)], rules)
    assert run.scored[0].complete is False
    missing = [n.message for n in run.notices if n.message.startswith("no column for 服务情况")]
    assert missing and "E1 '您对我司服务和交期的评价'" in missing[0] and "weight 20" in missing[0]


def test_inspect_explains_every_column(workbook: Callable[..., Path]) -> None:
    path = workbook(
        "wjx.xlsx", wjx_rows([["满意", "非常满意", "满意", "一般", "满意", "不满意", "非常满意"]])
    )
    result = CliRunner().invoke(app, ["inspect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    [info] = json.loads(result.stdout)["files"]
    assert info["format"] == "xlsx"
    [sheet] = info["sheets"]
    assert sheet["layout"] == "table" and sheet["header_rows"] == [1, 1]
    became = {c["cell"]: c["became"] for c in sheet["columns"]}
    assert became["F1"] == "ignored" and became["B1"] == "field submitted"
    assert became["G1"] == "field customer" and became["H1"] == "item quality"
    assert sheet["scale"] == "platform" and sheet["missing_items"] == []
    human = CliRunner().invoke(app, ["inspect", str(path)])
    assert "row label '产品质量'" in human.output and "scale 'platform'" in human.output


FORM_ITEMS = ["产品质量", "RoHS情况", "服务情况", "改善情况", "包装运输", "交付日期", "交付数量"]
OPTIONS = ["非常满意", "较满意", "一般", "不满意", "非常不满意"]


def test_a_form_with_the_options_inline_reads_the_ticked_box(
    rules: Rules, workbook: Callable[..., Path]
) -> None:
    rows: list[list[object]] = [
        ["单位名称：苏州某某有限公司"],
        ["日期：2024年6月12日"],
        ["项目", "评价"],
    ]
    for i, item in enumerate(FORM_ITEMS):
        boxes = " ".join(("☑" if j == i % 3 else "□") + o for j, o in enumerate(OPTIONS))
        rows.append([item, boxes])
    rows[-1][1] = "○非常满意 ●较满意 ○一般 ○不满意 ○非常不满意"
    run = score_files([str(workbook("inline.xlsx", rows))], rules)
    assert run.rejected == []
    [s] = run.scored
    # 25 + 18 + 16 + 15 + 9 + 3 + 4 (交付数量 較满意 by ●)
    assert (s.response.customer, s.total) == ("苏州某某有限公司", 90.0)


def test_v_marks_and_a_form_whose_marks_cannot_be_seen(
    rules: Rules, workbook: Callable[..., Path]
) -> None:
    def form(customer: str, mark: str | None) -> list[list[object]]:
        rows: list[list[object]] = [["客户名称", customer], ["填表日期", "2024-06-12"]]
        rows.append(["项目", *OPTIONS])
        for item in FORM_ITEMS:
            rows.append([item, mark, None, None, None, None])
        return rows

    ticked = score_files([str(workbook("v.xlsx", form("东莞X", "V")))], rules)
    assert [s.total for s in ticked.scored] == [100.0]
    invisible = score_files([str(workbook("shapes.xlsx", form("东莞Y", None)))], rules)
    [rej] = invisible.rejected
    assert invisible.scored == [] and "no mark could be read" in rej.reason
    assert "fill colour" in rej.reason


def test_a_printed_options_column_beside_the_answer_is_not_the_answer(
    rules: Rules, workbook: Callable[..., Path]
) -> None:
    rows: list[list[object]] = [
        ["客户名称：", "深圳Z"],
        ["日期：", "2024/6/12"],
        ["项目", "选项", ""],
    ]
    for i, item in enumerate(FORM_ITEMS):
        rows.append([item, "/".join(OPTIONS), OPTIONS[i % 2]])
    [s] = score_files([str(workbook("printed.xlsx", rows))], rules).scored
    assert s.total == 95.0  # 25 + 18 + 20 + 13 + 10 + 4 + 5


def test_a_recommend_question_is_read_beside_the_score_never_into_it(
    rules: Rules, workbook: Callable[..., Path]
) -> None:
    head = ["Company", "Completion time", "Product quality", "RoHS", "Service", "Delivery date",
            "How likely are you to recommend our service to a colleague?"]  # fmt: skip
    path = workbook(
        "nps.xlsx",
        [
            head,
            ["Acme", "2024-06-12", 5, 5, 5, 5, 9],
            ["Beta", "2024-06-12", 5, 5, 5, 5, 11],
        ],
    )
    run = score_files([str(path)], rules)
    [acme] = run.scored
    assert acme.response.recommend == 9 and acme.total == 100.0
    [rej] = run.rejected
    assert rej.cell == "G3" and "0-10" in rej.reason


def test_the_recommend_answers_reach_the_report_as_nps(
    rules: Rules, workbook: Callable[..., Path], tmp_path: Path
) -> None:
    head = [
        "客户名称",
        "日期",
        "产品质量",
        "RoHS情况",
        "服务情况",
        "改善情况",
        "您向朋友推荐我司的意愿(0-10)",
    ]
    rows: list[list[object]] = [head]
    answers = [10, 9, 9, 8, 7, 6, 3, 10, 9, 2]  # 5 promoters, 3 detractors: NPS +20
    rows += [[f"客户{i}", "2024-06-12", 5, 5, 5, 5, a] for i, a in enumerate(answers)]
    path = workbook("nps.xlsx", rows)
    db = tmp_path / "h.db"
    runner = CliRunner()
    scored = runner.invoke(app, ["score", str(path), "--db", str(db)])
    assert scored.exit_code == 0, scored.output
    report = runner.invoke(
        app,
        [
            "report",
            "--period",
            "2024H1",
            "--db",
            str(db),
            "--out",
            str(tmp_path / "r"),
            "--date",
            "2024-07-15",
            "--json",
        ],  # fmt: skip
    )
    assert report.exit_code == 0, report.output
    nps = json.loads(report.stdout)["statistics"]["nps"]
    assert nps["n"] == 10 and round(nps["value"]) == 20


def test_a_form_whose_level_headers_fit_two_scales_is_refused_not_guessed(
    rules: Rules, workbook: Callable[..., Path]
) -> None:
    """满意 between 非常满意 and 不满意 alone is the middle on one scale, the second best on
    another: which column the customer meant cannot be told."""
    rows: list[list[object]] = [["客户名称", "某公司"], ["填表日期", "2024-06-12"]]
    rows.append(["项目", "非常满意", "满意", "不满意"])
    for item in FORM_ITEMS:
        rows.append([item, None, "√", None])
    path = workbook("amb.xlsx", rows)
    run = score_files([str(path)], rules)
    [rej] = run.rejected
    assert run.scored == [] and "--scale" in rej.reason and "满意" in rej.reason
    pinned = score_files([str(path)], rules, scale="platform")
    assert [s.total for s in pinned.scored] == [86.0]  # every item 较满意 (satisfied)


def test_a_second_column_for_the_same_item_is_said_not_dropped_silently(
    rules: Rules, workbook: Callable[..., Path]
) -> None:
    head = [
        "客户名称",
        "日期",
        "产品质量",
        "RoHS情况",
        "服务情况",
        "改善情况",
        "8、您对我司产品质量有何建议？",
    ]
    path = workbook("dup.xlsx", [head, ["甲", "2024-06-12", 5, 5, 5, 5, "请改进包装"]])
    run = score_files([str(path)], rules)
    assert run.rejected == [] and run.scored[0].total == 100.0
    [notice] = [n for n in run.notices if n.cell == "G1"]
    assert "only the first, C1, is read" in notice.message
