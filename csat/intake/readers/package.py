"""Safety of zip-based workbooks (xlsx, xlsm, xlsb, ods) before any parser opens them.

The central directory is read once: every member's declared size and ratio is checked against
the limits (a zip bomb is refused before a byte is inflated). Which parser could expand an XML
entity? Measured: none of those that run. calamine's XML reader (quick-xml) never expands a DTD
entity (a billion-laughs sharedStrings.xml or styles.xml fails at once with "unrecognized
entity"), csat reads workbook.xml and the relationships with regular expressions, and the
custom properties with defusedxml, which refuses a DTD. The DTD check (Excel never writes one)
is kept where it costs nothing: on the parts csat reads anyway (workbook, relationships, each
worksheet while its used range is scanned, ods content.xml). Parts only calamine parses
(sharedStrings, styles) and parts nobody parses (themes, drawings, media) are not opened:
that is what keeps a small file cheap (tests/test_readers.py shows both kinds refused). The
two parts read here are read with one seek and one inflate each (`read_part`), their declared
size and CRC checked as zipfile would.
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import lru_cache

from csat.config import Limits
from csat.intake.readers.base import UnreadableWorkbook

_PROLOGUE_BYTES = 4096
_ROOT = re.compile(rb"<(?![?!])")


@dataclass
class Package:
    """An opened, checked package: the zip, the sheets' parts (xlsx/xlsb) and csat's marks."""

    zf: zipfile.ZipFile
    sheet_parts: dict[str, str] = field(default_factory=dict)  # sheet name -> member name
    marks: dict[str, str] = field(default_factory=dict)


def open_package(zf: zipfile.ZipFile, fmt: str, limits: Limits) -> Package:
    """Check an opened zip-based workbook; the caller closes `Package.zf`."""
    try:
        members = {m.filename: m for m in zf.infolist()}
        for m in members.values():
            check_member_size(m, limits)
        kind = "xlsx" if fmt in ("xlsx", "xlsm") else fmt
        pkg = Package(zf)
        if kind in ("xlsx", "xlsb"):
            pkg.sheet_parts = _sheet_parts(zf, members, kind)
        if "docProps/custom.xml" in members:
            with zf.open("docProps/custom.xml") as fh:
                pkg.marks = _csat_properties(fh.read(1 << 20))
        return pkg
    except UnreadableWorkbook:
        zf.close()
        raise
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, ValueError, zlib.error):
        zf.close()
        raise UnreadableWorkbook(
            "damaged or truncated file: it cannot be unpacked; ask for it to be sent again"
        ) from None


def check_member_size(m: zipfile.ZipInfo, limits: Limits) -> None:
    size, packed = m.file_size, max(m.compress_size, 1)
    if size > limits.max_member_bytes or (
        size > limits.ratio_applies_above_bytes and size / packed > limits.max_ratio
    ):
        raise UnreadableWorkbook(
            f"refused: part {m.filename} would inflate to {size:,} bytes from {packed:,} "
            "(a zip bomb or far beyond a survey's size)"
        )


def check_xml_head(head: bytes, name: str) -> None:
    """Refuse a part whose prologue (all before the root element) declares a DTD or entities.

    A DTD can only stand before the root element, so the prologue is all there is to check."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", "replace").encode("utf-8")
    root = _ROOT.search(head)
    prologue = head[: root.start()] if root else head
    upper = prologue.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise UnreadableWorkbook(
            f"refused: part {name} declares a DTD/entities, which Excel never writes"
        )
    if root is None and len(head) >= _PROLOGUE_BYTES:
        raise UnreadableWorkbook(
            f"refused: part {name} does not start like an Excel part (no root element in its "
            "first 4 KB)"
        )


def read_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A small part's bytes, as `zf.read` gives them (its declared size, its CRC checked), in
    half the time: one seek and read of the local header and the data, one inflate, without
    ZipExtFile's buffering (issue 12: a form's parts are read once each). Anything unusual
    (encrypted, another compression, a closed zip) goes through zipfile."""
    fp = zf.fp
    if fp is None or info.flag_bits & 0x1 or info.compress_type not in _RAW_METHODS:
        return zf.read(info)
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    name_len, extra_len = struct.unpack_from("<HH", header, 26)
    fp.seek(info.header_offset + 30 + name_len + extra_len)
    packed = fp.read(info.compress_size)
    if info.compress_type == zipfile.ZIP_STORED or info.file_size == 0:  # (0: no bound)
        data = packed[: info.file_size]
    else:
        # never more than the declared size, which check_member_size has bounded
        data = zlib.decompressobj(-15).decompress(packed, info.file_size)
    if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
        raise zipfile.BadZipFile(f"bad CRC or size for {info.filename}")
    return data


_RAW_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def _sheet_parts(
    zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], kind: str
) -> dict[str, str]:
    """Sheet name -> its part, from the workbook's relationships (xlsx; xlsb's rels are XML)."""
    rels_name = f"xl/_rels/workbook.{'xml' if kind == 'xlsx' else 'bin'}.rels"
    if rels_name not in members:
        return {}
    rels = read_part(zf, members[rels_name])
    targets = (_targets if len(rels) <= _PARSED_BYTES else _targets.__wrapped__)(rels, rels_name)
    if kind == "xlsx":
        xml = read_part(zf, members["xl/workbook.xml"])
        names = _sheet_names if len(xml) <= _PARSED_BYTES else _sheet_names.__wrapped__
        return dict(names(xml, targets))
    from csat.intake.readers.ranges import xlsb_sheet_parts

    return xlsb_sheet_parts(zf, dict(targets))


# The two parts' meaning by their bytes (issue 12): the forms one tool writes hold the same
# workbook.xml and relationships byte for byte, so each is checked and parsed once (what is
# remembered is immutable). A part that fails its check raises and is not remembered.
_PARSED_PARTS = 256
_PARSED_BYTES = 1 << 16  # larger parts are parsed every time, not held


@lru_cache(maxsize=_PARSED_PARTS)
def _targets(data: bytes, rels_name: str) -> tuple[tuple[str, str], ...]:
    """(relationship id, target part) of the workbook's relationships."""
    check_xml_head(data[:_PROLOGUE_BYTES], rels_name)
    targets: dict[str, str] = {}
    for tag in _RELATIONSHIP.finditer(data):
        attrs = dict(_ATTR.findall(tag.group()))
        target = _unescape(attrs.get(b"Target", b"").decode("utf-8", "replace"))
        path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        targets[attrs.get(b"Id", b"").decode("utf-8", "replace")] = posixpath.normpath(path)
    return tuple(targets.items())


_SHEET = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')


@lru_cache(maxsize=_PARSED_PARTS)
def _sheet_names(xml: bytes, targets: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """(sheet name, part) in the workbook's order, for these relationships."""
    check_xml_head(xml[:_PROLOGUE_BYTES], "xl/workbook.xml")
    by_id = dict(targets)
    found: dict[str, str] = {}
    for tag in _SHEET.finditer(xml):
        attrs = {k.split(b":")[-1]: v for k, v in _ATTR.findall(tag.group())}
        name = _unescape(attrs.get(b"name", b"").decode("utf-8", "replace"))
        part = by_id.get(attrs.get(b"id", b"").decode("ascii", "replace"))
        if part:
            found[name] = part
    return tuple(found.items())


def _unescape(text: str) -> str:
    if "&" not in text:
        return text
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'")):
        text = text.replace(entity, char)
    text = re.sub(r"&#x([0-9a-fA-F]+);", lambda m: chr(int(m.group(1), 16)), text)
    text = re.sub(r"&#([0-9]+);", lambda m: chr(int(m.group(1))), text)
    return text.replace("&amp;", "&")


def _csat_properties(xml: bytes) -> dict[str, str]:
    # Imported here: only csat's own forms and reports carry custom properties, and the XML
    # parser costs ~5 ms at start.
    from defusedxml import ElementTree as DefusedET

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
