"""Workbooks through python-calamine: xlsx, xlsm, xlsb, xls and ods, one reader for all.

calamine reads values an order of magnitude faster than openpyxl. A large xlsx/xlsm sheet is read
by readers.stream instead (calamine holds the whole sheet at once: 1.3 GiB for a full one), which
bounds the used range as it reads; a sheet it does not know falls back to calamine. For the
rest csat adds what calamine does not do: the package checks (readers.package), the used-range
bound before a sheet is loaded (readers.ranges), and error cells and formulas without a value,
which calamine reports as empty text (for xlsx/xlsm, from the scan of the sheet XML; for
xls/ods/xlsb calamine gives an error cell as empty too, see README "What csat reads").
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from python_calamine import CalamineWorkbook, PasswordError

from csat.config import Limits
from csat.intake.grid import CellError, Sheet
from csat.intake.readers import stream
from csat.intake.readers.base import SheetRefused, UnreadableWorkbook
from csat.intake.readers.package import Package, open_package
from csat.intake.readers.ranges import Scan, ods_scan, xls_scan, xlsb_scan, xlsx_scan
from csat.intake.readers.sniff import in_memory, ole_stream

_DAMAGED_ZIP = "damaged or truncated file: it cannot be unpacked; ask for it to be sent again"
_PASSWORD = (
    "password-protected: remove the password (File > Info > Protect Workbook) and save again"
)


def open_workbook(
    path: Path, fmt: str, limits: Limits, zf: zipfile.ZipFile | None = None
) -> tuple[dict[str, str], Iterator[Sheet | SheetRefused]]:
    """Check the file and return its csat marks and its sheets, read one at a time. `zf` is
    the zip of a zip-based format, opened by sniff_open (closed here)."""
    if zf is None and fmt != "xls":
        zf = zipfile.ZipFile(path)
    pkg = open_package(zf, fmt, limits) if zf is not None else None
    try:
        ods = ods_scan(pkg.zf) if pkg is not None and fmt == "ods" else None
    except (KeyError, zipfile.BadZipFile, EOFError, zlib.error):
        if pkg:
            pkg.zf.close()
        raise UnreadableWorkbook(_DAMAGED_ZIP) from None
    except UnreadableWorkbook:
        if pkg:
            pkg.zf.close()
        raise
    if pkg is not None and ods is not None:
        # calamine loads every sheet of an .ods when it opens it: bound them all first.
        refused = _ods_refused(ods, limits)
        if refused:
            pkg.zf.close()
            return pkg.marks, iter(refused)
    try:
        wb = _from_memory(pkg.zf, fmt) if pkg is not None else None
        if wb is None:
            wb = _calamine(path, fmt)
    except PasswordError:
        if pkg:
            pkg.zf.close()
        raise UnreadableWorkbook(_PASSWORD) from None
    except BaseException as exc:  # calamine raises its own error types for broken files
        if not calamine_failed(exc):
            raise
        if pkg:
            pkg.zf.close()
        raise UnreadableWorkbook(
            f"damaged file, it cannot be read as {fmt} ({_clean(exc)}): open it in Excel, "
            "save it again and import that file"
        ) from None
    return (pkg.marks if pkg else {}), _sheets(path, wb, pkg, fmt, limits, ods)


_SUFFIXES = {"xlsx": ".xlsx", "xlsm": ".xlsm", "xlsb": ".xlsb", "xls": ".xls", "ods": ".ods"}


def _calamine(path: Path, fmt: str) -> CalamineWorkbook:
    """calamine picks its reader by the file's extension, and opens a path only when it can
    name it in UTF-8: a file named otherwise (an .xls that is an xlsx, a GBK byte name) is
    handed over opened, and calamine tells the format from the content."""
    name = str(path)
    try:
        name.encode("utf-8")
        if path.suffix.lower() == _SUFFIXES[fmt] or (
            fmt == "xlsx" and path.suffix.lower() == ".xlsm"
        ):
            return CalamineWorkbook.from_path(name)
    except UnicodeEncodeError:
        pass
    with path.open("rb") as fh:
        return CalamineWorkbook.from_filelike(fh)


def _from_memory(zf: zipfile.ZipFile, fmt: str) -> CalamineWorkbook | None:
    """An xlsx/xlsm read whole by sniff_open, opened by calamine from those bytes (one read of
    the file instead of two); None when it is not, or when calamine fails on it: calamine then
    opens the path as before, so the message names the damage in its own words (from bytes,
    calamine tries each of its formats and says only that none fits)."""
    data = in_memory(zf) if fmt in ("xlsx", "xlsm") else None
    if data is None:
        return None
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except BaseException as exc:  # calamine's own error types; _calamine gives the message
        if not calamine_failed(exc):
            raise
        return None


def calamine_failed(exc: BaseException) -> bool:
    """An error of calamine's reading, or a panic inside it: pyo3 raises a Rust panic as
    PanicException, a BaseException (so `except Exception` lets it through as a traceback),
    e.g. for a duration-formatted -1e20. Ctrl-C and exits are not calamine's."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _ods_refused(scans: list[Scan], limits: Limits) -> list[SheetRefused]:
    """Every sheet refused when one is beyond the bound (calamine cannot load the others alone)."""
    far = [(scan, scan.beyond(limits.max_sheet_cells)) for scan in scans]
    culprits = [scan.name for scan, beyond in far if beyond]
    if not culprits:
        return []
    return [
        SheetRefused(scan.name, beyond[0], beyond[1])
        if beyond
        else SheetRefused(
            scan.name,
            None,
            f"not read: an .ods is read whole, and sheet '{culprits[0]}' is beyond the bound",
        )
        for scan, beyond in far
    ]


def _clean(exc: BaseException) -> str:
    """An error text for people and JSON: never a raw undecodable byte."""
    return str(exc).encode("utf-8", "replace").decode("utf-8")


def _xls_scans(path: Path, limits: Limits) -> dict[str, Scan] | None:
    stream = ole_stream(path, "Workbook", limits.max_member_bytes)
    return xls_scan(stream) if stream is not None else None


def _sheets(
    path: Path,
    wb: CalamineWorkbook,
    pkg: Package | None,
    fmt: str,
    limits: Limits,
    ods: list[Scan] | None,
) -> Iterator[Sheet | SheetRefused]:
    try:
        xls = _xls_scans(path, limits) if fmt == "xls" else None
        streamer = (
            _Streamer(pkg.zf, limits) if pkg is not None and fmt in ("xlsx", "xlsm") else None
        )
        for index, name in enumerate(wb.sheet_names):
            if streamer is not None and pkg is not None:
                got = _streamed(streamer, pkg, name, index, len(wb.sheet_names))
                if got is not None:
                    yield got
                    continue
            try:
                scan = _scan(pkg, fmt, name, index, ods, limits, xls, len(wb.sheet_names))
            except _Unchecked:
                yield SheetRefused(name, None, _UNCHECKED)
                continue
            if scan is not None:
                beyond = scan.beyond(limits.max_sheet_cells)
                if beyond:
                    yield SheetRefused(name, beyond[0], beyond[1])
                    continue
            try:
                sheet = wb.get_sheet_by_name(name)
                rows = sheet.to_python(skip_empty_area=True)
                first_row, first_col = sheet.start or (0, 0)
            except BaseException as exc:  # a damaged sheet part; the others may be fine
                if not calamine_failed(exc):
                    raise
                yield SheetRefused(name, None, _damaged(exc))
                continue
            if scan is not None and scan.errors:
                _overlay(rows, first_row, first_col, scan.errors)
            yield Sheet(name, rows, first_row, first_col)
    finally:
        wb.close()
        if pkg:
            pkg.zf.close()


def _scan(
    pkg: Package | None,
    fmt: str,
    name: str,
    index: int,
    ods: list[Scan] | None,
    limits: Limits,
    xls: dict[str, Scan] | None,
    count: int,
) -> Scan | None:
    """The sheet's scan (None where the format bounds it: xls without a readable stream);
    _Unchecked when an xlsx/xlsb sheet's part cannot be found, so it is not loaded unchecked."""
    if pkg is None:
        return xls.get(name) if xls is not None else None
    if ods is not None:
        return ods[index] if index < len(ods) else None
    part = pkg.sheet_parts.get(name)
    if part is None and len(pkg.sheet_parts) == count:  # the names differ in spelling only
        part = list(pkg.sheet_parts.values())[index]
    if part is None:
        raise _Unchecked
    try:
        if fmt == "xlsb":
            return xlsb_scan(pkg.zf, part)
        return xlsx_scan(pkg.zf, part, limits.max_sheet_cells)
    except (KeyError, zipfile.BadZipFile, EOFError, zlib.error):
        raise UnreadableWorkbook(
            "damaged or truncated file: it cannot be unpacked; ask for it to be sent again"
        ) from None


class _Streamer:
    """The workbook's shared strings and styles, read once for the sheets streamed."""

    def __init__(self, zf: zipfile.ZipFile, limits: Limits) -> None:
        self.zf, self.limits = zf, limits
        self._reader: stream.SheetReader | None = None
        self.off = False  # the workbook parts are not what the streamer reads: calamine

    def reader(self) -> stream.SheetReader | None:
        if self._reader is None and not self.off:
            try:
                self._reader = stream.SheetReader(
                    stream.shared_strings(self.zf),
                    stream.styles(self.zf),
                    stream.date1904(self.zf),
                    self.limits.max_sheet_cells,
                )
            except stream.Unsupported:
                self.off = True
        return self._reader


def _streamed(
    streamer: _Streamer, pkg: Package, name: str, index: int, count: int
) -> Sheet | SheetRefused | None:
    """The sheet read by the streaming reader; None when calamine is to read it (or a sheet
    beyond the bound is to be refused, naming its far cell as before)."""
    part = pkg.sheet_parts.get(name)
    if part is None and len(pkg.sheet_parts) == count:
        part = list(pkg.sheet_parts.values())[index]
    if part is None or part not in pkg.zf.NameToInfo:
        return None
    if pkg.zf.NameToInfo[part].file_size < stream.STREAM_ABOVE_BYTES:
        return None
    reader = streamer.reader()
    if reader is None:
        return None
    try:
        rows, top, left = reader.read(pkg.zf, part)
    except (stream.Unsupported, stream.Refused):
        return None  # beyond the bound: readers.ranges measures the whole range and says so
    except (KeyError, zipfile.BadZipFile, EOFError, zlib.error):
        return None  # calamine's reading words the damage as before
    return Sheet(name, cast(list[list[Any]], rows), top, left)


class _Unchecked(Exception):
    """A sheet whose part is not where the workbook's relationships say."""


_UNCHECKED = (
    "damaged sheet: its part cannot be found in the package, so its size cannot be checked; "
    "open the file in Excel, save it again and import that"
)


def _damaged(exc: BaseException) -> str:
    text = _clean(exc)
    if "shared string" in text.lower():
        return (
            "damaged sheet: a cell refers to a shared text the file does not hold; open the "
            "file in Excel, save it again and import that"
        )
    return f"damaged sheet, it cannot be read ({text}): open the file in Excel and save it again"


def _overlay(
    rows: list[list[Any]], top: int, left: int, errors: dict[tuple[int, int], CellError]
) -> None:
    """Put each error cell where calamine left an empty value."""
    width = max((len(r) for r in rows), default=0)
    for (row, col), error in errors.items():
        r, c = row - top, col - left
        if r < 0 or c < 0:
            continue
        while len(rows) <= r:
            rows.append([""] * width)
        line = rows[r]
        if len(line) <= c:
            line.extend([""] * (c + 1 - len(line)))
        line[c] = error
