"""The table layout (SPEC §3): one reply per row under a header band.

Reading a table is two passes over the rows already in memory: the first classifies rows (reply,
blank, summary, sign-off), collects each item column's distinct values and settles the scale and
the value -> level map once; the second builds the replies with dict lookups only.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import islice
from operator import itemgetter
from typing import Any

from csat.config import Rules
from csat.intake.cells import as_text, is_blank
from csat.intake.grid import Sheet, cell_name, column_letter
from csat.intake.headers import HeaderMatch, HeaderMatcher, matcher_for
from csat.intake.raw import RawResponse
from csat.intake.scales import (
    BadRating,
    ScaleChoice,
    ValueMap,
    choose_scale,
    column_range,
    declared_numbers,
    header_range,
    other_range_reason,
    parse_text,
    rating_word,
)
from csat.models import Rejection, Source
from csat.text import normalize, normalize_label

HEADER_SEARCH_ROWS = 30
MAX_BAND_ROWS = 3
MIN_ITEMS = 2  # one item beside a customer label is a form's text, not a table
_SUMMARY = frozenset(
    "合计 总计 平均 平均分 平均值 小计 汇总 总平均 total totals average sum mean subtotal "
    "grand total".split()
    + ["grand total", "sub total"]
)
_SIGN_OFF = re.compile(
    r"^(制表|审核|批准|核准|编制|填表人|填表|注|备注|说明|note|notes|prepared by|checked by|"
    r"approved by|reviewed by)\s*[:：]?"
)
_IMPORT_ID = re.compile(r'^\{\s*"?importid"?\s*:')
# Cells of a platform's header row under the question texts (SurveyMonkey's row 2).
_BAND_WORDS = frozenset({"response", "open-ended response", "other (please specify)"})


@dataclass(frozen=True)
class Column:
    """One column of the header band and what it became (for `csat inspect`)."""

    index: int
    cell: str
    header: str
    match: HeaderMatch
    became: str  # item / field / ignored / duplicate / none


@dataclass(frozen=True)
class TableLayout:
    first_header_row: int  # indices into sheet.rows
    last_header_row: int
    columns: list[Column]
    fields: dict[str, int]
    items: dict[str, int]
    item_headers: dict[str, str]


def _band_columns(rows: list[list[Any]], width: int) -> list[tuple[str, ...]]:
    """Each column's header texts down the band, top row first. A merged or spanning cell
    holds its text in its first column only, and needs no more: the lowest text of a column
    (a matrix row label, the item under a merged 评价项目) is what decides it."""
    return [
        tuple(
            text
            for row in rows
            if c < len(row) and isinstance(row[c], str) and (text := row[c].strip())
        )
        for c in range(width)
    ]


def _looks_like_header_row(row: list[Any], rules: Rules) -> bool:
    """A row that can be a lower row of a header band: text only, and no rating words."""
    words = rules.any_level_word
    has_text = False
    for v in row:
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        if not isinstance(v, str):
            return False
        if normalize(v) in words or normalize(v) in rules.unanswered:
            return False
        has_text = True
    return has_text


def _layout(sheet: Sheet, top: int, height: int, matcher: HeaderMatcher) -> TableLayout | None:
    band = sheet.rows[top : top + height]
    width = max(len(r) for r in band)
    columns: list[Column] = []
    fields: dict[str, int] = {}
    items: dict[str, int] = {}
    item_headers: dict[str, str] = {}
    for c, parts in enumerate(_band_columns(band, width)):
        if not parts:
            continue
        got = matcher.band(parts)
        became = got.kind
        if got.kind == "field" and got.name is not None:
            if got.name in fields:
                became = "duplicate"
            else:
                fields[got.name] = c
        elif got.kind == "item" and got.name is not None:
            if got.name in items:
                became = "duplicate"
            else:
                items[got.name] = c
                item_headers[got.name] = " / ".join(parts)
        top_cell = next(
            (i for i in range(height) if c < len(band[i]) and not is_blank(band[i][c])), 0
        )
        columns.append(
            Column(
                c,
                cell_name(sheet.first_row + top + top_cell, sheet.first_col + c),
                " / ".join(parts),
                got,
                became,
            )
        )
    if "customer" not in fields or len(items) < MIN_ITEMS:
        return None
    return TableLayout(top, top + height - 1, columns, fields, items, item_headers)


def _may_be_header(names: list[tuple[bool, frozenset[str]]]) -> bool:
    """A band can be a header only when some cell of it names the customer and its cells
    name at least MIN_ITEMS items: each column's match is one of its cells' (issue 12: most
    bands tried are a form's lines, refused here before any column is built)."""
    if not any(customer for customer, _ in names):
        return False
    items = names[0][1].union(*(n for _, n in names[1:])) if len(names) > 1 else names[0][1]
    return len(items) >= MIN_ITEMS


def _some_band_may_be_header(names: list[tuple[bool, frozenset[str]]], searched: int) -> bool:
    """Whether any band the search tries (from one of the first `searched` rows, up to
    MAX_BAND_ROWS deep) passes `_may_be_header`: only the bands around a customer row."""
    for r, (customer, _) in enumerate(names):
        if not customer:
            continue
        for top in range(max(0, r - MAX_BAND_ROWS + 1), min(r, searched - 1) + 1):
            for height in range(r - top + 1, MAX_BAND_ROWS + 1):
                if top + height > len(names):
                    break
                if _may_be_header(names[top : top + height]):
                    return True
    return False


def find_table(sheet: Sheet, rules: Rules) -> TableLayout | None:
    """The header band: the first rows (of up to three) naming a customer column and items.
    A deeper band is taken only when it names more items (so a data row never joins it)."""
    matcher = matcher_for(rules)
    rows = sheet.rows
    searched = min(HEADER_SEARCH_ROWS, len(rows))
    # What each row's cells name (by the matcher's cached lookups): no band of the rows
    # searched names a customer and two items, as on a form, and no column is built at all.
    names = [matcher.row_names(row) for row in islice(rows, searched + MAX_BAND_ROWS - 1)]
    if not _some_band_may_be_header(names, searched):
        return None
    for top in range(searched):
        if not any(isinstance(v, str) and v.strip() for v in rows[top]):
            continue
        best: TableLayout | None = None
        for height in range(1, MAX_BAND_ROWS + 1):
            if top + height > len(rows):
                break
            if height > 1 and not _looks_like_header_row(rows[top + height - 1], rules):
                break
            if not _may_be_header(names[top : top + height]):
                continue
            got = _layout(sheet, top, height, matcher)
            if got is not None and (best is None or len(got.items) > len(best.items)):
                best = got
        if best is not None:
            last = best.last_header_row
            while last + 1 < len(rows) and _is_id_row(rows[last + 1]):
                last += 1  # a platform's row of import ids under the question texts
            if last != best.last_header_row:
                best = TableLayout(
                    best.first_header_row,
                    last,
                    best.columns,
                    best.fields,
                    best.items,
                    best.item_headers,
                )
            return best
    return None


def _is_id_row(row: list[Any]) -> bool:
    """A platform's header row under the questions: import ids (Qualtrics) or `Response`
    (SurveyMonkey) in every non-empty cell. Part of the band, never a reply."""
    texts = [v for v in row if not is_blank(v)]
    return bool(texts) and all(
        isinstance(v, str) and bool(_IMPORT_ID.match(normalize(v)) or normalize(v) in _BAND_WORDS)
        for v in texts
    )


# --------------------------------------------------------------------------------------------
# Pass one: which rows are replies, which scale, which values


def _rows_from(rows: Sequence[list[Any]], start: int) -> Iterator[list[Any]]:
    """The rows from `start` on, in order: a RowStore (a long streamed sheet) unpickles each
    block once this way, where indexing row by row would too."""
    if isinstance(rows, list):
        return (rows[r] for r in range(start, len(rows)))
    return islice(rows, start, None)


def _replies(
    rows: Sequence[list[Any]], reply_rows: Sequence[int]
) -> Iterator[tuple[int, list[Any]]]:
    """(row index, row) of each reply, in order; a RowStore is walked once, not indexed."""
    if isinstance(rows, list) or not reply_rows:
        return ((r, rows[r]) for r in reply_rows)
    return _walk(rows, reply_rows)


def _walk(rows: Sequence[list[Any]], reply_rows: Sequence[int]) -> Iterator[tuple[int, list[Any]]]:
    wanted = iter(reply_rows)
    nxt = next(wanted)
    for r, row in enumerate(_rows_from(rows, nxt), nxt):
        if r == nxt:
            yield r, row
            nxt = next(wanted, -1)
            if nxt < 0:
                return


@dataclass
class TablePlan:
    layout: TableLayout
    reply_rows: Sequence[int]
    skipped: list[tuple[int, str]]  # (1-based sheet row, why)
    blank_rows: int
    choice: ScaleChoice
    values: ValueMap
    other_range: dict[str, str] = field(default_factory=dict)  # item -> why
    columns: dict[str, dict[Any, Any]] = field(default_factory=dict)  # item -> value -> level


_SUMMARY_WORDS = frozenset(w.replace(" ", "") for w in _SUMMARY)
# Summary words as typed (simplified, traditional, any case): a cell that holds none of them is
# not normalised at all, which keeps the check off the per-row cost.
_SUMMARY_TYPED = sorted(
    {*_SUMMARY, "總計", "合計", "小計", "匯總", "彙總", "總平均"}, key=len, reverse=True
)
# The lookahead on the words' first characters lets the engine skip along a customer's name at
# C speed instead of trying every word at every character (1.6 -> 0.35 us a name).
_SUMMARY_HINT = re.compile(
    "(?=["
    + "".join(sorted({w[0] for w in _SUMMARY_TYPED}))
    + "])(?:"
    + "|".join(_SUMMARY_TYPED)
    + ")",
    re.IGNORECASE,
)
_SUMMARY_REST = 3  # 本期平均, 平均得分: at most this many characters beside the summary word


def _is_summary(value: Any) -> bool:
    """合计, 平均(四舍五入), 平均得分, 本期平均, Overall average: a summary word alone, with a note,
    or with one short word before or after it. `Total Solutions Ltd` is a customer."""
    if value.__class__ is not str or len(value) > 40 or not _SUMMARY_HINT.search(value):
        return False
    text = normalize_label(value).replace(" ", "")
    if text in _SUMMARY_WORDS:
        return True
    words = normalize_label(value).split()
    for w in _SUMMARY_WORDS:
        if text.startswith(w) or text.endswith(w):
            rest = text[len(w) :] if text.startswith(w) else text[: -len(w)]
            if (len(words) <= 2) if rest.isascii() else (len(rest) <= _SUMMARY_REST):
                return True
    return False


def _row_kind(row: list[Any], wanted: list[int], n_items: int, lead: int) -> str | None:
    """None for a reply; else why the row is not one (blank, summary, sign-off). `wanted` are
    the columns read, item columns first (`n_items` of them); `lead` the columns up to the
    customer's. Runs once per row: plain loops, no normalising unless a cell may be a word."""
    first_answered = len(wanted)
    for i in range(len(wanted)):
        v = row[wanted[i]]
        if v is not None and v != "" and not (v.__class__ is str and not v.strip()):
            first_answered = i
            break
    for c in range(lead):
        if _is_summary(row[c]):
            return f"summary line '{row[c].strip()}'"
    if first_answered >= n_items:  # no item answered: perhaps a sign-off or note line
        for v in row:
            if isinstance(v, str) and v.strip():
                if _SIGN_OFF.match(normalize(v[:40])):
                    text = v.strip()
                    return f"sign-off or note line '{text[:30]}{'…' if len(text) > 30 else ''}'"
                break
    if first_answered == len(wanted):
        return "blank"
    return None


def plan_table(
    sheet: Sheet, layout: TableLayout, rules: Rules, pinned: str | None = None
) -> TablePlan:
    rows = sheet.rows
    items = list(layout.items.values())
    wanted = items + list(layout.fields.values())
    lead = layout.fields["customer"] + 1
    width = max(max(wanted), lead) + 1
    reply_rows = array("l")  # a long sheet's row numbers kept flat (8 bytes a row)
    skipped: list[tuple[int, str]] = []
    blank = 0
    distinct: dict[str, set[Any]] = {key: set() for key in layout.items}
    # Each item column's values are collected while the rows are classified, a batch of
    # replies at a time at C speed, so no list of all the replies is ever made.
    adders = [(distinct[key].update, itemgetter(col)) for key, col in layout.items.items()]
    batch: list[list[Any]] = []
    start = layout.last_header_row + 1
    for r, row in enumerate(_rows_from(rows, start), start):
        if len(row) < width:
            row = rows[r] = row + [None] * (width - len(row))
        kind = _row_kind(row, wanted, len(items), lead)
        if kind is None:
            reply_rows.append(r)
            batch.append(row)
            if len(batch) >= 4096:
                for update, get in adders:
                    update(map(get, batch))
                batch.clear()
        elif kind == "blank":
            blank += 1
        else:
            skipped.append((sheet.first_row + r + 1, kind))
    for update, get in adders:
        update(map(get, batch))
    del batch
    other_range: dict[str, str] = {}
    words: set[str] = set()
    written: dict[str, str] = {}  # each word as first typed, for the notices
    unanswered = rules.unanswered
    for key, col in layout.items.items():
        seen = distinct[key]
        header = layout.item_headers[key]
        span = header_range(header)
        if span is not None and span != (1, 5):
            other_range[key] = f"its header says {span[0]}-{span[1]}"
            continue
        declared = declared_numbers(header, rules)
        if declared is not None:
            other_range[key] = f"its header says {declared}, numbering the levels otherwise"
            continue
        top = column_range(seen)
        if top is not None:
            letter = column_letter(sheet.first_col + col)
            other_range[key] = f"column {letter} holds values up to {top:g}"
            continue
        for v in seen:
            w = rating_word(v, unanswered)
            if w is not None and w not in words:
                words.add(w)
                written[w] = v.strip()
    choice = replace(choose_scale(words, rules, pinned), written=written)
    values = ValueMap(rules, choice)
    columns = {
        key: _column_map(values, seen, rules.items[key].labels.zh)
        for key, seen in distinct.items()
        if key not in other_range
    }
    return TablePlan(layout, reply_rows, skipped, blank, choice, values, other_range, columns)


def _column_map(values: ValueMap, seen: set[Any], label: str) -> dict[Any, str | None | str]:
    """Each distinct value of a column -> its level, None, or the reason it is refused (a
    BadRating). Settled once per sheet; a row then costs one dict lookup per item."""
    out: dict[Any, Any] = {}
    if any(isinstance(v, bool) for v in seen):
        return {}  # True == 1 as a dict key: such a column is read cell by cell
    for v in seen:
        try:
            out[v] = values.level(v, label)
        except BadRating as exc:
            out[v] = exc
    return out


# --------------------------------------------------------------------------------------------
# Pass two: the replies


def read_table(sheet: Sheet, plan: TablePlan, rules: Rules, file: str) -> Iterator[RawResponse]:
    """One RawResponse per reply row (the general path; csat.intake.read's columnar one gives
    the same replies for the common rows and asks `TableRows.raw` for the others)."""
    rows = TableRows(sheet, plan, rules, file)
    raw = rows.raw
    for r, row in replies(sheet, plan):
        yield raw(r, row)


def replies(sheet: Sheet, plan: TablePlan) -> Iterator[tuple[int, list[Any]]]:
    """(row index, row) of each reply row of the plan, in order."""
    return _replies(sheet.rows, plan.reply_rows)


class TableRows:
    """What pass two needs of a sheet, settled once (columns, letters, reasons), and the
    reading of one reply row. The per-row hot path: lookups and cell names only."""

    def __init__(self, sheet: Sheet, plan: TablePlan, rules: Rules, file: str) -> None:
        layout = plan.layout
        self.file, self.name = file, sheet.name
        self.r0 = sheet.first_row
        c0 = sheet.first_col
        f = layout.fields
        self.customer_col = f["customer"]
        self.code_col, self.comments_col = f.get("customer_code"), f.get("comments")
        self.date_col = f.get("date", f.get("submitted"))
        self.recommend_col = f.get("recommend")
        self.recommend_letter = (
            column_letter(c0 + self.recommend_col) if self.recommend_col is not None else ""
        )
        items = [
            (key, col, column_letter(c0 + col), rules.items[key].labels.zh)
            for key, col in layout.items.items()
        ]
        self.letters = {key: letter for key, _, letter, _ in items}
        self.first_letter = column_letter(c0 + min(layout.items.values()))
        self.last_letter = column_letter(c0 + max(layout.items.values()))
        self.customer_letter = column_letter(c0 + self.customer_col)
        self.date_letter = column_letter(c0 + self.date_col) if self.date_col is not None else None
        self.level = plan.values.level
        self.other = {
            key: other_range_reason(label, plan.other_range[key])
            for key, _, _, label in items
            if key in plan.other_range
        }
        self.columns = [
            (key, col, letter, label, plan.columns.get(key)) for key, col, letter, label in items
        ]

    def raw(self, r: int, row: list[Any]) -> RawResponse:
        """The reply of row index `r`, with a Rejection for each cell that cannot be read."""
        file, name, other = self.file, self.name, self.other
        n = str(self.r0 + r + 1)
        ratings: dict[str, str | None] = {}
        problems: list[Rejection] = []
        for key, col, letter, label, known in self.columns:
            value = row[col]
            if known:
                got = known[value]
                if got.__class__ is BadRating:
                    problems.append(Rejection(file, name, letter + n, str(got)))
                else:
                    ratings[key] = got
                continue
            if key in other and not is_blank(value):
                problems.append(Rejection(file, name, letter + n, other[key]))
                continue
            try:
                ratings[key] = self.level(value, label)
            except BadRating as exc:
                problems.append(Rejection(file, name, letter + n, str(exc)))
        recommend = None
        recommend_col = self.recommend_col
        if recommend_col is not None and not is_blank(row[recommend_col]):
            recommend = recommend_answer(row[recommend_col])
            if recommend is None:
                problems.append(
                    Rejection(
                        file,
                        name,
                        self.recommend_letter + n,
                        f"'{as_text(row[recommend_col])}' is not a 0-10 answer to the recommend "
                        "question: write a whole number from 0 to 10, or leave it empty",
                    )
                )
        code_col, comments_col, date_col = self.code_col, self.comments_col, self.date_col
        return RawResponse(
            customer=as_text(row[self.customer_col]),
            customer_code=as_text(row[code_col]) if code_col is not None else None,
            date_value=row[date_col] if date_col is not None else None,
            date_cell=self.date_letter + n if self.date_letter else None,
            ratings=ratings,
            comments=as_text(row[comments_col]) if comments_col is not None else None,
            source=Source(file, name, self.r0 + r + 1),
            cells={key: letter + n for key, letter in self.letters.items()},
            span=f"{self.first_letter}{n}:{self.last_letter}{n}",
            customer_cell=self.customer_letter + n,
            problems=problems,
            recommend=recommend,
        )


def recommend_answer(value: Any) -> int | None:
    """A 0-10 recommend answer (9, 9.0, "9", "9分"), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        parsed = parse_text(value)
        if parsed.word is not None or parsed.stars is not None or parsed.number is None:
            return None
        value = parsed.number
    if isinstance(value, int | float) and float(value).is_integer() and 0 <= value <= 10:
        return int(value)
    return None
