"""Text tables: .csv, .tsv, .txt as Excel, WPS and the survey platforms save them.

The encoding is decided in this order: a byte-order mark (UTF-8 with BOM; UTF-16LE/BE, which is
Excel's "Unicode Text"), then strict UTF-8, then charset-normalizer among the legacy code pages
customers' Excel writes (GB18030/GBK from Chinese Windows, Big5, Shift-JIS, cp1252 …). The
separator is chosen among `,` `;` and tab from the first lines. Cells stay text: the layouts
read numbers and dates from text anyway, and a CSV says nothing about types.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from csat.config import Limits
from csat.intake.files import shown_name
from csat.intake.grid import Sheet
from csat.intake.readers.base import UnreadableWorkbook

_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32LE"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32BE"),
    (b"\xef\xbb\xbf", "utf-8-sig", "UTF-8 (BOM)"),
    (b"\xff\xfe", "utf-16-le", "UTF-16LE"),
    (b"\xfe\xff", "utf-16-be", "UTF-16BE"),
)
# The legacy code pages a customer's Excel "Save as CSV" writes, by the Windows locale.
# Only these: with more candidates, short texts are taken for a neighbouring code page
# (French cp1252 read as Central European cp1250 turns "Très" into "Trčs").
_LEGACY = ["gb18030", "big5", "shift_jis", "cp1252"]
_DELIMITERS = ",;\t"
_SAMPLE_LINES = 50


def read_text(path: Path, limits: Limits) -> tuple[Sheet, str, str]:
    """The file's one sheet (named after the file), the encoding used and the separator."""
    size = path.stat().st_size
    if size > limits.max_text_bytes:
        raise UnreadableWorkbook(
            f"refused: the text file is {size:,} bytes, beyond the bound of "
            f"{limits.max_text_bytes:,} (limits.max_text_bytes)"
        )
    with path.open("rb") as fh:
        data = fh.read(limits.max_text_bytes + 1)
    text, encoding = decode(data)
    delimiter = _delimiter(text, path.suffix.lower())
    try:
        rows = [
            [cell if cell != "" else None for cell in row]
            for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        ]
    except csv.Error as exc:
        raise UnreadableWorkbook(
            f"the text cannot be read as a table ({exc}): open it in Excel and save it as "
            ".xlsx or as CSV again"
        ) from None
    while rows and not any(rows[-1]):
        rows.pop()
    return Sheet(shown_name(path.stem), rows, 0, 0), encoding, delimiter


def decode(data: bytes) -> tuple[str, str]:
    """The text and the name of the encoding it was read in; UnreadableWorkbook if none fits."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec).lstrip("\ufeff"), label
            except UnicodeDecodeError as exc:
                raise UnreadableWorkbook(
                    _undecodable(f"{label} (its byte-order mark)", exc)
                ) from None
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as exc:
        first_error = exc
    if b"\x00" in data[:4096]:
        raise UnreadableWorkbook(
            "not a text table: the file holds binary data (NUL bytes); ask for the survey as "
            ".xlsx or CSV"
        )
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=_LEGACY).best()
    if best is None:
        raise UnreadableWorkbook(_undecodable("UTF-8 or a known code page", first_error))
    codec = "gb18030" if best.encoding in ("gb2312", "gbk", "gb18030") else best.encoding
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise UnreadableWorkbook(_undecodable(codec, exc)) from None
    return text, _LABELS.get(codec, codec)


_LABELS = {"gb18030": "GB18030 (GBK)", "big5": "Big5", "cp1252": "Windows-1252"}


def _undecodable(tried: str, exc: UnicodeDecodeError) -> str:
    return (
        f"the text cannot be decoded as {tried} (byte {exc.start:,}): save it again from "
        "Excel as 'CSV UTF-8' or as .xlsx"
    )


def _delimiter(text: str, suffix: str) -> str:
    """`,` `;` or tab: the one that splits the first lines into the same number of cells."""
    lines = [line for line in text.splitlines()[:_SAMPLE_LINES] if line.strip()]
    if not lines:
        return "\t" if suffix in (".tsv", ".txt") else ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=_DELIMITERS).delimiter
    except csv.Error:
        pass
    best, best_score = "\t" if suffix in (".tsv", ".txt") else ",", 0
    for d in _DELIMITERS:
        counts = [len(next(csv.reader([line], delimiter=d))) for line in lines]
        score = min(counts) if counts and min(counts) > 1 else 0
        if score > best_score:
            best, best_score = d, score
    return best
