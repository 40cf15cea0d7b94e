"""What a file is, from its bytes: the name says what the sender meant, the bytes what it is.

Customers and platforms send HTML pages, e-mails and PDFs named .xls, and CSV saved as .xlsx;
each is refused with what it really is and what to do, before any parser sees it.
"""

from __future__ import annotations

import io
import os
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from csat.intake.readers.base import UnreadableWorkbook

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
_HEAD_BYTES = 8192
# A zip up to this size is read in one piece and unpacked from memory, calamine's read too
# (issue 12: a form is ~5 KB; one read instead of an open and a few seeks per part and parser).
WHOLE_BYTES = 1 << 20
_SAVE_AS = "open it in Excel (or WPS/LibreOffice) and save it as .xlsx, then import that file"
_PASSWORD = (
    "password-protected: remove the password (File > Info > Protect Workbook) and save again"
)


def sniff(path: Path) -> str:
    """The format of `path`: xlsx, xlsm, xlsb, ods, xls or text; raise UnreadableWorkbook with
    what the file really is when it is none of them."""
    fmt, zf = sniff_open(path)
    if zf is not None:
        zf.close()
    return fmt


def sniff_open(path: Path) -> tuple[str, zipfile.ZipFile | None]:
    """As sniff, with the zip of a zip-based workbook left open (its directory is read once);
    a small file's zip is over its bytes in memory (`in_memory`)."""
    with path.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        whole = 0 < size <= WHOLE_BYTES
        data = fh.read(size if whole else _HEAD_BYTES)  # (not more: read(n) allocates n)
    head = data[:_HEAD_BYTES]
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_format(path, data if whole else None)
    if head.startswith(OLE_MAGIC):
        return _ole_format(path), None
    what = _foreign(head)
    if what is not None:
        raise UnreadableWorkbook(what)
    if path.suffix.lower() in TEXT_SUFFIXES:
        return "text", None
    if head.startswith(b"PK"):
        raise UnreadableWorkbook(
            "damaged or truncated file: it cannot be unpacked; ask for it to be sent again"
        )
    if not head:
        raise UnreadableWorkbook("the file is empty (0 bytes): ask for it to be sent again")
    if _looks_like_text(head):
        raise UnreadableWorkbook(
            f"not an Excel workbook: the file is plain text (CSV or tab-separated?) named "
            f"{path.suffix or 'without an extension'}: rename it to .csv (or .txt for "
            "tab-separated) and import it again"
        )
    raise UnreadableWorkbook(
        "not a spreadsheet: the file is neither a workbook (.xlsx/.xls/.ods) nor text; "
        "ask for the survey to be sent again as .xlsx"
    )


def in_memory(zf: zipfile.ZipFile) -> bytes | None:
    """The whole file's bytes when sniff_open read it in one piece, else None."""
    fp = zf.fp
    return fp.getvalue() if isinstance(fp, io.BytesIO) else None


def _zip_format(path: Path, data: bytes | None) -> tuple[str, zipfile.ZipFile]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data) if data is not None else path)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise UnreadableWorkbook(
            "damaged or truncated file: it cannot be unpacked; ask for it to be sent again"
        ) from None
    try:
        return _zip_kind(path, zf), zf
    except BaseException:
        zf.close()
        raise


def _zip_kind(path: Path, zf: zipfile.ZipFile) -> str:
    names = zf.NameToInfo
    try:
        mimetype = zf.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error):
        raise UnreadableWorkbook(
            "damaged or truncated file: it cannot be unpacked; ask for it to be sent again"
        ) from None
    if "xl/workbook.xml" in names:
        macro = "xl/vbaProject.bin" in names or path.suffix.lower() == ".xlsm"
        return "xlsm" if macro else "xlsx"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
        return "ods"
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        kind = mimetype.decode("ascii", "replace").rsplit(".", 1)[-1]
        raise UnreadableWorkbook(
            f"not a spreadsheet: an OpenDocument {kind} document; put the survey in a "
            "spreadsheet (.ods/.xlsx) and import that"
        )
    if "content.xml" in names and not mimetype:
        return "ods"
    if "word/document.xml" in names:
        raise UnreadableWorkbook(
            "not a spreadsheet: a Word document (.docx); copy the answers into the survey "
            "workbook, or ask the customer for the Excel form"
        )
    if "ppt/presentation.xml" in names:
        raise UnreadableWorkbook("not a spreadsheet: a PowerPoint presentation (.pptx)")
    raise UnreadableWorkbook(
        "not an Excel workbook: a zip archive without a workbook inside (no xl/workbook.xml); "
        "unpack it and import the workbooks it holds"
    )


def _ole_format(path: Path) -> str:
    """An OLE (Compound File) container: a .xls, an encrypted OOXML package, a Word file …"""
    names = ole_stream_names(path)
    if "EncryptedPackage" in names:
        raise UnreadableWorkbook(f"{_PASSWORD}")
    if "Workbook" in names or "Book" in names:
        if _xls_has_filepass(path, names.get("Workbook") or names.get("Book")):
            raise UnreadableWorkbook(f"{_PASSWORD} (an encrypted .xls)")
        return "xls"
    if "WordDocument" in names:
        raise UnreadableWorkbook(
            "not a spreadsheet: a Word 97-2003 document (.doc); copy the answers into the "
            "survey workbook, or ask the customer for the Excel form"
        )
    if "PowerPoint Document" in names:
        raise UnreadableWorkbook("not a spreadsheet: a PowerPoint 97-2003 presentation (.ppt)")
    raise UnreadableWorkbook(
        "not a workbook: an Office container file holding no worksheet; " + _SAVE_AS
    )


def _foreign(head: bytes) -> str | None:
    """A reason when the bytes are a known non-spreadsheet format; None otherwise."""
    if head.startswith(b"%PDF"):
        return (
            "not a spreadsheet: a PDF document; csat cannot read ratings from a PDF: ask for "
            "the Excel form, or type the answers into one"
        )
    images = {
        b"\x89PNG": "PNG",
        b"\xff\xd8\xff": "JPEG",
        b"GIF8": "GIF",
        b"II*\x00": "TIFF",
        b"MM\x00*": "TIFF",
    }
    for magic, kind in images.items():
        if head.startswith(magic):
            return _image(kind)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return _image("WebP")
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return _image("HEIC")
    if head.startswith(b"{\\rtf"):
        return "not a spreadsheet: an RTF text document; " + _SAVE_AS
    text = _decode_head(head)
    if text is None:
        return None
    start = text.lstrip().lower()[:4096].replace("\r\n", "\n")
    if "urn:schemas-microsoft-com:office:spreadsheet" in start:
        return "an Excel 2003 XML Spreadsheet, a format csat does not read: " + _SAVE_AS
    if start.startswith("<") and ("<html" in start[:2048] or "<table" in start[:2048]):
        return (
            "not a real Excel file: it is a web page (HTML) named like a workbook, as 问卷星 "
            "and many ERP systems download it; " + _SAVE_AS + ", or download the real "
            "Excel/CSV export"
        )
    if start.startswith("<?xml"):
        return "not a spreadsheet: an XML file; " + _SAVE_AS
    block = start.split("\n\n", 1)[0].splitlines()[:40]
    if _MAIL_HEADER.match(start) and sum(bool(_MAIL_HEADER.match(line)) for line in block) >= 3:
        if "multipart/related" in start and "from:" not in start:
            return "a saved web page (MHTML archive), not a workbook: " + _SAVE_AS
        return (
            "not a spreadsheet: an e-mail message (.eml/MIME); open it and save the attached "
            "workbook, then import that file"
        )
    return None


_MAIL_HEADER = re.compile(
    r"(?:from|to|cc|subject|date|received|return-path|mime-version|message-id|content-type"
    r"|content-transfer-encoding|x-[a-z0-9-]+):[ \t]"
)


def _image(kind: str) -> str:
    return (
        f"not a spreadsheet: a {kind} image (a photo or scan of the form?); csat cannot read "
        "ratings from a picture: type them into the Excel form"
    )


def _decode_head(head: bytes) -> str | None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head[2:].decode("utf-16-le" if head[0] == 0xFF else "utf-16-be", "ignore")
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return head.decode("latin-1")


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return True
    return b"\x00" not in head and sum(b < 9 or 13 < b < 32 for b in head) == 0


# ---------------------------------------------------------------- OLE (Compound File Binary)


def ole_stream_names(path: Path) -> dict[str, int]:
    """The stream names of an OLE file's directory -> each stream's first sector."""
    return {name: start for name, (start, _) in _ole_directory(path)[0].items()}


def ole_stream(path: Path, name: str, limit: int) -> bytes | None:
    """The bytes of one stream of an OLE file (None when it is absent, small or too large)."""
    entries, fat, size = _ole_directory(path)
    if name not in entries or "Root Entry" not in entries:
        return None
    start, length = entries[name]
    if length > limit:
        return None
    with path.open("rb") as fh:
        if length >= 4096:
            return _chain(fh, start, length, fat, size)
        # A small stream lives in the mini stream (64-byte sectors inside the root's stream).
        header = fh.read(512)
        fh.seek(0)
        mini_fat_start, mini_fat_count = struct.unpack_from("<II", header, 0x3C)
        raw = _chain(fh, mini_fat_start, mini_fat_count * size, fat, size)
        mini_fat = list(struct.unpack_from(f"<{len(raw) // 4}I", raw))
        root_start, root_length = entries["Root Entry"]
        mini = _chain(fh, root_start, root_length, fat, size)
    parts, sector, hops = [], start, 0
    while sector < len(mini_fat) and hops * 64 < length + 64:
        parts.append(mini[sector * 64 : sector * 64 + 64])
        sector, hops = mini_fat[sector], hops + 1
    return b"".join(parts)[:length]


def _chain(fh: BinaryIO, start: int, length: int, fat: list[int], size: int) -> bytes:
    parts, sector, hops = [], start, 0
    while sector < 0xFFFFFFFA and sector < len(fat) and hops * size < length + size:
        parts.append(_sector(fh, sector, size))
        sector, hops = fat[sector], hops + 1
    return b"".join(parts)[:length]


def _ole_directory(path: Path) -> tuple[dict[str, tuple[int, int]], list[int], int]:
    """A minimal reader of the Compound File directory (MS-CFB): header, FAT from the header's
    109 DIFAT entries and its DIFAT chain, then the directory chain. Enough to tell an .xls
    from an encrypted xlsx or a Word file, and to read the .xls Workbook stream, without a
    dependency. Returns name -> (first sector, size), the FAT and the sector size."""
    with path.open("rb") as fh:
        header = fh.read(512)
        if len(header) < 512:
            raise UnreadableWorkbook("damaged or truncated file (Office container too short)")
        shift = struct.unpack_from("<H", header, 0x1E)[0]
        if shift not in (9, 12):
            raise UnreadableWorkbook("damaged file: not a valid Office container")
        size = 1 << shift
        first_dir = struct.unpack_from("<I", header, 0x30)[0]
        first_difat, n_difat = struct.unpack_from("<II", header, 0x44)
        fat_sectors = [s for s in struct.unpack_from("<109I", header, 0x4C) if s < 0xFFFFFFFA]
        difat, seen = first_difat, 0
        while difat < 0xFFFFFFFA and seen < n_difat and seen < 10_000:
            block = _sector(fh, difat, size)
            entries = struct.unpack_from(f"<{size // 4}I", block)
            fat_sectors += [s for s in entries[:-1] if s < 0xFFFFFFFA]
            difat, seen = entries[-1], seen + 1
        fat: list[int] = []
        for s in fat_sectors[:100_000]:
            fat.extend(struct.unpack_from(f"<{size // 4}I", _sector(fh, s, size)))
        names: dict[str, tuple[int, int]] = {}
        sector, hops = first_dir, 0
        while sector < 0xFFFFFFFA and hops < 100_000 and sector < len(fat):
            block = _sector(fh, sector, size)
            for off in range(0, size, 128):
                length = struct.unpack_from("<H", block, off + 64)[0]
                if 2 <= length <= 64:
                    name = block[off : off + length - 2].decode("utf-16-le", "replace")
                    start, stream_size = struct.unpack_from("<II", block, off + 116)
                    names[name] = (start, stream_size)
            sector, hops = fat[sector], hops + 1
        return names, fat, size


def _sector(fh: BinaryIO, index: int, size: int) -> bytes:
    fh.seek((index + 1) * size)
    block: bytes = fh.read(size)
    if len(block) < size:
        raise UnreadableWorkbook("damaged or truncated file: ask for it to be sent again")
    return block


def _xls_has_filepass(path: Path, first_sector: int | None) -> bool:
    """Whether the .xls Workbook stream starts with an encryption (FILEPASS) record.

    FILEPASS follows the first BOF record; the stream's first sector holds it (workbook streams
    are far larger than the 4 KB mini-stream cutoff, so they live in regular sectors)."""
    if first_sector is None:
        return False
    with path.open("rb") as fh:
        header = fh.read(512)
        size = 1 << struct.unpack_from("<H", header, 0x1E)[0]
        try:
            block = _sector(fh, first_sector, size)
        except UnreadableWorkbook:
            return False
    pos = 0
    for _ in range(16):
        if pos + 4 > len(block):
            return False
        kind, length = struct.unpack_from("<HH", block, pos)
        if kind == 0x002F:
            return True
        if kind in (0x0085, 0x00FC, 0x0042):  # BOUNDSHEET, SST, CODEPAGE: past the header
            return False
        pos += 4 + length
    return False
