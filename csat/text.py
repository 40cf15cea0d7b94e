"""Text matching shared by levels, headers and form labels (SPEC §2 "Text matching").

Matching is by normalised text: NFKC, traditional -> simplified, case-folded, whitespace tidied,
trailing colon dropped. Labels (headers) also lose a trailing bracketed note.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

_t2s: Any = None  # OpenCC's converter, loaded at the first non-ASCII text (~5 ms at start)
# A space next to a CJK character (either side) is dropped; between Latin words it stays.
_CJK = r"\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_SPACE_BY_CJK = re.compile(rf"(?<=[{_CJK}]) | (?=[{_CJK}])")
_TRAILING_NOTE = re.compile(r"\s*[(\[【〔][^()\[\]【】〔〕]*[)\]】〕]$")


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """Normalise free text for comparison (customer names, levels, marks).

    Called for every reply's name and code when recording (200k calls for 100k replies, few
    repeated), so it takes short ways to the same text: ASCII is its own NFKC form and
    casefolds as it lowercases; whitespace runs become one space by split and join (str.split
    splits where the regex `\\s+` would: on str.isspace); the CJK rule only removes spaces, so
    it runs only where one is left. tests/test_text.py compares it with the plain steps."""
    if text.isascii():
        s = " ".join(text.lower().split())
    else:
        s = unicodedata.normalize("NFKC", text)
        if not s.isascii():
            s = _to_simplified(s)
        s = " ".join(s.casefold().split())
        if " " in s:
            s = _SPACE_BY_CJK.sub("", s)
    if s.endswith(":"):
        s = s[:-1].rstrip()
    return s


@lru_cache(maxsize=65536)
def normalize_label(text: str) -> str:
    """Normalise a header or form label: as `normalize`, plus a trailing bracketed note goes
    (`产品质量(25%)` is 产品质量) and a colon before or after that note."""
    s = normalize(text)
    while True:
        stripped = _TRAILING_NOTE.sub("", s).rstrip()
        if stripped.endswith(":"):
            stripped = stripped[:-1].rstrip()
        if stripped == s or not stripped:
            return s
        s = stripped


def _to_simplified(text: str) -> str:
    """Traditional -> simplified. OpenCC is loaded on first use, so a command that compares
    no Chinese text (`csat --help`, an English table) never loads it."""
    global _t2s
    if _t2s is None:
        import opencc

        _t2s = opencc.OpenCC("t2s")
    result: str = _t2s.convert(text)
    return result
