"""A streaming .xlsx sheet reader: the sheet XML inflated and tokenised a chunk at a time.

calamine builds the whole sheet before a row can be read (a 1,048,575-row sheet peaks at
1.3 GiB) and csat had to bound its used range by a separate pass over the XML first. This
reader does both in one pass: each chunk of the inflated part is tokenised by one compiled
regular expression (a row's cells at once: their values looked up by their raw XML, so a
survey's few distinct answers are converted once), the used range is checked against
`limits.max_sheet_cells` row by row (beyond it, reading stops before the rows between are
made, and readers.ranges measures the whole range for the refusal), and the rows are kept in
a `RowStore`: plain lists for an ordinary sheet, as calamine's; beyond `SPILL_ROWS`, blocks of
pickled rows (~85 bytes a row of the benchmark table) that the layouts read like a list.

It gives exactly the values calamine gives (tests/test_stream.py compares both ways on the
samples and on workbooks written by openpyxl and XlsxWriter, tests/test_stream_fuzz.py on
generated ones): numbers as float, date-formatted numbers as date / datetime / time /
timedelta by the styles' number formats and the workbook's date system, booleans, text with
XML's line ends, the five XML entities, numeric references and calamine's `_x0000_` ..
`_x00FF_` escapes undone, rich-text runs joined (phonetic runs left out), error cells and
formulas without a value as CellError. Anything it does not know (a cell without a reference,
a namespace prefix, a comment or processing instruction, an unknown entity or error code, a
t="d" cell, a number or shared index Python reads and calamine does not) raises
`Unsupported`, and the sheet is read by calamine as before. A DTD is refused
(readers.package.check_xml_head); none is ever expanded.
"""

from __future__ import annotations

import gc
import math
import pickle
import re
import zipfile
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from itertools import islice
from operator import itemgetter
from typing import Any, overload

from csat.intake.grid import CellError
from csat.intake.readers.package import check_xml_head
from csat.intake.readers.ranges import Scan, chunks_after

# Sheet parts smaller than this are read by calamine: for a form's few kilobytes its load is
# cheaper than reading the styles and shared strings again here (measured on 2,000 forms).
STREAM_ABOVE_BYTES = 1 << 20
SPILL_ROWS = 131_072  # rows held as Python lists; beyond, pickled blocks
_BLOCK = 2048  # rows per pickled block
_MEMO_MAX = 65_536  # distinct cell texts remembered (shared objects, fewer conversions)
_LAYOUTS_MAX = 4096  # row shapes and cell attribute sets remembered


class Unsupported(Exception):
    """Something this reader does not read exactly as calamine: read the sheet with calamine."""


class Refused(Exception):
    """The used range grew beyond the bound: reading stops (readers.ranges then measures the
    whole range, so the refusal names the same far cell as before)."""


# ---------------------------------------------------------------- text

_ENTITY = re.compile(rb"&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);|&")
_NAMED = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"', b"apos": "'"}
# calamine undoes only the escapes of the first 256 code points (_x0000_ .. _x00FF_: control
# characters, as Excel writes them); `_x4E2D_`, `_xD83D_` (a surrogate) stay as written.
_ESCAPE = re.compile(r"_x(00[0-9A-Fa-f]{2})_")


def _entity(m: re.Match[bytes]) -> bytes:
    name = m.group(1)
    if name is None:
        raise Unsupported("a bare &")
    if name.startswith(b"#"):
        code = int(name[2:], 16) if name.startswith(b"#x") else int(name[1:])
        if code < 0x20 and code not in (0x9, 0xA, 0xD):
            raise Unsupported("a control character XML does not allow")  # calamine judges
        return chr(code).encode("utf-8", "surrogatepass")
    if name in _NAMED:
        return _NAMED[name].encode()
    raise Unsupported(f"entity &{name.decode('ascii', 'replace')};")


def _line_ends(raw: bytes) -> bytes:
    """XML's end-of-line handling, as calamine's parser does it: each CR LF or lone CR written
    in the part is an LF, before the entities (`&#13;` stays a CR) and the escapes
    (`_x000D_` too)."""
    return raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def text(raw: bytes, trim: bool = False) -> str:
    """XML character data -> str as calamine reads it. `trim`: the text of a <t> not marked
    xml:space="preserve", whose spaces, tabs and line ends at either end calamine drops (after
    the entities are undone, before the _xHHHH_ escapes: `&#32;a` is "a", `_x0020_a` " a")."""
    out = _decoded(raw)
    if trim:
        out = out.strip(_XML_SPACE)
    return _unescaped(out) if "_x" in out else out


def _decoded(raw: bytes) -> str:
    """text's first steps: line ends as XML reads them, the entities undone, UTF-8 decoded."""
    if 13 in raw:  # a byte's value: `13 in` is ~10x cheaper than `b"\r" in` (200k names)
        raw = _line_ends(raw)
    if 38 in raw:  # "&"
        raw = _ENTITY.sub(_entity, raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Unsupported("not UTF-8") from None


def _unescaped(out: str) -> str:
    """text's last step, for texts decoded already: the _xHHHH_ escapes undone."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), out)


_XML_SPACE = " \t\r\n"
_T = re.compile(rb"<t(\s[^>]*)?>(.*?)</t>|<t\s*/>", re.S)
_PRESERVE = re.compile(rb"""\bxml:space\s*=\s*["']preserve["']""")
_RPH = re.compile(rb"<rPh\b.*?</rPh>", re.S)


def rich(body: bytes) -> str:
    """The text of an <si> or <is>: its <t>, or its runs' <t> joined; phonetic runs left out."""
    if b"<rPh" in body:
        body = _RPH.sub(b"", body)
    return "".join(
        text(m.group(2) or b"", not (m.group(1) and _PRESERVE.search(m.group(1))))
        for m in _T.finditer(body)
    )


# ---------------------------------------------------------------- workbook parts

# An <si> as Excel writes plain text: its one <t> (group 1), or marked to keep its spaces
# (group 2); or any other <si> (group 3).
_SI = re.compile(
    rb'<si><t>([^<]*)</t></si>|<si><t xml:space="preserve">([^<]*)</t></si>'
    rb"|<si>(.*?)</si>|<si\s*/>",
    re.S,
)


_PI = re.compile(rb"<\?(?!xml[\s?])")  # a processing instruction, not the XML declaration


def shared_strings(zf: zipfile.ZipFile) -> list[str]:
    """The shared texts, each as `rich` reads it. The plain ones (nearly all of a real file's:
    200k customer names and answers) are decoded together, joined by NUL, which XML text
    cannot hold: one decode instead of a `text` call each (0.40 -> 0.13 s for 200k)."""
    data = _part(zf, "xl/sharedStrings.xml")
    if data is None:
        return []
    if (
        b"<si " in data
        or b"<!" in data  # a comment, CDATA
        or _PI.search(data)  # calamine skips a processing instruction, even inside a <t>
        or re.search(rb"<\w+:si\b", data)
        or b"\x00" in data
    ):
        raise Unsupported("shared strings written otherwise")
    found = _SI.findall(data)
    if not found:  # an empty table (joined, it would split into one text)
        if b"<si" in data:
            raise Unsupported("shared strings written otherwise")
        return []
    plain = _decoded(b"\x00".join([trimmed or kept for trimmed, kept, _ in found])).split("\x00")
    if len(plain) != len(found):  # cannot be: NUL is refused above, &#0; by _entity
        raise Unsupported("shared strings not told apart")
    out = []
    for s, (trimmed, _, body) in zip(plain, found, strict=True):
        if body:
            out.append(rich(body))
            continue
        if trimmed:
            s = s.strip(_XML_SPACE)
        out.append(_unescaped(s) if "_x" in s else s)
    return out


def _part(zf: zipfile.ZipFile, name: str) -> bytes | None:
    """A workbook part's bytes (its name matched as Excel matches it), its head checked for a
    DTD; None when the workbook has no such part."""
    member = _member(zf, name)
    if member is None:
        return None
    data = zf.read(member)
    check_xml_head(data[:4096], member)
    return data


def _member(zf: zipfile.ZipFile, name: str) -> str | None:
    names = zf.NameToInfo
    if name in names:
        return name
    lower = {n.lower(): n for n in names}
    return lower.get(name.lower())


# Attributes in either order, quoted either way, spaced around "=" (XML allows all of it, and
# calamine's parser reads it so).
_NUMFMT = re.compile(rb"<numFmt\b([^>]*)>")
_NUMFMT_ID = re.compile(rb"""\snumFmtId\s*=\s*(["'])([0-9]+)\1""")
_FORMAT_CODE = re.compile(rb"""\sformatCode\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_CELLXFS = re.compile(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", re.S)
_XF = re.compile(rb"<xf\b([^>]*)>")
OTHER, DATE, DURATION = 0, 1, 2


def styles(zf: zipfile.ZipFile) -> list[int]:
    """Each cell style's kind of number: OTHER, DATE or DURATION, as calamine tells them."""
    data = _part(zf, "xl/styles.xml")
    if data is None:
        return []
    custom = {}
    for attrs in _NUMFMT.findall(data):
        fmt_id, code = _NUMFMT_ID.search(attrs), _FORMAT_CODE.search(attrs)
        if fmt_id and code:
            custom[int(fmt_id.group(2))] = _format_kind(text(code.group(1) or code.group(2)))
    xfs = _CELLXFS.search(data)
    kinds: list[int] = []
    for xf in _XF.finditer(xfs.group(1) if xfs else b""):
        got = _NUMFMT_ID.search(xf.group(1))
        fmt = int(got.group(2)) if got else 0
        kinds.append(custom[fmt] if fmt in custom else _builtin_kind(fmt))
    return kinds


def _builtin_kind(fmt: int) -> int:
    if 14 <= fmt <= 22 or fmt in (45, 47):
        return DATE
    if fmt == 46:
        return DURATION
    return OTHER


def _format_kind(code: str) -> int:
    """A custom number format's kind, by calamine's reading of it: a date part (d m y h s)
    outside quotes, escapes and brackets makes a date; [h] [m] [s] a duration."""
    escaped = quoted = False
    brackets = 0
    prev = ""
    hms = False
    ap = False
    for s in code:
        if escaped:
            escaped = False
        elif s in "_\\":
            escaped = True
        elif quoted:
            if s == '"':
                quoted = False
        elif s == '"':
            quoted = True
        elif s == ";":
            return OTHER
        elif s == "[":
            brackets += 1
        elif s == "]" and brackets == 1 and hms:
            return DURATION
        elif s == "]":
            brackets = max(brackets - 1, 0)
        elif s in "aA" and not ap and brackets == 0:
            ap = True
        elif s in "pmPM/" and ap and brackets == 0:
            return DATE
        elif s in "dmhysDMHYS" and not ap and brackets == 0:
            return DATE
        elif not (hms and s.lower() == prev.lower()):
            hms = brackets > 0 and s in "hmsHMS"
        prev = s
    return OTHER


_DATE1904 = re.compile(rb"""<(?:\w+:)?workbookPr\b[^>]*\sdate1904\s*=\s*["'](1|true)["']""")


def date1904(zf: zipfile.ZipFile) -> bool:
    name = _member(zf, "xl/workbook.xml")
    return bool(name and _DATE1904.search(zf.read(name)))


_EPOCH_1900 = datetime(1899, 12, 30)
_EPOCH_1900_EARLY = datetime(1899, 12, 31)
_EPOCH_1904 = datetime(1904, 1, 1)
_DAY_MS = 86_400_000


def _ms(days: float) -> int:
    """Days as whole milliseconds, rounded as calamine (Rust's f64::round) rounds: a half away
    from zero, where Python's round() takes the even one (281474992415244.5 ms: ...245)."""
    ms = days * _DAY_MS
    if ms != ms or ms in (math.inf, -math.inf):
        raise OverflowError(days)
    whole = math.floor(ms) if ms >= 0 else math.ceil(ms)
    if abs(ms - whole) >= 0.5:
        whole += 1 if ms >= 0 else -1
    return whole


def excel_date(value: float, kind: int, is1904: bool) -> Any:
    """A date-formatted number as python-calamine gives it. Where calamine's own reading is
    odd (NaN as 1899-12-30, a negative date beyond Python's range as a time, a duration beyond
    it refused) or panics (a huge negative one): Unsupported, so calamine reads the sheet."""
    if value != value:
        raise Unsupported("a date or duration that is NaN")
    if kind == DURATION:
        try:
            return timedelta(milliseconds=_ms(value))
        except OverflowError:
            raise Unsupported("a duration beyond Python's range") from None
    if is1904:
        epoch = _EPOCH_1904
    else:
        epoch = _EPOCH_1900_EARLY if value < 60 else _EPOCH_1900
    try:
        stamp = epoch + timedelta(milliseconds=_ms(value))
    except OverflowError:
        if value < 1.0:
            raise Unsupported("a date before Python's range") from None
        return value  # beyond 9999-12-31: calamine gives the number
    if value < 1.0:
        return stamp.time()
    if value == int(value):
        return stamp.date()
    return stamp


# ---------------------------------------------------------------- the sheet

_CELL = re.compile(
    rb'<c r="([A-Z]{1,3})([0-9]{1,7})"'
    rb"([^>]*>(?:<v>[^<]*</v>|<is><t>[^<]*</t></is>)</c>|[^>]*?/>|[^>]*>.*?</c>)",
    re.S,
)
_PARTS = re.compile(
    rb'((?:\s+[\w:]+="[^"]*")*)\s*(?:/>|>(?:<v>([^<]*)</v>|<is><t>([^<&]*)</t></is>|(.*?))</c>)$',
    re.S,
)
_ODD_CELL = re.compile(rb'<c(?=[\s>/])(?! r="[A-Z])')
_ODD_PREFIX = re.compile(rb":(?:c|row|v|is|f|t|r|rPh)[\s>/]")
_INLINE = b' t="inlineStr"><is><t>'
_INLINE_END = b"</t></is></c>"
_NUMBERS = (b' t="n"><v>', b"><v>")  # as XlsxWriter/openpyxl write them, as Excel does
_SHARED = b' t="s"><v>'
_V_END = b"</v></c>"
_INLINE_CUT, _INLINE_END_CUT = len(_INLINE), len(_INLINE_END)
_V_END_CUT, _SHARED_CUT = len(_V_END), len(_SHARED)
_ATTRS = re.compile(rb'\s+([\w:]+)="([^"]*)"')
_V = re.compile(rb"<v>([^<]*)</v>|<v\s*/>")
_IS = re.compile(rb"<is>(.*?)</is>", re.S)
_F = re.compile(rb"<f\b")


class RowStore(Sequence[list[Any]]):
    """A sheet's rows, read like a list: in memory up to SPILL_ROWS, then in pickled blocks
    (one block unpickled at a time). Rows come out `width` long, `left` columns dropped."""

    def __init__(self) -> None:
        self._rows: list[list[Any]] = []
        self._blocks: list[bytes] = []
        self._spilled = 0  # rows in blocks
        self._cache: tuple[int, list[list[Any]]] = (-1, [])
        self.left = 0
        self.width = 0
        self.top = 0
        self._length = 0
        self._patch: dict[int, list[Any]] = {}

    def append(self, row: list[Any]) -> None:
        self._rows.append(row)
        if len(self._rows) >= SPILL_ROWS + _BLOCK:
            self._spill()

    def _spill(self) -> None:
        while len(self._rows) > SPILL_ROWS // 2:
            block, self._rows = self._rows[:_BLOCK], self._rows[_BLOCK:]
            self._blocks.append(pickle.dumps(block, pickle.HIGHEST_PROTOCOL))
            self._spilled += len(block)

    def close(self, top: int, left: int, width: int, height: int) -> None:
        """Settle the grid: rows `top` .. `top + height - 1`, columns `left` .. + width."""
        self.top, self.left, self.width = top, left, width
        self._length = height

    def settled(self) -> list[list[Any]] | RowStore:
        """A plain list when nothing was spilled (what every reader gives), else the store."""
        if self._blocks:
            return self
        return list(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RowStore | list):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __len__(self) -> int:
        return self._length

    def _raw(self, index: int) -> list[Any]:
        at = index + self.top
        if at < self._spilled:
            b = at // _BLOCK
            if self._cache[0] != b:
                self._cache = (b, pickle.loads(self._blocks[b]))
            return self._cache[1][at - b * _BLOCK]
        return self._rows[at - self._spilled]

    def _shape(self, row: list[Any]) -> list[Any]:
        left, width = self.left, self.width
        if left:
            row = row[left:]
        if len(row) < width:
            return row + [""] * (width - len(row))
        return row if len(row) == width else row[:width]

    @overload
    def __getitem__(self, index: int) -> list[Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[list[Any]]: ...

    def __getitem__(self, index: int | slice) -> list[Any] | list[list[Any]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(index)
        patched = self._patch.get(index)
        if patched is not None:
            return patched
        return self._shape(self._raw(index))

    def __setitem__(self, index: int, row: list[Any]) -> None:
        self._patch[index] = row

    def __iter__(self) -> Iterator[list[Any]]:
        shape, patch = self._shape, self._patch
        rows = islice(self._all(), self.top, self.top + self._length)
        for i, raw in enumerate(rows):
            got = patch.get(i) if patch else None
            yield got if got is not None else shape(raw)

    def _all(self) -> Iterator[list[Any]]:
        """Every row stored, in order: each block unpickled once."""
        for blob in self._blocks:
            yield from pickle.loads(blob)
        yield from self._rows


class SheetReader:
    """One sheet part read into a RowStore; raises Refused, Unsupported or UnreadableWorkbook."""

    def __init__(self, strings: list[str], kinds: list[int], is1904: bool, max_cells: int) -> None:
        self.strings = strings
        self.kinds = kinds
        self.is1904 = is1904
        self.max_cells = max_cells
        self._memo: dict[bytes, Any] = {}
        self._attrs: dict[bytes, tuple[bytes, int]] = {}
        self._layouts: dict[tuple[bytes, ...], _Layout] = {}
        self._uncalculated: dict[tuple[int, int], CellError] = {}

    def read(self, zf: zipfile.ZipFile, part: str) -> tuple[list[list[Any]] | RowStore, int, int]:
        """The rows, and the grid's first row and column (0-based), as calamine's `start`: a
        list as calamine's, or a RowStore for a sheet of more than SPILL_ROWS rows. The cyclic
        garbage collector is paused meanwhile: rows hold no cycles, and its passes over the
        growing store took ~9 % of a million-row read. Then everything alive is frozen (moved
        where the collector never looks; freed by reference counting as ever): its later passes,
        while the replies are made, walked the sheet's rows again and again (~0.2 s of 100k)."""
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._read(zf, part)
        finally:
            if paused:
                gc.freeze()
                gc.enable()

    def _read(self, zf: zipfile.ZipFile, part: str) -> tuple[list[list[Any]] | RowStore, int, int]:
        store = RowStore()
        top, lo, hi = -1, 1 << 30, -1  # the used range so far: first row, columns
        # The range bounded by max_cells: every cell's reference, an empty one's too, as
        # readers.ranges measures it for the calamine path (a far empty styled cell refuses a
        # small sheet, so it refuses a big one).
        b_top, b_lo, b_hi = -1, 1 << 30, -1
        self._uncalculated = {}
        row_no = -1  # 0-based index of the last row stored
        seen = -1  # of the last row with cells, empty ones too
        memo_get = self._memo.get
        cell = self._cell
        layouts = self._layouts
        append = store.append
        max_cells = self.max_cells
        first = True
        for chunk in chunks_after(zf, part, b"</row>"):
            body_at = 0
            if first:
                check_xml_head(chunk[:4096], part)
                body_at = max(chunk.find(b"<sheetData"), 0)
                chunk = chunk[body_at:]
                first = False
            if (
                # a comment, CDATA; a processing instruction (calamine skips it). A byte's
                # value first: memchr for a rare "!" or "?" (~0.1 ms a MiB) before the search
                # for "<!" (~1 ms a MiB: "<" is everywhere)
                (33 in chunk and b"<!" in chunk)
                or (63 in chunk and b"<?" in chunk)
                or (b":" in chunk and _ODD_PREFIX.search(chunk))  # memchr first: ~7x cheaper
                or _ODD_CELL.search(chunk)
            ):
                raise Unsupported("a cell or element written otherwise")
            expected = chunk.count(b'<c r="')
            for piece in chunk.split(b"</row>"):
                found = _CELL.findall(piece)
                if not found:
                    continue
                expected -= len(found)
                letters, digits, raws = zip(*found, strict=True)
                if digits.count(digits[0]) != len(digits):
                    raise Unsupported("cells of a row referring to other rows")
                r = int(digits[0]) - 1
                if r <= seen:  # a row of empty cells too
                    raise Unsupported("rows out of order")
                seen = r
                values = list(map(memo_get, raws))
                misses = values.count(None)
                if misses:  # the row's unique cells (its No., name, code): converted in place
                    i = 0
                    for _ in range(misses):
                        i = values.index(None, i)
                        values[i] = cell(raws[i])
                if _EMPTY in values or _UNCALC in values:
                    cols = [_col_index(letter) for letter in letters]
                    b_lo, b_hi = min(b_lo, *cols), max(b_hi, *cols)
                    if b_top < 0:
                        b_top = r
                    if (r - b_top + 1) * (b_hi - b_lo + 1) > max_cells:
                        _refuse(b_top, b_lo, r, b_hi, max_cells)
                    got = self._sparse(r, letters, values)
                    if got is None:
                        continue
                    row, left, right = got
                else:
                    layout = layouts.get(letters)
                    if layout is None:
                        if len(layouts) >= _LAYOUTS_MAX:
                            layouts.clear()
                        layout = layouts[letters] = _layout(letters)
                    left, right, pad, gather = layout
                    if gather is not None:
                        values.append("")
                        row = pad + list(gather(values)) if left else list(gather(values))
                    else:
                        row = pad + values if left else values
                if left < lo:
                    lo = left
                    if left < b_lo:
                        b_lo = left
                if right > hi:
                    hi = right
                    if right > b_hi:
                        b_hi = right
                if top < 0:
                    top = r
                    if b_top < 0:
                        b_top = r
                if (r - b_top + 1) * (b_hi - b_lo + 1) > max_cells:  # before the rows between
                    _refuse(b_top, b_lo, r, b_hi, max_cells)
                while row_no + 1 < r:
                    append([])
                    row_no += 1
                append(row)
                row_no = r
            if expected:
                raise Unsupported("a cell the tokenizer cannot place")
        uncalculated = self._uncalculated
        scan = Scan(top=top, left=lo, bottom=row_no, right=hi)
        if scan.bottom < 0:
            if uncalculated:
                raise Unsupported("only formulas without values")
            store.close(0, 0, 0, 0)
            return store, 0, 0
        for r, c in uncalculated:
            if not (scan.top <= r <= scan.bottom and scan.left <= c <= scan.right):
                raise Unsupported("a formula without a value outside the used range")
        width = scan.right - scan.left + 1
        store.close(scan.top, scan.left, width, scan.bottom - scan.top + 1)
        for (r, c), error in uncalculated.items():
            line = list(store[r - scan.top])
            line[c - scan.left] = error
            store[r - scan.top] = line
        return store.settled(), scan.top, scan.left

    def _sparse(
        self, r: int, letters: tuple[bytes, ...], values: list[Any]
    ) -> tuple[list[Any], int, int] | None:
        """A row with empty cells or formulas without values: placed cell by cell."""
        row: list[Any] = []
        left = -1
        for letter, value in zip(letters, values, strict=True):
            if value is _EMPTY:
                continue
            c = _col_index(letter)
            if value is _UNCALC:
                self._uncalculated[(r, c)] = CellError(CellError.UNCALCULATED)
                continue
            n = len(row)
            if c < n:
                raise Unsupported("cells out of order")
            if left < 0:
                left = c
            row.extend([""] * (c - n))
            row.append(value)
        if left < 0:
            return None
        return row, left, len(row) - 1

    def _cell(self, raw: bytes) -> Any:
        """A cell (all after its reference) -> its value, _EMPTY or _UNCALC; remembered."""
        memo = self._memo
        if len(memo) >= _MEMO_MAX:
            memo.clear()
        if raw.startswith(_INLINE) and raw.endswith(_INLINE_END):  # a name, a code: unique
            inner = raw[_INLINE_CUT:-_INLINE_END_CUT]
            if 60 not in inner:  # "<"
                value: Any = text(inner, True)
                memo[raw] = value
                return value
        if raw.startswith(_SHARED) and raw.endswith(_V_END):  # a shared text: a row's name
            index = raw[_SHARED_CUT:-_V_END_CUT]  # inline of _shared: 200k of a table
            if not index.isdigit():
                raise Unsupported("a shared text that is not there")
            try:
                value = self.strings[int(index)]
            except IndexError:
                raise Unsupported("a shared text that is not there") from None
            memo[raw] = value
            return value
        if raw.endswith(_V_END) and raw.startswith(_NUMBERS):  # a plain number: a row's No.
            digits = raw[raw.index(b"<v>") + 3 : -_V_END_CUT]
            if digits.isdigit():  # as most are: float() and calamine agree (else _float)
                number: Any = float(digits)
                memo[raw] = number
                return number
        m = _PARTS.match(raw)
        if m is None:
            raise Unsupported("a cell not understood")
        attrs, v, inline, body = m.groups()
        got = self._attrs.get(attrs)
        if got is None:
            if len(self._attrs) >= _LAYOUTS_MAX:
                self._attrs.clear()
            got = self._attrs[attrs] = self._parse_attrs(attrs)
        t, kind = got
        if body:
            value = self._body(t, kind, body)
        elif inline is not None:  # an empty <t></t> too: calamine's "", within the range
            if t != b"inlineStr":
                raise Unsupported("inline text in a cell of another type")
            value = text(inline, True)
        elif v is not None:
            value = self._convert(t, kind, v, b"") if v else _empty_value(t)
        else:
            value = _empty_value(t) if t == b"e" else None
        if value is None:
            value = _EMPTY
        memo[raw] = value
        return value

    def _shared(self, v: bytes) -> str:
        """The shared text a <v> numbers: digits only (int() also takes "-1", the last text,
        and " 1" or "1_0"), within the table."""
        if not v.isdigit():
            raise Unsupported("a shared text that is not there")
        try:
            return self.strings[int(v)]
        except IndexError:
            raise Unsupported("a shared text that is not there") from None

    def _parse_attrs(self, attrs: bytes) -> tuple[bytes, int]:
        """A cell's type and style kind, from its attributes (each distinct set once)."""
        if b"\t" in attrs or b"\n" in attrs or b"\r" in attrs:
            # readers.ranges finds error cells by ' t="e"': separated otherwise, calamine's
            # path reads such a cell empty
            raise Unsupported("attributes separated by tabs or line ends")
        found = dict(_ATTRS.findall(attrs))
        if any(b":" in k for k in found):
            raise Unsupported("a prefixed attribute")
        t = found.get(b"t", b"n")
        if t not in (b"n", b"s", b"str", b"inlineStr", b"b", b"e"):
            raise Unsupported(f"cell type {t!r}")
        s = found.get(b"s")
        kind = OTHER
        if s is not None:
            index = int(s)
            kind = self.kinds[index] if index < len(self.kinds) else OTHER
        return t, kind

    def _convert(self, t: bytes, kind: int, v: bytes, inline: bytes) -> Any:
        if inline:
            return text(inline)
        if t == b"n":
            try:
                number = _float(v)
            except ValueError:
                raise Unsupported("a number that is not one") from None
            return excel_date(number, kind, self.is1904) if kind else number
        if t == b"s":
            return self._shared(v)
        if t == b"str":
            return text(v)
        if t == b"b":
            if v == b"1":
                return True
            if v == b"0":
                return False
            raise Unsupported("a boolean that is not 0 or 1")
        if t == b"e":
            return _error(v)
        raise Unsupported(f"cell type {t!r}")

    def _body(self, t: bytes, kind: int, body: bytes) -> Any:
        """A cell with a formula, rich text, attributes on <v> or <t>: parsed in full."""
        has_formula = _F.search(body) is not None
        if t == b"inlineStr":
            inner = _IS.search(body)
            if inner is None:
                return _UNCALC if has_formula else None
            return rich(inner.group(1))
        vm = _V.search(body)
        raw = vm.group(1) if vm else None
        if t == b"e":
            return _error(raw or b"")
        if raw is None:  # no <v>, or <v/>: a formula never calculated
            if has_formula:
                return _UNCALC
            if body.strip():
                raise Unsupported("a cell body not understood")
            return None
        if not raw:  # <v></v>: t="str" a formula calculated to an empty text, else nothing
            return _empty_value(t)
        return self._convert(t, kind, raw, b"")


def _float(v: bytes) -> float:
    """A <v>'s number as calamine parses it (Rust's grammar: "inf", "NaN", "+3", ".5" as
    Python's), but not underscores or spaces around it, which Python's float() takes."""
    if 95 in v or (v and (v[0] in _SPACES or v[-1] in _SPACES)):  # 95: "_"
        raise ValueError(v)
    return float(v)


_SPACES = frozenset(b" \t\n\r\x0b\x0c")  # what float() strips from bytes


_UNCALC = CellError(CellError.UNCALCULATED)
_EMPTY = object()


# The error values calamine reads; it refuses the sheet for any other (#SPILL!, " #N/A").
_ERRORS = {
    code: CellError(code.decode())
    for code in (b"#DIV/0!", b"#N/A", b"#NAME?", b"#NULL!", b"#NUM!", b"#REF!", b"#VALUE!")
}


def _error(v: bytes) -> CellError:
    """An error cell's value: its code. Without one, calamine leaves the cell out of the used
    range and readers.ranges puts a #VALUE! in only where it falls inside: Unsupported."""
    if not v:
        raise Unsupported("an error cell without a code")
    got = _ERRORS.get(v)
    if got is None:
        raise Unsupported("an error value calamine does not read")
    return got


def _empty_value(t: bytes) -> Any:
    """A cell's empty <v></v> as calamine reads it: an empty text (t="str", a cell in the
    range), else nothing (an error cell: Unsupported, see _error)."""
    if t == b"str":
        return ""
    if t == b"e":
        return _error(b"")
    return None


def _refuse(top: int, left: int, bottom: int, right: int, max_cells: int) -> None:
    raise Refused(f"{(bottom - top + 1) * (right - left + 1):,} cells > {max_cells:,}")


_Layout = tuple[int, int, list[Any], "itemgetter[Any] | None"]


def _layout(letters: tuple[bytes, ...]) -> _Layout:
    """Where a row's cells go: its first and last column, the padding before the first, and
    the gathering of its values into the columns between (None when they are contiguous)."""
    cols = [_col_index(letter) for letter in letters]
    if any(b <= a for a, b in zip(cols, cols[1:], strict=False)):
        raise Unsupported("cells out of order")
    left, right = cols[0], cols[-1]
    pad: list[Any] = [""] * left
    if right - left + 1 == len(cols):
        return left, right, pad, None
    where = {c: i for i, c in enumerate(cols)}
    blank = len(cols)  # the "" appended after the values
    return left, right, pad, itemgetter(*(where.get(c, blank) for c in range(left, right + 1)))


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1
