"""Workbooks through python-calamine: xlsx, xlsm, xlsb, xls and ods, one reader for all.

calamine reads values an order of magnitude faster than openpyxl; csat adds what it does not
do: the package checks (readers.package), the used-range bound before a sheet is loaded
(readers.ranges), and error cells and formulas without a value, which calamine reports as
empty text (for xlsx/xlsm, from the scan of the sheet XML; for xls/ods/xlsb calamine gives
an error cell as empty too, see README "What csat reads").
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook, PasswordError

from csat.config import Limits
from csat.intake.grid import CellError, Sheet
from csat.intake.readers.base import SheetRefused, UnreadableWorkbook
from csat.intake.readers.package import Package, open_package
from csat.intake.readers.ranges import Scan, ods_scan, xlsb_scan, xlsx_scan

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
        wb = _calamine(path)
    except PasswordError:
        if pkg:
            pkg.zf.close()
        raise UnreadableWorkbook(_PASSWORD) from None
    except Exception as exc:  # calamine raises its own error types for broken files
        if pkg:
            pkg.zf.close()
        raise UnreadableWorkbook(
            f"damaged file, it cannot be read as {fmt} ({_clean(exc)}): open it in Excel, "
            "save it again and import that file"
        ) from None
    return (pkg.marks if pkg else {}), _sheets(wb, pkg, fmt, limits)


def _calamine(path: Path) -> CalamineWorkbook:
    """calamine opens a path it can name in UTF-8; a byte name (GBK) is handed over opened."""
    name = str(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        with path.open("rb") as fh:
            return CalamineWorkbook.from_filelike(fh)
    return CalamineWorkbook.from_path(name)


def _clean(exc: Exception) -> str:
    """An error text for people and JSON: never a raw undecodable byte."""
    return str(exc).encode("utf-8", "replace").decode("utf-8")


def _sheets(
    wb: CalamineWorkbook, pkg: Package | None, fmt: str, limits: Limits
) -> Iterator[Sheet | SheetRefused]:
    try:
        ods = ods_scan(pkg.zf) if pkg and fmt == "ods" else None
        for index, name in enumerate(wb.sheet_names):
            scan = _scan(pkg, fmt, name, index, ods, limits)
            if scan is not None:
                beyond = scan.beyond(limits.max_sheet_cells)
                if beyond:
                    yield SheetRefused(name, beyond[0], beyond[1])
                    continue
            try:
                sheet = wb.get_sheet_by_name(name)
                rows = sheet.to_python(skip_empty_area=True)
                first_row, first_col = sheet.start or (0, 0)
            except Exception as exc:  # a damaged sheet part; the others may be fine
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
    pkg: Package | None, fmt: str, name: str, index: int, ods: list[Scan] | None, limits: Limits
) -> Scan | None:
    if pkg is None:
        return None  # xls: bounded by the format itself
    if ods is not None:
        return ods[index] if index < len(ods) else None
    part = pkg.sheet_parts.get(name)
    if part is None:
        return None
    try:
        if fmt == "xlsb":
            return xlsb_scan(pkg.zf, part)
        return xlsx_scan(pkg.zf, part, limits.max_sheet_cells)
    except (KeyError, zipfile.BadZipFile, EOFError):
        raise UnreadableWorkbook(
            "damaged or truncated file: it cannot be unpacked; ask for it to be sent again"
        ) from None


def _damaged(exc: Exception) -> str:
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
