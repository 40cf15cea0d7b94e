"""Opening returned workbooks safely and reading their cell values.

Before any XML is parsed, every zip member is checked: its declared size and ratio against the
configured limits, and no DTD (so no entity can ever be expanded). Values are then read with
python-calamine, which is an order of magnitude faster than openpyxl for reading.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

from defusedxml import ElementTree as DefusedET
from python_calamine import CalamineWorkbook

from csat.config import Limits
from csat.intake.grid import Sheet

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PROLOGUE_BYTES = 4096


class UnreadableWorkbook(Exception):
    """The file as a whole cannot be read; the message is the reason shown to the user."""


def check_workbook(path: Path, limits: Limits) -> dict[str, str]:
    """Raise UnreadableWorkbook when `path` is not a safe, readable xlsx/xlsm file; return the
    workbook's csat-* custom properties (csat marks its reports and its survey forms)."""
    with path.open("rb") as fh:
        head = fh.read(8)
    if head == _OLE_MAGIC:
        with path.open("rb") as fh:
            encrypted = b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00" in fh.read(1 << 20)
        if encrypted:
            raise UnreadableWorkbook(
                "password-protected workbook: remove the password (File > Info > Protect "
                "Workbook) and save again"
            )
        raise UnreadableWorkbook("old Excel 97-2003 (.xls) format: open it and save as .xlsx")
    if not head.startswith(b"PK"):
        raise UnreadableWorkbook(
            "not an Excel workbook (.xlsx/.xlsm): the file is not a zip package"
        )
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
            if not any(m.filename == "xl/workbook.xml" for m in members):
                raise UnreadableWorkbook(
                    "not an Excel workbook: the package has no xl/workbook.xml"
                )
            for m in members:
                _check_member(zf, m, limits)
            if "docProps/custom.xml" not in zf.namelist():
                return {}
            with zf.open("docProps/custom.xml") as fh:
                return _csat_properties(fh.read(1 << 20))
    except zipfile.BadZipFile:
        raise UnreadableWorkbook(
            "damaged or truncated file: it cannot be unpacked; ask for it to be sent again"
        ) from None


def _check_member(zf: zipfile.ZipFile, m: zipfile.ZipInfo, limits: Limits) -> None:
    size, packed = m.file_size, max(m.compress_size, 1)
    if size > limits.max_member_bytes or (
        size > limits.ratio_applies_above_bytes and size / packed > limits.max_ratio
    ):
        raise UnreadableWorkbook(
            f"refused: part {m.filename} would inflate to {size:,} bytes from {packed:,} "
            "(a zip bomb or far beyond a survey's size)"
        )
    if m.filename.endswith((".xml", ".rels", ".vml")):
        with zf.open(m) as fh:
            prologue = fh.read(_PROLOGUE_BYTES)
        if b"<!DOCTYPE" in prologue.upper() or b"<!ENTITY" in prologue.upper():
            raise UnreadableWorkbook(
                f"refused: part {m.filename} declares a DTD/entities, which Excel never writes"
            )


def _csat_properties(xml: bytes) -> dict[str, str]:
    try:
        root = DefusedET.fromstring(xml)
    except Exception:  # a damaged properties part is not our business: no csat marks
        return {}
    found = {}
    for prop in root:
        name = prop.get("name", "")
        if name.startswith("csat-") and len(prop):
            found[name] = (prop[0].text or "").strip()
    return found


def read_sheets(path: Path) -> Iterator[Sheet]:
    """Yield each sheet's values; call check_workbook first."""
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for broken packages
        raise UnreadableWorkbook(f"cannot be read as a workbook: {exc}") from None
    try:
        for name in wb.sheet_names:
            try:
                sheet = wb.get_sheet_by_name(name)
                rows = sheet.to_python(skip_empty_area=True)
                first_row, first_col = sheet.start or (0, 0)
            except Exception as exc:  # a damaged sheet part
                raise UnreadableWorkbook(f"sheet '{name}' cannot be read: {exc}") from None
            yield Sheet(name, rows, first_row, first_col)
    finally:
        wb.close()
