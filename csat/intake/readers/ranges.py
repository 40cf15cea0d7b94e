"""The used range of each sheet, bounded before calamine loads it (a far cell is an attack).

calamine builds a dense grid from the first to the last cell of a sheet: one stray cell at
XFD1048576 beside A1 asks for 17 billion cells and aborts the process. So csat reads where the
cells are first, without building anything, and refuses a sheet whose used range is beyond
`limits.max_sheet_cells`:

- xlsx/xlsm: the sheet XML is streamed once. When the `<dimension>` element (Excel, WPS,
  LibreOffice and openpyxl all write it) gives a box within the bound, a single regular-expression
  pass checks that no cell or row reference lies outside it and finds the few error cells and
  formulas without a value (fast path, ~2 ms per MB). Anything unusual (no dimension, a cell
  outside it, cells without references, namespace prefixes) is measured exactly by following
  every row and cell as calamine does (slow path).
- ods: content.xml is followed element by element, counting repeated rows and cells
  (`number-rows-repeated`) only where they hold content, as calamine does.
- xlsb: the records of each sheet part are walked (row headers and cell columns).
- xls: the records of the Workbook stream are walked (BIFF8 bounds a sheet to 65,536 x 256
  cells, 16.8 million, still more than the default bound), which also finds error cells.
"""

from __future__ import annotations

import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain

from csat.intake.grid import CellError, cell_name, column_letter
from csat.intake.readers.package import check_xml_head, read_part

_CHUNK = 1 << 20


@dataclass
class Scan:
    """Where a sheet's cells are (0-based, inclusive) and the cells calamine would misreport."""

    name: str = ""  # ods: the sheet's name from content.xml
    top: int = -1
    left: int = -1
    bottom: int = -1
    right: int = -1
    errors: dict[tuple[int, int], CellError] = field(default_factory=dict)

    def add(self, row: int, col: int) -> None:
        if self.bottom < 0:
            self.top, self.left, self.bottom, self.right = row, col, row, col
            return
        self.top, self.bottom = min(self.top, row), max(self.bottom, row)
        self.left, self.right = min(self.left, col), max(self.right, col)

    @property
    def cells(self) -> int:
        if self.bottom < 0:
            return 0
        return (self.bottom - self.top + 1) * (self.right - self.left + 1)

    def beyond(self, max_cells: int) -> tuple[str, str] | None:
        """(far cell, reason) when the used range is beyond the bound; None when within."""
        if self.cells <= max_cells:
            return None
        first, far = cell_name(self.top, self.left), cell_name(self.bottom, self.right)
        return far, (
            f"the sheet's used range {first}:{far} spans {self.cells:,} cells, beyond the bound "
            f"of {max_cells:,} (limits.max_sheet_cells): a stray cell far from the table? "
            f"Delete the rows and columns beyond the table (Ctrl+End shows the far cell {far}), "
            "save and import it again"
        )


def col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


# ---------------------------------------------------------------- xlsx

_DIMENSION = re.compile(
    rb'<(?:[\w.-]+:)?dimension\s+ref="([A-Z]+)?([0-9]+)?(?::([A-Z]+)([0-9]+))?"'
)
_REF = re.compile(rb"^([A-Za-z]+)([0-9]+)$")  # calamine takes lower-case references too
_TAG = re.compile(rb"<(/?)(?:[\w.-]+:)?(row|c|f|v)(?=[\s/>])([^>]*?)(/?)>")
_R_ATTR = re.compile(rb'\sr="([^"]*)"')
_T_ERROR = re.compile(rb'\st="e"')
# Fast path, each search led by a literal so the regex engine skips ahead: tags it cannot place
# (a cell or row whose reference is not its first attribute, a prefixed cell or row), error
# cells, and formulas closed without a value.
_ODD = (
    re.compile(rb'<c(?=[\s>/])(?! r=")'),
    re.compile(rb'<row(?=[\s>/])(?! r=")'),
    re.compile(rb":(?:c|row)[\s>/]"),
)
# Each with the literal every match holds: a chunk without it is not searched (a form's sheet
# has neither errors nor formulas; `in` is a fraction of a regular expression's search).
_RARE = (
    (b' t="e"', re.compile(rb' t="e"')),
    (b"</f>", re.compile(rb"</f>\s*(?:<v\s*/>\s*)?</c>")),
    (b"<f", re.compile(rb"<f\b[^>]*/>\s*(?:<v\s*/>\s*)?</c>")),
)
_ERROR_VALUE = re.compile(rb"<(?:[\w.-]+:)?v>([^<]*)</")


def _greater(bound: str, alphabet: str) -> bytes:
    """A regex for strings over `alphabet` (no leading zero) greater than `bound` in value."""
    lo, hi = alphabet[0], alphabet[-1]
    first = alphabet[1] if alphabet == "0123456789" else lo
    cls = f"[{lo}-{hi}]"
    parts = [f"[{first}-{hi}]{cls}{{{len(bound)},}}"]
    for i, ch in enumerate(bound):
        nxt = alphabet.index(ch) + 1
        if nxt < len(alphabet):
            parts.append(
                f"{re.escape(bound[:i])}[{alphabet[nxt]}-{hi}]{cls}{{{len(bound) - i - 1}}}"
            )
    if alphabet == "0123456789":
        parts.append("0[0-9]*")  # a leading zero: odd, measure exactly
    return ("(?:" + "|".join(parts) + ")").encode()


def xlsx_scan(zf: zipfile.ZipFile, part: str, max_cells: int) -> Scan:
    """Measure the used range of one sheet part; raise UnreadableWorkbook on a DTD in it."""
    info = zf.getinfo(part)
    small = info.file_size <= _CHUNK  # a form: one read, one chunk (issue 12)
    chunks = iter((read_part(zf, info),)) if small else _chunks(zf, part)
    first = next(chunks, b"")
    check_xml_head(first[:4096], part)
    dim = _DIMENSION.search(first, 0, 4096)
    if dim and dim.group(4):
        bottom, right = int(dim.group(4)) - 1, col_index(dim.group(3))
        if (bottom + 1) * (right + 1) <= max_cells:
            fast = _fast_scan(chain([first], chunks), bottom, right, max_cells)
            if fast is not None:
                return fast
    return _refs_scan(zf, part) or _exact_scan(zf, part)


_COL_REFS = re.compile(rb' r="([A-Za-z]+)[0-9]')
# A cell's row number: an empty <row> (a custom height far below the data, as a form template
# has) is no part of the used range, for calamine nor for _exact_scan.
_ROW_REFS = re.compile(rb' r="[A-Za-z]+([0-9]+)"')


def _refs_scan(zf: zipfile.ZipFile, part: str) -> Scan | None:
    """Without a usable dimension: the extreme references, collected as sets at C speed; None
    when some row or cell has no reference (then follow positions exactly). A chunk is only
    collected in full when a search finds a column not seen yet or a row beyond the extremes
    so far (the last cell's row taken as the new far one): the same result as
    collecting every reference, without a million small strings for a long sheet."""
    scan = Scan()
    cols: set[bytes] = set()
    top = bottom = 0  # extreme row numbers so far (1-based); 0: none yet
    new_column: re.Pattern[bytes] | None = None
    for chunk in _chunks(zf, part):
        if any(p.search(chunk) for p in _ODD):
            return None
        if new_column is None or new_column.search(chunk):
            cols.update(_COL_REFS.findall(chunk))
            known = len(cols) <= _MAX_KNOWN_COLUMNS
            new_column = _other_columns(frozenset(cols)) if known else None
        far = _last_row_number(chunk)
        if bottom and far is not None:
            far = max(far, bottom)
            if not _rows_outside(top, far).search(chunk):
                bottom = far
                far = -1
        if far != -1:
            numbers = [int(r) for r in _ROW_REFS.findall(chunk)]
            if numbers:
                low, high = min(numbers), max(numbers)
                top, bottom = (low, high) if not bottom else (min(top, low), max(bottom, high))
        _rare_cells(chunk, scan)
    if cols and bottom:
        by_col = sorted({c.upper() for c in cols}, key=lambda c: (len(c), c))
        scan.top, scan.bottom = top - 1, bottom - 1
        scan.left, scan.right = col_index(by_col[0]), col_index(by_col[-1])
    return scan


_MAX_KNOWN_COLUMNS = 200  # beyond, a wide sheet is collected chunk by chunk as it always was
_LAST_CELL_ROW = re.compile(rb'<c r="[A-Za-z]+([0-9]+)"')


def _last_row_number(chunk: bytes) -> int | None:
    """The row of the chunk's last cell."""
    start = chunk.rfind(b'<c r="')
    hit = _LAST_CELL_ROW.match(chunk, start) if start >= 0 else None
    return int(hit.group(1)) if hit else None


@lru_cache(maxsize=64)
def _other_columns(seen: frozenset[bytes]) -> re.Pattern[bytes]:
    """A cell reference whose column letters are none of `seen`."""
    known = b"|".join(re.escape(c) for c in sorted(seen, key=len, reverse=True))
    return re.compile(rb' r="(?!(?:' + known + rb")[0-9])[A-Za-z]+[0-9]")


def _rows_outside(top: int, bottom: int) -> re.Pattern[bytes]:
    """A cell reference numbered before `top` or after `bottom`, or with a leading zero (as
    _ROW_REFS reads them: digits closed by the quote)."""
    below = _lesser(str(top))
    above = _greater(str(bottom), "0123456789")
    return re.compile(rb' r="[A-Za-z]+(?:' + below + b"|" + above + rb')"')


def _lesser(bound: str) -> bytes:
    """A regex for numbers (no leading zero) less than `bound` in value, or any leading zero."""
    parts = ["0[0-9]*"]
    if len(bound) > 1:
        parts.append(f"[1-9][0-9]{{0,{len(bound) - 2}}}")
    for i, ch in enumerate(bound):
        low = "1" if i == 0 else "0"
        if ch > low:
            parts.append(f"{bound[:i]}[{low}-{chr(ord(ch) - 1)}][0-9]{{{len(bound) - i - 1}}}")
    return ("(?:" + "|".join(parts) + ")").encode()


def _chunks(zf: zipfile.ZipFile, part: str) -> Iterator[bytes]:
    """The part in pieces that end after a closed cell or row, so no element is split."""
    tail = b""
    with zf.open(part) as fh:
        while True:
            chunk = fh.read(_CHUNK)
            if not chunk:
                break
            data = tail + chunk
            cut = max(data.rfind(b"</c>"), data.rfind(b"</row>"))
            if cut < 0:
                cut = data.rfind(b"<")
                if cut <= 0:
                    tail = data
                    continue
            else:
                cut = data.index(b">", cut) + 1
            yield data[:cut]
            tail = data[cut:]
    if tail:
        yield tail


def _fast_scan(chunks: Iterator[bytes], bottom: int, right: int, max_cells: int) -> Scan | None:
    """None when anything lies outside the dimension box (then measure exactly)."""
    outside, bottom = _outside(bottom, right, max_cells)
    scan = Scan()
    for chunk in chunks:
        if outside.search(chunk) or any(p.search(chunk) for p in _ODD):
            return None
        _rare_cells(chunk, scan)
    scan.top, scan.left, scan.bottom, scan.right = 0, 0, bottom, right
    return scan


@lru_cache(maxsize=256)
def _outside(bottom: int, right: int, max_cells: int) -> tuple[re.Pattern[bytes], int]:
    """A reference (of a cell or a row) beyond column `right` or beyond the rows allowed, and
    the last row allowed (0-based). Rows are checked by their number of digits when that keeps
    the box within the bound (a quick test per reference), else exactly."""
    cols = _greater(column_letter(right), "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    digits = len(str(bottom + 1))
    if 10**digits * (right + 1) <= max_cells:
        rows, bottom = rb"[0-9]{%d}|0" % (digits + 1), 10**digits - 2
    else:
        rows = _greater(str(bottom + 1), "0123456789")
    # " r=": the _ODD searches guarantee every reference the fast path accepts is written so.
    # The last alternative: a reference not in upper-case letters and digits (calamine reads
    # "xfd1048576" as XFD1048576): measured by the slower path.
    pattern = rb' r="(?:' + cols + rb"[0-9]|[A-Z]{0,3}(?:" + rows + rb')|(?![A-Z]*[0-9]+"))'
    return re.compile(pattern), bottom


_LAST_CELL = re.compile(rb'<(?:[\w.-]+:)?c\s[^>]*?r="([A-Z]+)([0-9]+)"')


def _rare_cells(chunk: bytes, scan: Scan) -> None:
    """Record the chunk's error cells and formulas without a value."""
    for literal, pattern in _RARE:
        if literal in chunk:
            for hit in pattern.finditer(chunk):
                _rare_cell(chunk, hit, scan)


def _rare_cell(chunk: bytes, hit: re.Match[bytes], scan: Scan) -> None:
    """Record the error or uncalculated cell around a fast-path hit."""
    start = chunk.rfind(b"<c ", 0, hit.start() + 1)
    cell = _LAST_CELL.match(chunk, start) if start >= 0 else None
    if cell is None:
        return
    pos = (int(cell.group(2)) - 1, col_index(cell.group(1)))
    if hit.group().startswith(b" t="):
        close = chunk.find(b">", hit.end())
        if close > 0 and chunk[close - 1] == 0x2F:  # <c … t="e"/>: no value of its own
            value = None
        else:
            end = chunk.find(b"</c>", close)
            value = _ERROR_VALUE.search(chunk, close, end if end >= 0 else len(chunk))
        code = value.group(1).decode("utf-8", "replace").strip() if value else "#VALUE!"
        scan.errors[pos] = CellError(code or "#VALUE!")
    else:
        scan.errors[pos] = CellError(CellError.UNCALCULATED)


def _exact_scan(zf: zipfile.ZipFile, part: str) -> Scan:
    """Follow every row and cell as calamine does: a missing reference is the next position."""
    scan = Scan()
    row, col = -1, -1
    in_cell = False
    cell_pos = (0, 0)
    has_formula = has_value = is_error = False
    for chunk in _chunks(zf, part):
        for tag in _TAG.finditer(chunk):
            closing, name, attrs, empty = tag.groups()
            if name == b"row" and not closing:
                ref = _R_ATTR.search(attrs)
                row = int(ref.group(1)) - 1 if ref and ref.group(1).isdigit() else row + 1
                col = -1
            elif name == b"c" and not closing:
                ref = _R_ATTR.search(attrs)
                m = _REF.match(ref.group(1)) if ref else None
                if m:
                    row, col = int(m.group(2)) - 1, col_index(m.group(1).upper())
                else:
                    col += 1
                scan.add(max(row, 0), col)
                cell_pos = (max(row, 0), col)
                in_cell = not empty
                has_formula = has_value = False
                is_error = bool(_T_ERROR.search(attrs))
            elif name == b"f" and in_cell and not closing:
                has_formula = True
            elif name == b"v" and in_cell and not closing and not empty:
                has_value = True
                if is_error:
                    value = _ERROR_VALUE.match(chunk, tag.start())
                    code = value.group(1).decode("utf-8", "replace").strip() if value else ""
                    scan.errors[cell_pos] = CellError(code or "#VALUE!")
            elif name == b"c" and closing:
                if has_formula and not has_value:
                    scan.errors[cell_pos] = CellError(CellError.UNCALCULATED)
                in_cell = False
    return scan


# ---------------------------------------------------------------- ods

_ODS_TAG = re.compile(
    rb"<(/?)table:(table|table-row|table-cell|covered-table-cell)(?=[\s/>])([^>]*?)(/?)>"
)
_ODS_NAME = re.compile(rb'table:name="([^"]*)"')
_ROWS_REP = re.compile(rb'table:number-rows-repeated="([0-9]+)"')
_COLS_REP = re.compile(rb'table:number-columns-repeated="([0-9]+)"')
_HAS_VALUE = re.compile(rb"office:value-type=")


def ods_scan(zf: zipfile.ZipFile) -> list[Scan]:
    """The used range of each sheet of content.xml, in sheet order.

    A repeated row or cell counts only when it holds something (LibreOffice writes a million
    repeated empty rows at the end of every sheet; calamine skips those)."""
    scans: list[Scan] = []
    scan = Scan()
    row = 0
    col = 0
    row_rep = 1
    row_has: list[tuple[int, int]] = []
    first = True
    for chunk in _ods_chunks(zf):
        if first:
            check_xml_head(chunk[:4096], "content.xml")
            first = False
        pos = 0
        for tag in _ODS_TAG.finditer(chunk):
            closing, name, attrs, empty = tag.groups()
            if name == b"table" and not closing:
                named = _ODS_NAME.search(attrs)
                title = named.group(1).decode("utf-8", "replace") if named else ""
                scan, row = Scan(name=_xml_text(title)), 0
                scans.append(scan)
            elif name == b"table-row" and not closing:
                rep = _ROWS_REP.search(attrs)
                row_rep, col, row_has = (int(rep.group(1)) if rep else 1), 0, []
                if empty:
                    row += row_rep
            elif name == b"table-row" and closing:
                for left, right in row_has:
                    scan.add(row, left)
                    scan.add(row + row_rep - 1, right)
                row += row_rep
            elif name in (b"table-cell", b"covered-table-cell") and not closing:
                rep = _COLS_REP.search(attrs)
                n = int(rep.group(1)) if rep else 1
                holds = bool(_HAS_VALUE.search(attrs))
                if not holds and not empty:
                    end = chunk.find(b"table-cell>", tag.end())
                    inner = chunk[tag.end() : end if end >= 0 else len(chunk)]
                    holds = b"<text:" in inner
                if holds:
                    row_has.append((col, col + n - 1))
                    if b'calcext:value-type="error"' in attrs and not empty:
                        _ods_error(chunk, tag.end(), scan, row, col, n)
                col += n
            pos = tag.end()
        del pos
    return scans


_ODS_TEXT = re.compile(rb"<text:p[^>]*>([^<]*)</text:p>")


def _ods_error(chunk: bytes, at: int, scan: Scan, row: int, col: int, n: int) -> None:
    """An error cell of LibreOffice (its shown text is the code); calamine gives it empty."""
    shown = _ODS_TEXT.search(chunk, at, chunk.find(b"table-cell>", at) + 11)
    code = shown.group(1).decode("utf-8", "replace").strip() if shown else ""
    for c in range(col, col + min(n, 1024)):
        scan.errors[(row, c)] = CellError(code or "#VALUE!")


def _xml_text(text: str) -> str:
    from csat.intake.readers.package import _unescape

    return _unescape(text)


def _ods_chunks(zf: zipfile.ZipFile) -> Iterator[bytes]:
    return chunks_after(zf, "content.xml", b"</table:table-row>")


def chunks_after(zf: zipfile.ZipFile, part: str, end: bytes) -> Iterator[bytes]:
    """The part inflated a MiB at a time, in pieces that each end just after an `end` tag (a
    closed row), so no row is split between two pieces."""
    tail = b""
    with zf.open(part) as fh:
        while True:
            chunk = fh.read(_CHUNK)
            if not chunk:
                break
            data = tail + chunk if tail else chunk
            cut = data.rfind(end)
            if cut < 0:
                tail = data
                continue
            cut += len(end)
            yield data[:cut]
            tail = data[cut:]
    if tail:
        yield tail


# ---------------------------------------------------------------- xlsb

_BRT_ROW_HDR = 0x0000
_BRT_CELL_TYPES = frozenset(range(0x0001, 0x000C))  # BrtCellBlank .. BrtFmlaError
_BRT_BUNDLE_SH = 0x009C


def _records(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(record type, payload offset, payload length) of each record of an xlsb part."""
    pos, size = 0, len(data)
    while pos < size:
        kind = data[pos]
        pos += 1
        if kind & 0x80:
            if pos >= size:
                break
            kind = (kind & 0x7F) | ((data[pos] & 0x7F) << 7)
            pos += 1
        length, shift = 0, 0
        for _ in range(4):
            if pos >= size:
                break
            byte = data[pos]
            pos += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        yield kind, pos, min(length, size - pos)
        pos += length


def xlsb_sheet_parts(zf: zipfile.ZipFile, targets: dict[str, str]) -> dict[str, str]:
    """Sheet name -> part, from workbook.bin's BrtBundleSh records and the relationships."""
    data = zf.read("xl/workbook.bin")
    found = {}
    for kind, pos, length in _records(data):
        if kind != _BRT_BUNDLE_SH or length < 12:
            continue
        n = struct.unpack_from("<I", data, pos + 8)[0]
        if n == 0xFFFFFFFF or pos + 12 + 2 * n + 4 > pos + length:
            continue
        rel = data[pos + 12 : pos + 12 + 2 * n].decode("utf-16-le", "replace")
        at = pos + 12 + 2 * n
        m = struct.unpack_from("<I", data, at)[0]
        name = data[at + 4 : at + 4 + 2 * m].decode("utf-16-le", "replace")
        if rel in targets:
            found[name] = targets[rel]
    return found


def xlsb_scan(zf: zipfile.ZipFile, part: str) -> Scan:
    """Walk a binary sheet's records: BrtRowHdr gives the row, each cell record its column."""
    scan = Scan()
    data = zf.read(part)
    row = 0
    for kind, pos, length in _records(data):
        if kind == _BRT_ROW_HDR and length >= 4:
            row = struct.unpack_from("<I", data, pos)[0]
        elif kind in _BRT_CELL_TYPES and length >= 4:
            col = struct.unpack_from("<I", data, pos)[0]
            scan.add(row, col)
            if kind in (0x0003, 0x000B) and length >= 9:  # BrtCellError, BrtFmlaError
                scan.errors[(row, col)] = CellError(_BIFF_ERRORS.get(data[pos + 8], "#VALUE!"))
    return scan


# ---------------------------------------------------------------- xls (BIFF8)

_BIFF_CELLS = frozenset({0x0006, 0x00FD, 0x0203, 0x0204, 0x0205, 0x027E, 0x00D6, 0x0201})
_BIFF_MULTI = frozenset({0x00BD, 0x00BE})  # MULRK, MULBLANK: row, first col, ..., last col
_BIFF_ERRORS = {
    0x00: "#NULL!",
    0x07: "#DIV/0!",
    0x0F: "#VALUE!",
    0x17: "#REF!",
    0x1D: "#NAME?",
    0x24: "#NUM!",
    0x2A: "#N/A",
    0x2B: "#GETTING_DATA",
}


def xls_scan(stream: bytes) -> dict[str, Scan]:
    """Sheet name -> used range and error cells, from the BIFF8 Workbook stream."""
    sheets: list[tuple[str, int]] = []
    pos, size = 0, len(stream)
    while pos + 4 <= size:
        kind, length = struct.unpack_from("<HH", stream, pos)
        if kind == 0x0085 and length >= 8:  # BOUNDSHEET: where the sheet's records start
            offset = struct.unpack_from("<I", stream, pos + 4)[0]
            count, flags = stream[pos + 10], stream[pos + 11]
            raw = stream[pos + 12 : pos + 4 + length]
            name = (
                raw[: 2 * count].decode("utf-16-le", "replace")
                if flags & 1
                else (raw[:count].decode("latin-1"))
            )
            sheets.append((name, offset))
        elif kind == 0x000A:  # EOF of the globals
            break
        pos += 4 + length
    return {name: _xls_sheet(stream, offset) for name, offset in sheets}


def _xls_sheet(stream: bytes, pos: int) -> Scan:
    scan = Scan()
    size = len(stream)
    while pos + 4 <= size:
        kind, length = struct.unpack_from("<HH", stream, pos)
        body = pos + 4
        if kind in _BIFF_CELLS and length >= 6:
            row, col = struct.unpack_from("<HH", stream, body)
            scan.add(row, col)
            if kind == 0x0205 and length >= 8 and stream[body + 7] == 1:  # BOOLERR, an error
                scan.errors[(row, col)] = CellError(_BIFF_ERRORS.get(stream[body + 6], "#VALUE!"))
            elif kind == 0x0006 and length >= 14:  # FORMULA with an error result
                result = stream[body + 6 : body + 14]
                if result[6:8] == b"\xff\xff" and result[0] == 2:
                    scan.errors[(row, col)] = CellError(_BIFF_ERRORS.get(result[2], "#VALUE!"))
        elif kind in _BIFF_MULTI and length >= 6:
            row, first = struct.unpack_from("<HH", stream, body)
            last = struct.unpack_from("<H", stream, body + length - 2)[0]
            scan.add(row, first)
            scan.add(row, max(first, last))
        elif kind == 0x000A:  # EOF of this sheet
            break
        pos = body + length
    return scan
