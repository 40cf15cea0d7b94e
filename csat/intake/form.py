"""The form layout (SPEC §3, FORMATS §4): one customer per sheet, items in rows.

A form is rated in one of three ways: a mark under one of several level columns (the
procedure's own form), a rating column the customer typed into (perhaps beside a printed
column of the options), or the options printed inline in one cell with a box each
(`☑较满意 □一般`). The words of the level headers, ratings or options choose the scale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from csat.config import Rules
from csat.intake.cells import Marks, UnknownMark, as_text, is_blank
from csat.intake.grid import Sheet, cell_name
from csat.intake.headers import matcher_for
from csat.intake.raw import RawResponse
from csat.intake.scales import (
    BadRating,
    ScaleChoice,
    ValueMap,
    choose_scale,
    parse_text,
    rating_word,
)
from csat.models import Rejection, Source
from csat.text import normalize, normalize_label

_CHECKED = "☑☒■●◉▣✓✔√"
_UNCHECKED = "□☐○◯"
_BOX = rf"[{_CHECKED}{_UNCHECKED}]"
_OPTION = re.compile(rf"({_BOX})\s*([^{_CHECKED}{_UNCHECKED}]+)")  # ☑较满意 □一般
_OPTION_SEPARATORS = re.compile(r"[/|、,，;；\s]+")  # 非常满意/较满意/一般
_OPTION_AFTER = re.compile(rf"([^{_CHECKED}{_UNCHECKED}]+?)\s*({_BOX})")  # 较满意☑ 一般□


@dataclass(frozen=True)
class FormLayout:
    labels: dict[str, tuple[int, int]]  # field name -> (row, col) of its label cell
    items: dict[str, tuple[int, int, str]]  # item key -> (row, col, label as written)
    level_cols: dict[int, str]  # marks layout: column -> level key
    rating_col: int | None  # rating-column layout
    inline_col: int | None  # options inline in one cell
    choice: ScaleChoice
    header_row: int | None  # the row of the level headers / rating header


def _numbered_level(value: Any, rules: Rules) -> str | None:
    """A level column's header that carries the level's number: 5, 5分, 非常满意(5分)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number: float | None = float(value)
    elif isinstance(value, str):
        parsed = parse_text(value)
        number = parsed.number if parsed.stars is None else None
    else:
        return None
    if number is None or not number.is_integer():
        return None
    return rules.level_by_number.get(int(number))


def _inline_options(value: Any) -> list[tuple[bool, str]] | None:
    """`☑较满意 □一般` -> [(True, 较满意), (False, 一般)]; None unless two or more boxes."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text[0] in _CHECKED or text[0] in _UNCHECKED:
        found = [(box in _CHECKED, word.strip()) for box, word in _OPTION.findall(text)]
    else:
        found = [(box in _CHECKED, word.strip()) for word, box in _OPTION_AFTER.findall(text)]
    return found if len(found) >= 2 else None


def _printed_options(value: Any, rules: Rules) -> bool:
    """A cell listing the options (非常满意/较满意/一般 …): printed, not an answer."""
    if not isinstance(value, str):
        return False
    parts = [normalize(p) for p in _OPTION_SEPARATORS.split(value) if p.strip()]
    return sum(p in rules.any_level_word for p in parts) >= 2


def find_form(sheet: Sheet, rules: Rules, pinned: str | None = None) -> FormLayout | None:
    matcher = matcher_for(rules)
    labels: dict[str, tuple[int, int]] = {}
    found: list[tuple[str, int, int, str]] = []  # item key, row, col, label as written
    form_label = matcher.form_label
    for r, row in enumerate(sheet.rows):
        for c, value in enumerate(row):
            # `not value` first: most cells of a form are empty (None or "")
            if not value or not isinstance(value, str):
                continue
            got = form_label(value)
            if got is None:
                continue
            if got[0] == "item":
                found.append((got[1], r, c, value.strip()))
            else:
                labels.setdefault(got[1], (r, c))
    # The items stand in one column; an item named in a sentence elsewhere is not a row.
    per_col: dict[int, set[str]] = {}
    for key, _, c, _ in found:
        per_col.setdefault(c, set()).add(key)
    if not per_col or max(len(keys) for keys in per_col.values()) < 2:
        return None
    main_col = max(per_col, key=lambda c: (len(per_col[c]), -c))
    items: dict[str, tuple[int, int, str]] = {}
    for key, r, c, text in found:
        if c == main_col:
            items.setdefault(key, (r, c, text))
    item_rows = [r for r, _, _ in items.values()]
    first_item_row = min(item_rows)
    for r in range(first_item_row - 1, max(-1, first_item_row - 4), -1):
        headers: dict[int, str] = {}
        written: dict[str, str] = {}
        rating_col = None
        numbered: dict[int, str] = {}
        for c, value in enumerate(sheet.rows[r]):
            if c <= main_col or is_blank(value):
                continue
            level = _numbered_level(value, rules)
            if level is not None:
                numbered.setdefault(c, level)
                continue
            if not isinstance(value, str):
                continue
            word = normalize(value)
            if word in rules.any_level_word:
                headers.setdefault(c, word)
                written.setdefault(word, value.strip())
            elif matcher.text(value).name == "rating" and rating_col is None:
                rating_col = c
        if len(numbered) >= 2:  # 5 4 3 2 1, 5分 …, 非常满意(5分) …: the number decides
            words = [w for v in numbered for w in [rating_word(sheet.rows[r][v], frozenset())] if w]
            choice = choose_scale(words, rules, pinned)
            return FormLayout(labels, items, numbered, None, None, choice, r)
        if len(headers) >= 2:
            choice = replace(choose_scale(headers.values(), rules, pinned), written=written)
            table = rules.scale_words[choice.scale]
            level_cols = {c: table[w] for c, w in headers.items() if w in table}
            return FormLayout(labels, items, level_cols, None, None, choice, r)
        if rating_col is not None:
            return _answer_form(sheet, rules, labels, items, rating_col, r, pinned)
    # No header row: options inline in one cell, or a column typed into.
    for c in range(main_col + 1, max(len(sheet.rows[r]) for r in item_rows)):
        cells = [sheet.rows[r][c] if c < len(sheet.rows[r]) else None for r in item_rows]
        if any(_printed_options(v, rules) for v in cells):
            continue
        if any(not is_blank(v) for v in cells):
            return _answer_form(sheet, rules, labels, items, c, None, pinned)
    return FormLayout(labels, items, {}, None, None, choose_scale((), rules, pinned), None)


def _answer_form(
    sheet: Sheet,
    rules: Rules,
    labels: dict[str, tuple[int, int]],
    items: dict[str, tuple[int, int, str]],
    col: int,
    header_row: int | None,
    pinned: str | None,
) -> FormLayout:
    """A form answered in one column: options with boxes inline, or a rating typed in."""
    rows = [sheet.rows[r] for r, _, _ in items.values()]
    cells = [row[col] if col < len(row) else None for row in rows]
    inline = [_inline_options(v) for v in cells]
    if sum(o is not None for o in inline) >= len(cells) / 2:
        words = [normalize(w) for options in inline for _, w in (options or [])]
        choice = choose_scale(words, rules, pinned)
        return FormLayout(labels, items, {}, None, col, choice, header_row)
    words = [w for v in cells if (w := rating_word(v, rules.unanswered)) is not None]
    return FormLayout(labels, items, {}, col, None, choose_scale(words, rules, pinned), header_row)


def _is_label(text: str, rules: Rules) -> bool:
    """Exactly a label (客户名称, 产品质量): a neighbouring field, not a value. A comment that
    merely mentions 包装 is a value."""
    label = normalize_label(text)
    return label in rules.field_by_alias or label in rules.item_by_alias


def _labelled_value(
    sheet: Sheet, form: FormLayout, name: str, rules: Rules
) -> tuple[Any, str | None]:
    """(value, cell) of a labelled field: the text after the label's colon, else the first
    non-empty cell to its right that is not itself a label."""
    where = form.labels.get(name)
    if where is None:
        return None, None
    r, c = where
    row = sheet.rows[r]
    label_text = str(row[c])
    for sep in (":", "："):
        if sep in label_text:
            rest = label_text.split(sep, 1)[1].strip()
            if rest:
                return rest, cell_name(sheet.first_row + r, sheet.first_col + c)
    for cc in range(c + 1, len(row)):
        value = row[cc]
        if is_blank(value):
            continue
        if isinstance(value, str) and _is_label(value, rules):
            break
        return value, cell_name(sheet.first_row + r, sheet.first_col + cc)
    return None, cell_name(sheet.first_row + r, sheet.first_col + c + 1)


def read_form(sheet: Sheet, form: FormLayout, rules: Rules, file: str) -> RawResponse:
    r0, c0 = sheet.first_row, sheet.first_col
    customer, customer_cell = _labelled_value(sheet, form, "customer", rules)
    code, _ = _labelled_value(sheet, form, "customer_code", rules)
    date_value, date_cell = _labelled_value(sheet, form, "date", rules)
    comments, _ = _labelled_value(sheet, form, "comments", rules)
    answer_cols = sorted(form.level_cols) or [
        c for c in (form.rating_col, form.inline_col) if c is not None
    ]
    rows = [r for r, _, _ in form.items.values()]
    span = None
    if answer_cols:
        span = (
            f"{cell_name(r0 + min(rows), c0 + answer_cols[0])}:"
            f"{cell_name(r0 + max(rows), c0 + answer_cols[-1])}"
        )
    response = RawResponse(
        customer=as_text(customer),
        customer_code=as_text(code),
        date_value=date_value,
        date_cell=date_cell,
        ratings={},
        comments=as_text(comments),
        source=Source(file, sheet.name, None),
        cells={},
        span=span,
        customer_cell=customer_cell,
    )
    if not answer_cols:
        response.problems.append(
            Rejection(
                file,
                sheet.name,
                None,
                "form has item rows but no level columns (非常满意 … 非常不满意), no rating "
                "column (评价/Rating) and no options with boxes (☑较满意 □一般) beside them",
            )
        )
        return response
    if form.level_cols and form.choice.ambiguous and not form.choice.pinned:
        words = ", ".join(form.choice.ambiguous)
        scales = " and ".join(f"'{k}'" for k in form.choice.tied)
        response.problems.append(
            Rejection(
                file,
                sheet.name,
                span,
                f"the level columns are headed by words ({words}) that scales {scales} read "
                "differently, so the ticks cannot be read exactly; pin the scale with --scale "
                "NAME (or scale: in weights.yaml)",
            )
        )
        return response
    # the marks layout reads no rating value: its ValueMap is not built
    values = ValueMap(rules, form.choice) if not form.level_cols else None
    marks = _ticks_for(rules)
    for key, (r, _, label) in form.items.items():
        row = sheet.rows[r]
        item = rules.items[key].labels.zh
        if form.level_cols:
            _read_marks(response, row, r0 + r, c0, form, key, label, marks)
            continue
        col = form.rating_col if form.rating_col is not None else form.inline_col
        assert col is not None and values is not None
        cell = cell_name(r0 + r, c0 + col)
        response.cells[key] = cell
        value = row[col] if col < len(row) else None
        try:
            if form.inline_col is not None:
                response.ratings[key] = _read_inline(value, values, item, label)
            else:
                response.ratings[key] = values.level(value, item)
        except BadRating as exc:
            response.problems.append(Rejection(file, sheet.name, cell, str(exc)))
    response.blank = not response.problems and not any(response.ratings.values())
    if form.level_cols and response.blank:
        response.problems.append(
            Rejection(
                file,
                sheet.name,
                span,
                "no mark could be read in any level column: a tick drawn as a shape or shown "
                "by a fill colour is not in the cells, and csat does not guess; type ✓ or X in "
                "the chosen level's cell",
            )
        )
    return response


def _read_inline(value: Any, values: ValueMap, item: str, label: str) -> str | None:
    options = _inline_options(value)
    if options is None:
        return values.level(value, item) if not is_blank(value) else None
    chosen = [w for ticked, w in options if ticked]
    if len(chosen) > 1:
        raise BadRating(
            f"{len(chosen)} options ticked for {label} ({', '.join(chosen)}): csat never "
            "guesses; ask the customer which one they meant"
        )
    return values.level(chosen[0], item) if chosen else None


class _Ticks:
    """Marks.is_ticked remembered per distinct cell value (issue 12): the forms of a survey
    hold the same few marks (√ ✓ X), each normalised once instead of once a cell. An unknown
    mark raises every time and is not remembered."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._marks = Marks(rules)
        self._known: dict[tuple[type, Any], bool] = {}

    def is_ticked(self, value: Any) -> bool:
        key = (value.__class__, value)
        got = self._known.get(key)
        if got is None:
            got = self._marks.is_ticked(value)
            if len(self._known) < 4096:
                self._known[key] = got
        return got


_TICKS: list[_Ticks] = []  # the last few rules' (one in a run; tests build many)


def _ticks_for(rules: Rules) -> _Ticks:
    for ticks in _TICKS:
        if ticks.rules is rules:
            return ticks
    ticks = _Ticks(rules)
    _TICKS[:] = [ticks, *_TICKS[:3]]
    return ticks


def _read_marks(
    response: RawResponse,
    row: list[Any],
    abs_row: int,
    c0: int,
    form: FormLayout,
    key: str,
    label: str,
    marks: _Ticks,
) -> None:
    file, sheet = response.source.file, response.source.sheet
    ticked: list[tuple[str, str]] = []
    for col, level in form.level_cols.items():
        value = row[col] if col < len(row) else None
        if value is None or value == "":
            continue  # most level cells are empty: no mark, and no cell name needed
        try:
            if marks.is_ticked(value):
                ticked.append((cell_name(abs_row, c0 + col), level))
        except UnknownMark as exc:
            response.problems.append(
                Rejection(
                    file,
                    sheet,
                    cell_name(abs_row, c0 + col),
                    f"unrecognised mark '{exc}' for {label}: put ✓ or X in one level column only",
                )
            )
    if len(ticked) > 1:
        cells = ", ".join(c for c, _ in ticked)
        response.problems.append(
            Rejection(
                file,
                sheet,
                f"{ticked[0][0]}:{ticked[-1][0]}",
                f"{len(ticked)} levels ticked for {label} in {cells}: csat never guesses; "
                "ask the customer which one they meant",
            )
        )
        return
    response.cells[key] = ticked[0][0] if ticked else cell_name(abs_row, c0 + min(form.level_cols))
    response.ratings[key] = ticked[0][1] if ticked else None
