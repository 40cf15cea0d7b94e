"""The columnar hot path of tables (issue 12) against the general path: the same replies,
rejections, notices and `--json` bytes, row for row, on tables full of the odd cases."""

from __future__ import annotations

import io
import pickle
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import orjson
import pytest

from csat import parse_period
from csat.cli.score import _write_json
from csat.config import Rules
from csat.intake import InputFile
from csat.intake.read import read_file
from csat.models import Levels, Notice, Response, RowCells, ScoredResponse, Source
from csat.scoring import Scorer

TODAY = date(2024, 12, 1)
ITEMS = ["产品质量", "RoHS情况", "服务情况", "改善情况", "包装运输", "交付日期", "交付数量"]
VS, S, N, D, VD = "非常满意", "较满意", "一般", "不满意", "非常不满意"
ALL_VS = [VS] * 7


def _rows() -> list[list[Any]]:
    """序号, 客户名称, 客户编号, 回复日期, the items, 其它评价, 推荐意愿."""
    long_name = "长" * 600
    rows: list[list[Any]] = [
        [1, "深圳华强电子有限公司", "C001", date(2024, 3, 1), *ALL_VS, "服务很好", 9],
        [2, "东莞精密模具有限公司", "C002", date(2024, 3, 1), 5, 4, S, N, 3, D, VD, None, 10],
        [3, "深圳华强电子有限公司", "C001", date(2024, 5, 6), *ALL_VS, "服务很好", None],
        [4, "  苏州新材料有限公司 ", None, datetime(2024, 3, 2, 10, 30), VS, None, S, *[S] * 4],
        [5, "杭州电器有限公司", "C005", "2024/6/12", "很好吧", *[S] * 6, None, None],
        [6, "宁波包装有限公司", "C006", "2024年6月12日", *[N] * 7, "(空)", "10分"],
        [7, "无锡电子有限公司", 1007, "20240612", *[D] * 7, "无", 11],
        [8, "常州机械有限公司", "C008", 20240612, *[VD] * 7, 123, 9.5],
        [9, "南京贸易有限公司", "C009", 45400, *ALL_VS, None, None],
        [10, "合肥电子有限公司", "C010", "12/06/2024", *ALL_VS, None, None],
        [11, "武汉光电有限公司", "C011", "2024-13-45", *ALL_VS, None, None],
        [12, "成都精工有限公司", "C012", date(2019, 1, 1), *ALL_VS, None, None],
        [13, "重庆汽配有限公司", "C013", None, *ALL_VS, None, None],
        [14, None, "C014", date(2024, 3, 1), *ALL_VS, None, None],
        [15, 12345, "C015", date(2024, 3, 1), *ALL_VS, None, None],
        [16, long_name, "C016", date(2024, 3, 1), *ALL_VS, None, None],
        [17, "长沙电子有限公司", "C017", date(2024, 3, 1), *ALL_VS, "好" * 33_000, None],
        [18, "西安电子有限公司", "C018", date(2024, 3, 1), *[None] * 7, "只写了意见", None],
        [19, "郑州电子有限公司", "C019", date(2024, 3, 1), VS, None, None, None, S, S, S],
        [20, "济南电子有限公司", "C020", date(2024, 4, 1), 5, 5, 5, 5, 5, 5, 5, None, 0],
        [],
        ["合计", None, None, None, *[4.5] * 7],
        [21, "东莞精密模具有限公司", "C002", date(2024, 6, 30), 5, 4, S, N, 3, D, VD, None, 8],
    ]
    return rows


def _table(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "2024上半年"
    ws.append(["顾客满意度调查统计表"])
    ws.append(["序号", "客户名称", "客户编号", "回复日期", *ITEMS, "其它评价", "推荐意愿"])
    for row in _rows():
        ws.append(row)
    plain = wb.create_sheet("简表")  # no code, date or comment column; text dates
    plain.append(["客户名称", *ITEMS])
    plain.append(["甲公司", *ALL_VS])
    plain.append(["乙公司", *[S] * 7])
    plain.append(["甲公司", *ALL_VS])
    mixed = wb.create_sheet("勾选")  # a column of booleans: read cell by cell
    mixed.append(["客户名称", "回复日期", *ITEMS])
    mixed.append(["丙公司", "2024-05-01", True, *[S] * 6])
    mixed.append(["丁公司", "2024-05-02", *[S] * 7])
    wb.save(path)
    return path


def _csv(path: Path) -> Path:
    """A text table: every cell text, a comment longer than a cell holds."""
    lines = ["客户名称,回复日期," + ",".join(ITEMS) + ",其它评价"]
    lines.append("甲公司,2024-05-01," + ",".join(ALL_VS) + "," + "好" * 33_000)
    lines.append("乙公司,2024/5/2," + ",".join([S] * 7) + ",无")
    lines.append("丙公司,2024.5.3," + ",".join(["5"] * 7) + ",")
    lines.append("甲公司,45400," + ",".join([N] * 7) + ",(空)")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _outcomes(path: Path, rules: Rules, period: str | None, columnar: bool) -> list[Any]:
    item = InputFile(path, path.name)
    p = parse_period(period) if period else None
    return list(read_file(item, rules, p, today=TODAY, columnar=columnar))


def _document(outcomes: list[Any], rules: Rules, period: str | None) -> str:
    scorer = Scorer(rules)
    scored = [scorer.score(o) if isinstance(o, Response) else o for o in outcomes]
    out = io.StringIO()
    _write_json(out, period, iter(scored))
    return out.getvalue()


@pytest.mark.parametrize("period", [None, "2024H1"])
def test_the_columnar_path_reads_a_text_table_as_the_general_path_does(
    tmp_path: Path, rules: Rules, period: str | None
) -> None:
    path = _csv(tmp_path / "returns.csv")
    fast = _outcomes(path, rules, period, columnar=True)
    assert fast == _outcomes(path, rules, period, columnar=False)
    assert any(isinstance(o, Notice) and "cut to 32,767" in o.message for o in fast)
    assert sum(isinstance(o, Response) for o in fast) >= 3
    assert _document(fast, rules, period) == _document(
        _outcomes(path, rules, period, columnar=False), rules, period
    )


@pytest.mark.parametrize("period", [None, "2024H1"])
def test_the_columnar_path_reads_a_table_as_the_general_path_does(
    tmp_path: Path, rules: Rules, period: str | None
) -> None:
    path = _table(tmp_path / "returns.xlsx")
    fast = _outcomes(path, rules, period, columnar=True)
    general = _outcomes(path, rules, period, columnar=False)
    assert fast == general
    # the cases are there: replies, refused cells, bad dates, long comments, duplicates
    kinds = {type(o).__name__ for o in fast}
    assert kinds == {"Response", "Rejection", "Notice"}
    responses = [o for o in fast if isinstance(o, Response)]
    assert len(responses) >= 12
    assert any(isinstance(r.ratings, Levels) for r in responses)
    assert any(isinstance(r.cells, RowCells) for r in responses)
    for f, g in zip(fast, general, strict=True):
        if isinstance(f, Response):
            assert dict(f.cells) == g.cells and f.span == g.span
    assert _document(fast, rules, period) == _document(general, rules, period)


def test_the_json_of_a_shared_combination_is_each_replys_own(tmp_path: Path, rules: Rules) -> None:
    """Replies sharing one Levels are scored once, each entry still naming its own reply."""
    path = _table(tmp_path / "returns.xlsx")
    outcomes = _outcomes(path, rules, None, columnar=True)
    scorer = Scorer(rules)
    scored = [scorer.score(o) for o in outcomes if isinstance(o, Response)]
    entries = [s for s in scored if isinstance(s, ScoredResponse)]
    assert len({id(s.response.ratings) for s in entries}) < len(entries)  # some share
    for s in entries:
        assert s.json_bytes() == orjson.dumps(s.as_json())
        again = Scorer(rules).score(s.response)
        assert isinstance(again, ScoredResponse)
        assert (again.total, again.grade, again.flags) == (s.total, s.grade, s.flags)


def test_shared_ratings_and_lazy_cells_behave_as_the_plain_ones(rules: Rules) -> None:
    levels = Levels({"quality": "very_satisfied", "rohs": None})
    Scorer(rules).score(
        Response("甲", None, None, "2024H1", levels, None, Source("f.xlsx", "S", 3))
    )
    assert levels.scored is not None
    back = pickle.loads(pickle.dumps(levels))  # to and from --jobs workers: no Scorer along
    assert back == levels and isinstance(back, Levels) and back.scored is None
    cells = RowCells({"quality": "E", "rohs": "F"}, "12")
    assert cells == {"quality": "E12", "rohs": "F12"}
    assert {"quality": "E12", "rohs": "F12"} == cells
    assert cells.get("rohs") == "F12" and cells.get("service") is None
    assert pickle.loads(pickle.dumps(cells)) == cells
    assert repr(cells) == repr({"quality": "E12", "rohs": "F12"})


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_json_written_to_a_byte_stream_is_the_text_written_to_a_text_stream(
    tmp_path: Path, rules: Rules, encoding: str
) -> None:
    """Under a UTF-8 stdout the entries go to its byte layer as they are; other encodings
    get them through the text layer. Either way the document is the same text."""
    outcomes = _outcomes(_table(tmp_path / "returns.xlsx"), rules, "2024H1", columnar=True)
    text = _document(outcomes, rules, "2024H1")
    scorer = Scorer(rules)
    scored = [scorer.score(o) if isinstance(o, Response) else o for o in outcomes]
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding=encoding, newline="")
    _write_json(stream, "2024H1", iter(scored))
    assert raw.getvalue().decode(encoding) == text
    assert orjson.loads(text)["summary"]["scored"] >= 12
