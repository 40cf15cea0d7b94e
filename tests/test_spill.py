"""A report's flag and comment rows wait in a temporary file: they come back whole, in order."""

from __future__ import annotations

from csat.comments import TaggedComment
from csat.models import Flag
from csat.render.workbook import FlaggedReply
from csat.spill import BLOCK, Spill


def test_items_come_back_in_order_however_many() -> None:
    for n in (0, 1, BLOCK - 1, BLOCK, 3 * BLOCK + 7):
        spill: Spill[int] = Spill()
        for i in range(n):
            spill.append(i)
        assert len(spill) == n and bool(spill) == (n > 0)
        assert list(spill) == list(range(n))
        assert list(spill) == list(range(n))  # again
        spill.append(-1)  # appending after reading
        assert list(spill)[-2:] == ([n - 1, -1] if n else [-1])
        spill.close()


def test_report_rows_survive_the_file() -> None:
    flag = Flag("dissatisfied_item", "service", "dissatisfied")
    reply = FlaggedReply(
        "k", "客户 & Co", None, "2024H1", (flag, Flag("low_score", total=40.0)), "差"
    )
    comment = TaggedComment("客户", "C1", "2024H1", 40.0, "E", "=HYPERLINK(x)", ("service",), ())
    replies, comments = Spill([reply] * (BLOCK + 1)), Spill([comment] * (BLOCK + 1))
    assert list(replies) == [reply] * (BLOCK + 1)
    assert list(comments) == [comment] * (BLOCK + 1)
    assert reply in replies
