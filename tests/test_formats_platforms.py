"""FORMATS.md §2: survey-platform exports, one reply per row, read exactly as a careful person
would score them by hand from SPEC §2's points table.

Points (very_satisfied / satisfied / neutral / dissatisfied / very_dissatisfied):
quality 25/20/16/10/5, rohs 20/18/16/10/4, service 20/18/16/12/6, improvement 15/13/11/8/4,
packaging 10/9/8/6/3, delivery_date 5/4/3/2/1, delivery_quantity 5/4/3/2/1.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from formats_builders import (
    EN_QUALITY,
    EN_SATISFACTION,
    ITEMS_EN,
    ITEMS_HANT,
    ITEMS_ZH,
    PLATFORM,
    PLATFORM_HANT,
    WJX_REPLIES,
    by_customer,
    levels,
    names_scale,
    notices,
    rules_with,
    save,
    scale_entry,
    scale_name,
    wjx_text_export,
)

from csat import parse_period, score_files
from csat.config import Rules

H1 = parse_period("2024H1")
VS, S, N, D, VD = "very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied"

# ------------------------------------------------------------------------ 问卷星 (wjx.cn)


def _check_wjx_scores(run: Any, path: Path) -> None:
    assert run.rejected == []
    got = by_customer(run)
    # Never the IP, time or duration as customer: exactly the 单位名称/公司名称 answers.
    assert sorted(got) == sorted(r["customer"] for r in WJX_REPLIES)

    a = got["深圳市华强电子有限公司"]
    assert levels(a) == [VS, S, S, N, VS, S, D]
    # 25 + 18 + 18 + 11 + 10 + 4 + 2 = 88 -> B; 不满意 on 交付数量 is flagged
    assert (a.total, a.grade, a.complete) == (88.0, "B", True)
    assert [(f.type, f.item) for f in a.flags] == [("dissatisfied_item", "delivery_quantity")]
    assert a.response.date == date(2024, 6, 17) and a.response.period == "2024H1"
    assert a.response.comments is None  # (空) is an empty text answer

    b = got["东莞精密模具有限公司"]
    assert levels(b) == [S, None, VS, S, S, N, S]  # (跳过) is unanswered
    # answered: 20 + 20 + 13 + 9 + 3 + 4 = 69 of weight 80 -> 100 * 69 / 80 = 86.25 -> 86.3
    assert (b.total, b.grade, b.complete) == (86.3, "B", False)
    assert b.response.date == date(2024, 7, 2) and b.response.period == "2024H2"

    c = got["苏州科创电子科技有限公司"]
    assert (c.total, c.grade, c.response.comments) == (100.0, "A", "交期需要改善")

    sheet = notices(run, "Sheet1")
    # The scale chosen is reported, and no item column went missing.
    assert any(names_scale(n.message, scale_name(PLATFORM)) for n in sheet), sheet
    assert not any("no column" in n.message for n in sheet), sheet
    assert all(n.file == str(path) for n in sheet)


@pytest.mark.parametrize(
    ("matrix", "customer_header"),
    [(False, "1、单位名称(填空题 *必答)"), (True, "公司名称"), (True, "1、单位名称：")],
    ids=["questions", "matrix", "matrix-colon"],
)
def test_wjx_text_export(rules: Rules, tmp_path: Path, matrix: bool, customer_header: str) -> None:
    """Metadata columns first (序号 … 来自IP, 总分), `N、question(单选题 *必答)` headers or one
    matrix whose first column is `N、题干(矩阵单选题 *必答)—产品质量` and the rest bare row
    labels; the platforms' default scale; (跳过) unanswered; (空) empty text."""
    rows = wjx_text_export(WJX_REPLIES, customer_header=customer_header, matrix=matrix)
    path = save(tmp_path / "wjx.xlsx", {"Sheet1": rows})
    _check_wjx_scores(score_files([str(path)], rules), path)


def test_wjx_matrix_first_row_is_not_lost(rules: Rules, tmp_path: Path) -> None:
    """The issue's silent loss: 产品质量 under `N、题干(矩阵单选题 *必答)—产品质量` must be read,
    not dropped and the customer rescaled."""
    rows = wjx_text_export(WJX_REPLIES[:1], matrix=True)
    path = save(tmp_path / "wjx-matrix.xlsx", {"Sheet1": rows})
    [a] = score_files([str(path)], rules).scored
    assert a.items["quality"].level == VS and a.items["quality"].points == 25.0
    assert a.complete and a.total == 88.0


def test_wjx_without_a_customer_column_never_takes_ip_or_time(rules: Rules, tmp_path: Path) -> None:
    rows = wjx_text_export(WJX_REPLIES, customer_header=None)
    path = save(tmp_path / "wjx-anon.xlsx", {"Sheet1": rows})
    run = score_files([str(path)], rules)
    assert run.scored == []
    assert run.rejected and all("customer" in r.reason for r in run.rejected), run.rejected
    assert all(r.file == str(path) and r.sheet in ("Sheet1", None) for r in run.rejected)


def _wjx_positions(replies: list[list[Any]]) -> Rows:
    """A 按选项序号 download: each answer is the option's position (1 = 非常满意, the first
    option listed), -3 for a skipped question."""
    return wjx_text_export(
        [{"customer": f"客户{i + 1}", "ratings": r} for i, r in enumerate(replies)]
    )


Rows = list[list[Any]]


def test_wjx_option_positions_read_as_levels_unless_pinned(rules: Rules, tmp_path: Path) -> None:
    """SPEC §2: plain numbers 1-5 are level numbers on every scale, so an unpinned 按选项序号
    file reads 1 as level 1 (nothing in the file says otherwise), and the scale notice says
    that numbers were read as levels; -3, 问卷星's skip marker, is unanswered."""
    rows = _wjx_positions([[1, 2, 2, 3, 1, 2, 4], [2, -3, 1, 2, 2, 3, 2]])
    path = save(tmp_path / "wjx-positions.xlsx", {"Sheet1": rows})
    run = score_files([str(path)], rules)
    assert run.rejected == []
    first, second = run.scored
    assert levels(first) == [VD, D, D, N, VD, D, S]
    # read as level numbers: 5 + 10 + 12 + 11 + 3 + 2 + 4 = 47
    assert first.total == 47.0
    assert levels(second) == [D, None, VD, D, D, N, D]
    # 10 + 6 + 8 + 6 + 3 + 2 = 35 of weight 80 -> 43.75 -> 43.8
    assert (second.total, second.complete) == (43.8, False)
    assert any("level" in m.message for m in notices(run, "Sheet1"))


def test_wjx_option_positions_with_a_pinned_position_scale(rules: Rules, tmp_path: Path) -> None:
    """SPEC §3: a pinned scale may say that plain numbers are option positions. Assumed YAML:
    a scale entry with `numbers: position` (1 = its first, best, option), pinned by `scale:`;
    -3, 问卷星's skip in that download, is unanswered."""
    positions = dict(scale_entry(PLATFORM))
    positions["numbers"] = "position"
    pinned = rules_with(tmp_path, extra_scales={"wjx_positions": positions}, scale="wjx_positions")
    rows = _wjx_positions([[1, 2, 2, 3, 1, 2, 4], [2, -3, 1, 2, 2, 3, 2]])
    path = save(tmp_path / "wjx-positions.xlsx", {"Sheet1": rows})
    run = score_files([str(path)], pinned)
    assert run.rejected == []
    first, second = run.scored
    assert levels(first) == [VS, S, S, N, VS, S, D]
    # 25 + 18 + 18 + 11 + 10 + 4 + 2 = 88
    assert first.total == 88.0
    assert levels(second) == [S, None, VS, S, S, N, S]
    # 20 + 20 + 13 + 9 + 3 + 4 = 69 of weight 80 -> 86.25 -> 86.3
    assert (second.total, second.complete) == (86.3, False)
    assert rules.items  # the default rules are untouched


# ------------------------------------------------------------------------ Google Forms


def test_google_forms_grid(rules: Rules, tmp_path: Path) -> None:
    """Timestamp and Email Address first; a grid is one column per row, headed
    `Question [Row label]`; linear-scale answers are numbers (levels on every scale)."""
    header = [
        "Timestamp",
        "Email Address",
        "Company name",
        *[f"Please rate us [{item}]" for item in ITEMS_EN],
        "Other comments",
    ]
    vs, s, n, d = EN_SATISFACTION[:4]
    rows: list[list[Any]] = [
        header,
        [datetime(2024, 6, 12, 14, 3, 11), "buyer@acme.example", "ACME Ltd.",
         vs, s, s, s, vs, n, s, "Fast delivery"],
        ["2024/6/20 9:15:02", "qa@nordlicht.example", "Nordlicht GmbH",
         s, vs, d, s, s, s, vs, None],
        [datetime(2024, 6, 21, 8, 0, 0), "x@tianyi.example", "Tianyi Co.",
         5, 4, 4, 4, 5, 3, 4, None],
    ]  # fmt: skip
    path = save(tmp_path / "google.xlsx", {"Form Responses 1": rows})
    run = score_files([str(path)], rules)
    assert run.rejected == []
    got = by_customer(run)
    assert sorted(got) == ["ACME Ltd.", "Nordlicht GmbH", "Tianyi Co."]  # never the e-mail
    acme = got["ACME Ltd."]
    # 25 + 18 + 18 + 13 + 10 + 3 + 4 = 91 -> B
    assert (acme.total, acme.grade, acme.response.comments) == (91.0, "B", "Fast delivery")
    assert acme.response.date == date(2024, 6, 12) and acme.response.period == "2024H1"
    nord = got["Nordlicht GmbH"]
    # 20 + 20 + 12 + 13 + 9 + 4 + 5 = 83 -> B, Dissatisfied on service flagged
    assert (nord.total, nord.grade) == (83.0, "B")
    assert [(f.type, f.item) for f in nord.flags] == [("dissatisfied_item", "service")]
    assert nord.response.date == date(2024, 6, 20)
    # linear scale 5 4 4 4 5 3 4: the same levels as ACME's words -> 91
    assert got["Tianyi Co."].total == 91.0


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2024-06-12 14:03:11", date(2024, 6, 12)),
        ("2024/6/12 14:03:11", date(2024, 6, 12)),
        ("2024/6/12 下午2:03:11", date(2024, 6, 12)),  # a zh-CN owner's sheet
        ("June 12, 2024", date(2024, 6, 12)),
        ("12 June 2024", date(2024, 6, 12)),
    ],
)
def test_google_forms_locale_timestamps(
    rules: Rules, tmp_path: Path, stamp: str, expected: date
) -> None:
    """Timestamps follow the form owner's locale; every unambiguous one gives the period."""
    rows = [
        ["Timestamp", "Email Address", "Company", *[f"Rate us [{i}]" for i in ITEMS_EN]],
        [stamp, "a@b.example", "ACME Ltd.", *([EN_SATISFACTION[0]] * 7)],
    ]
    path = save(tmp_path / "g.xlsx", {"Form Responses 1": rows})
    [got] = score_files([str(path)], rules).scored
    assert (got.response.date, got.response.period, got.total) == (expected, "2024H1", 100.0)


def test_google_forms_day_month_timestamp_needs_a_period(rules: Rules, tmp_path: Path) -> None:
    """An en-GB owner's `12/06/2024 14:03:11` is 6 December to a US reader: without --period
    the reply is refused naming the cell; with --period it is kept and a notice says so."""
    rows = [
        ["Timestamp", "Email Address", "Company", *[f"Rate us [{i}]" for i in ITEMS_EN]],
        ["12/06/2024 14:03:11", "a@b.example", "ACME Ltd.", *([EN_SATISFACTION[0]] * 7)],
    ]
    path = save(tmp_path / "g.xlsx", {"Form Responses 1": rows})
    run = score_files([str(path)], rules)
    assert run.scored == []
    [rej] = run.rejected
    assert (rej.sheet, rej.cell) == ("Form Responses 1", "A2") and "12/06/2024" in rej.reason
    run = score_files([str(path)], rules, H1)
    assert [(s.response.customer, s.total) for s in run.scored] == [("ACME Ltd.", 100.0)]
    assert any(
        n.cell == "A2" and "12/06/2024" in n.message for n in notices(run, "Form Responses 1")
    )


# ------------------------------------------------------------------------ Microsoft Forms

MS_EN = ["ID", "Start time", "Completion time", "Email", "Name", "Last modified time"]
MS_ZH = ["ID", "开始时间", "完成时间", "电子邮件", "姓名", "上次修改时间"]


def _ms_forms(meta: list[str], company: str | None, items: list[str], words: list[str]) -> Rows:
    vs, s, n, d = words[:4]
    header = [*meta, *([company] if company else []), *items]
    header.append("How likely are you to recommend us to a friend or colleague?")
    start, done = datetime(2024, 6, 12, 9, 0, 5), datetime(2024, 6, 12, 9, 4, 40)
    rows: Rows = [header]
    replies: list[tuple[str, str, list[Any], int]] = [
        ("Li Wei", "Shenzhen Huaqiang Electronics", [vs] * 7, 10),
        # a Rating question exports 1-5: the 4 is `satisfied`
        ("Anna Schmidt", "Nordlicht GmbH", [s, s, n, s, vs, d, 4], 3),
    ]
    for i, (person, firm, ratings, nps) in enumerate(replies):
        row: list[Any] = [i + 1, start, done, f"p{i}@example.com", person, done]
        rows.append([*row, *([firm] if company else []), *ratings, nps])
    return rows


@pytest.mark.parametrize(
    ("meta", "company", "items", "words"),
    [
        (MS_EN, "Company", ITEMS_EN, EN_SATISFACTION),
        (MS_ZH, "公司名称", ITEMS_ZH, PLATFORM),
    ],
    ids=["en", "zh"],
)
def test_microsoft_forms(
    rules: Rules, tmp_path: Path, meta: list[str], company: str, items: list[str],
    words: list[str],
) -> None:  # fmt: skip
    """ID, Start time, Completion time, Email, Name (the person), a Company column; Likert
    columns headed by the statement only; an NPS 0-10 column is not an item."""
    path = save(tmp_path / "msforms.xlsx", {"Sheet1": _ms_forms(meta, company, items, words)})
    run = score_files([str(path)], rules)
    assert run.rejected == []
    got = by_customer(run)
    assert sorted(got) == ["Nordlicht GmbH", "Shenzhen Huaqiang Electronics"]  # not Name
    assert got["Shenzhen Huaqiang Electronics"].total == 100.0  # NPS 10 is not an item
    nord = got["Nordlicht GmbH"]
    assert levels(nord) == [S, S, N, S, VS, D, S]
    # 20 + 18 + 16 + 13 + 10 + 2 + 4 = 83 -> B; the NPS 3 beside it changes nothing
    assert (nord.total, nord.grade, nord.complete) == (83.0, "B", True)
    assert nord.response.date == date(2024, 6, 12) and nord.response.period == "2024H1"


@pytest.mark.parametrize(
    ("meta", "items"), [(MS_EN, ITEMS_EN), (MS_ZH, ITEMS_ZH)], ids=["en", "zh"]
)
def test_microsoft_forms_name_is_not_the_customer(
    rules: Rules, tmp_path: Path, meta: list[str], items: list[str]
) -> None:
    path = save(tmp_path / "ms.xlsx", {"Sheet1": _ms_forms(meta, None, items, EN_SATISFACTION)})
    run = score_files([str(path)], rules)
    assert run.scored == []  # never "Li Wei" or an e-mail as the customer
    assert run.rejected and all("customer" in r.reason for r in run.rejected), run.rejected


# ------------------------------------------------------------------------ Qualtrics


def test_qualtrics_three_header_rows(rules: Rules, tmp_path: Path) -> None:
    """Row 1 export tags, row 2 question text (`Question - Row label`), row 3 import ids."""
    meta = [
        ("StartDate", "Start Date", '{"ImportId":"startDate","timeZone":"America/Denver"}'),
        ("EndDate", "End Date", '{"ImportId":"endDate","timeZone":"America/Denver"}'),
        ("Status", "Response Type", '{"ImportId":"status"}'),
        ("IPAddress", "IP Address", '{"ImportId":"ipAddress"}'),
        ("Progress", "Progress", '{"ImportId":"progress"}'),
        ("Duration (in seconds)", "Duration (in seconds)", '{"ImportId":"duration"}'),
        ("Finished", "Finished", '{"ImportId":"finished"}'),
        ("RecordedDate", "Recorded Date", '{"ImportId":"recordedDate"}'),
        ("ResponseId", "Response ID", '{"ImportId":"_recordId"}'),
        ("RecipientLastName", "Recipient Last Name", '{"ImportId":"recipientLastName"}'),
        ("RecipientFirstName", "Recipient First Name", '{"ImportId":"recipientFirstName"}'),
        ("RecipientEmail", "Recipient Email", '{"ImportId":"recipientEmail"}'),
        ("Q1", "Company name", '{"ImportId":"QID1_TEXT"}'),
    ]
    stem = "How satisfied are you with our performance in the following areas?"
    for i, item in enumerate(ITEMS_EN):
        meta.append((f"Q2_{i + 1}", f"{stem} - {item}", f'{{"ImportId":"QID2_{i + 1}"}}'))
    meta.append(("Q3", "Other comments", '{"ImportId":"QID3_TEXT"}'))
    tags, texts, ids = (list(t) for t in zip(*meta, strict=True))
    ex, vg, good, fair = EN_QUALITY[:4]

    def reply(last: str, first: str, firm: str, ratings: list[Any], comment: Any) -> list[Any]:
        return [
            "2024-06-12 09:01:02", "2024-06-12 09:05:40", "IP Address", "1.2.3.4", 100, 278,
            "True", "2024-06-12 09:05:41", "R_1abcDEF", last, first, f"{first}@x.example",
            firm, *ratings, comment,
        ]  # fmt: skip

    rows = [
        tags,
        texts,
        ids,
        reply("Wang", "Fang", "Huaqiang Electronics", [ex, vg, vg, good, ex, vg, fair], None),
        reply("Berg", "Jonas", "Nordlicht GmbH", [vg] * 7, "ok"),
    ]
    path = save(tmp_path / "qualtrics.xlsx", {"Sheet0": rows})
    run = score_files([str(path)], rules, H1)
    assert run.rejected == []
    got = by_customer(run)
    assert sorted(got) == ["Huaqiang Electronics", "Nordlicht GmbH"]
    hq = got["Huaqiang Electronics"]
    # English quality scale (Excellent and Fair seen): Excellent 5, Very good 4, Good 3, Fair 2
    assert levels(hq) == [VS, S, S, N, VS, S, D]
    # 25 + 18 + 18 + 11 + 10 + 4 + 2 = 88
    assert (hq.total, hq.grade) == (88.0, "B")
    assert hq.response.source.row == 4  # the first reply sits under three header rows
    # Very good everywhere is `satisfied` on this sheet: 20+18+18+13+9+4+4 = 86 -> B
    assert (got["Nordlicht GmbH"].total, got["Nordlicht GmbH"].response.comments) == (86.0, "ok")


# ------------------------------------------------------------------------ SurveyMonkey


@pytest.mark.parametrize("merged", [False, True], ids=["empty-cells", "merged"])
def test_surveymonkey_two_header_rows(rules: Rules, tmp_path: Path, merged: bool) -> None:
    """Row 1: metadata names and question texts, a matrix's text spanning empty cells to its
    right; row 2: Response / Open-Ended Response / the matrix row labels."""
    meta = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address",
            "Email Address", "First Name", "Last Name", "Custom Data 1"]  # fmt: skip
    row1 = [*meta, "Company name", "How satisfied are you with us?", *[None] * 6, "Other comments"]
    row2 = [*[None] * len(meta), "Open-Ended Response", *ITEMS_EN, "Open-Ended Response"]
    vg, good, avg, poor = ["Very good", "Good", "Average", "Poor"]

    def reply(rid: int, firm: str, ratings: list[str]) -> list[Any]:
        return [
            rid, 4321, "06/12/2024 09:01:02 AM", "06/12/2024 09:06:40 AM", "1.2.3.4",
            "a@b.example", "Jonas", "Berg", None, firm, *ratings, None,
        ]  # fmt: skip

    rows = [
        row1,
        row2,
        reply(11, "Huaqiang Electronics", [vg, good, good, avg, vg, good, poor]),
        reply(12, "Nordlicht GmbH", [good] * 7),
    ]
    # A-I metadata, J company, K-Q the matrix (its text in K1), R comments
    merges = {"Sheet": ["K1:Q1"]} if merged else None
    path = save(tmp_path / "monkey.xlsx", {"Sheet": rows}, merges=merges)
    run = score_files([str(path)], rules, H1)
    assert run.rejected == []
    got = by_customer(run)
    assert sorted(got) == ["Huaqiang Electronics", "Nordlicht GmbH"]
    # Very good/Good/Average/Poor scale (Average seen): Very good 5, Good 4, Average 3, Poor 2
    assert levels(got["Huaqiang Electronics"]) == [VS, S, S, N, VS, S, D]
    # 25 + 18 + 18 + 11 + 10 + 4 + 2 = 88
    assert got["Huaqiang Electronics"].total == 88.0
    # Good everywhere: 20 + 18 + 18 + 13 + 9 + 4 + 4 = 86
    assert got["Nordlicht GmbH"].total == 86.0


# ------------------------------------------------------------------------ LimeSurvey


@pytest.mark.parametrize(
    ("company", "stem", "items", "words", "comments"),
    [
        ("公司名稱", "您對以下方面的滿意度", ITEMS_HANT, PLATFORM_HANT, "其他意見"),
        (
            "Company name",
            "How satisfied are you with the following?",
            ITEMS_EN,
            EN_SATISFACTION,
            "Comments",
        ),
    ],  # fmt: skip
    ids=["zh-Hant", "en"],
)
def test_limesurvey_full_headings(
    rules: Rules, tmp_path: Path, company: str, stem: str, items: list[str],
    words: list[str], comments: str,
) -> None:  # fmt: skip
    """Full headings `Question text [Subquestion]`, answers as full text, metadata
    id/submitdate/lastpage/startlanguage/seed/startdate/datestamp."""
    vs, s, n, d = words[:4]
    header = ["id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp",
              company, *[f"{stem} [{i}]" for i in items], comments]  # fmt: skip
    stamp = "2024-06-12 10:11:12"
    rows: list[list[Any]] = [
        header,
        [7, stamp, 3, "zh-Hant", 123456, stamp, stamp, "華強電子", vs, s, s, n, vs, s, d, None],
        [8, stamp, 3, "zh-Hant", 654321, stamp, stamp, "北方精密", *[s] * 7, "好"],
    ]
    path = save(tmp_path / "lime.xlsx", {"results": rows})
    run = score_files([str(path)], rules)
    assert run.rejected == []
    got = by_customer(run)
    assert sorted(got) == sorted(["華強電子", "北方精密"])  # as written, not the id or seed
    first = got["華強電子"]
    assert levels(first) == [VS, S, S, N, VS, S, D]
    # 25 + 18 + 18 + 11 + 10 + 4 + 2 = 88
    assert first.total == 88.0
    assert first.response.date == date(2024, 6, 12) and first.response.period == "2024H1"
    # second-best everywhere: 20 + 18 + 18 + 13 + 9 + 4 + 4 = 86
    assert (got["北方精密"].total, got["北方精密"].response.comments) == (86.0, "好")


def test_surveymonkey_single_questions_with_response_row(rules: Rules, tmp_path: Path) -> None:
    """One question per item: row 2 holds `Response` under each (FORMATS §2), which is part of
    the header band, not a reply with the unknown rating 'Response'."""
    meta = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address",
            "Email Address", "First Name", "Last Name", "Custom Data 1"]  # fmt: skip
    row1 = [
        *meta,
        "Company name",
        *[f"How satisfied are you with our {i.lower()}?" for i in ITEMS_EN],
        "Other comments",
    ]
    row2 = [*[None] * len(meta), "Open-Ended Response", *["Response"] * 7, "Open-Ended Response"]
    vs, s, n, d = EN_SATISFACTION[:4]
    stamps = ["06/12/2024 09:01:02 AM", "06/12/2024 09:06:40 AM"]
    reply = [11, 4321, *stamps, "1.2.3.4", "a@b.example", "Jonas", "Berg", None, "ACME Ltd.",
             vs, s, s, n, vs, s, d, "ok"]  # fmt: skip
    path = save(tmp_path / "monkey.xlsx", {"Sheet": [row1, row2, reply]})
    run = score_files([str(path)], rules, H1)
    assert run.rejected == []
    [got] = run.scored
    # 25 + 18 + 18 + 11 + 10 + 4 + 2 = 88
    assert (got.response.customer, got.total, got.response.comments) == ("ACME Ltd.", 88.0, "ok")
    assert got.response.source.row == 3
