"""Header text -> what a column holds (SPEC §3 table layout), on principles, not platforms.

A header may be a short label (产品质量), a whole question (`2、您对我司产品质量的满意度`), a
platform's matrix row (`Q5 … [Product quality]`, `Question - Product quality`,
`5、题干(矩阵单选题 *必答)—产品质量`) or a band of several header rows (tags, question text, row
labels, import ids). Numbering prefixes and type tags are split off, row labels are tried first,
and an item matches when exactly one item's alias is contained in the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from csat.config import Rules
from csat.text import normalize, normalize_label

# `2、` `Q3.` `3.` `(4)` `第5题` `Q2_1:` at the start of a question header.
_NUMBERING = re.compile(
    r"^(?:q\d+(?:[_.]\d+)*\s*[.:、)]?|\d+(?:\.\d+)*\s*[、.:)]|\(\d+\)|第\d+题\s*[:、.]?)\s*"
)
_ROW_BRACKET = re.compile(r"^(.*?)\s*\[([^\[\]]+)\]\s*$")
_ROW_DASH = re.compile(r"^(.*\S)\s*(?:—+|--+|–)\s*(\S.*)$")
_ROW_HYPHEN = re.compile(r"^(.*\S)\s+-\s+(\S.*)$")
_TRAILING_PUNCT = re.compile(r"[?？。.!！]+$")
# A field alias this long (or of two words) may be found inside a longer question header.
_CONTAINED_FIELD_MIN = 4
# Longer texts are instructions or notes, not questions: nothing is looked for inside them.
_QUESTION_MAX = 80
_CONTAINABLE_FIELDS = frozenset({"customer", "comments", "customer_code", "recommend"})
# Found inside a question before any item is: "How likely are you to recommend our service?"
# asks for a recommendation, not a service rating.
_FIRST_FIELDS = frozenset({"recommend"})
_CACHE_MAX = 65536  # texts (and bands) remembered per matcher
_LABEL_MAX = 300  # longer texts are no header or label (HeaderMatcher.text) and not cached


@dataclass(frozen=True, slots=True)
class HeaderMatch:
    """What a header became: kind is item, field, ignored or none; `why` says how."""

    kind: str
    name: str | None
    why: str


NOTHING = HeaderMatch("none", None, "matches no item or field")
_NO_NAMES: frozenset[str] = frozenset()
_UNSEEN = ("", "")  # not in the form labels' cache yet (None is a cached answer)


def _clean(text: str) -> str:
    """Normalised label without numbering prefix, trailing notes or question marks."""
    s = normalize(text)
    s = _NUMBERING.sub("", s, count=1)
    s = _TRAILING_PUNCT.sub("", s).strip()
    return normalize_label(s) if s else ""


def _pieces(text: str) -> list[tuple[str, str]]:
    """(text, what it is) to try, most specific first: a row label, then the whole question."""
    s = normalize(text)
    s = _NUMBERING.sub("", s, count=1)
    out: list[tuple[str, str]] = []
    for pattern in (_ROW_BRACKET, _ROW_DASH, _ROW_HYPHEN):
        m = pattern.match(s)
        if m and m.group(2).strip():
            out.append((_clean(m.group(2)), "row label"))
            out.append((_clean(m.group(1)), "question"))
            break
    out.append((_clean(s), "header"))
    return [(t, w) for t, w in out if t]


class HeaderMatcher:
    """Header matching under one set of rules; results are cached per header text."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._exact: dict[str, tuple[str, str]] = {}
        for alias, name in rules.field_by_alias.items():
            self._exact[alias] = ("ignored" if name == "ignore" else "field", name)
        for alias, key in rules.item_by_alias.items():
            self._exact.setdefault(alias, ("item", key))
        self._items: list[tuple[str, str, re.Pattern[str] | None]] = [
            (alias, key, re.compile(rf"\b{re.escape(alias)}\b") if alias.isascii() else None)
            for alias, key in rules.item_by_alias.items()
        ]
        self._fields = [
            (alias, name)
            for alias, name in rules.field_by_alias.items()
            if name in _CONTAINABLE_FIELDS
            and (len(alias) >= _CONTAINED_FIELD_MIN if not alias.isascii() else " " in alias)
        ]
        self._first_fields = [(a, n) for a, n in self._fields if n in _FIRST_FIELDS]
        self._cache: dict[str, HeaderMatch] = {}
        self._bands: dict[tuple[str, ...], HeaderMatch] = {}
        self._labels: dict[str, tuple[str, str] | None] = {}

    def text(self, text: str) -> HeaderMatch:
        """One header or label text (产品质量, `1、您对产品质量的满意度`, 客户名称：)."""
        if len(text) > _LABEL_MAX:
            return NOTHING
        got = self._cache.get(text)
        if got is None:
            if len(self._cache) >= _CACHE_MAX:  # a name on every one of many forms
                self._cache.clear()
            got = self._cache[text] = self._match(text)
        return got

    def row_names(self, row: Iterable[Any]) -> tuple[bool, frozenset[str]]:
        """Whether a cell of the row (stripped, as a band column takes it) names the customer
        field, and the items its cells name. The table search's quick test (issue 12): a
        column's match is always one of its cells', so a band whose rows name no customer
        or fewer than two items is no header, whatever its columns."""
        customer = False
        items: set[str] | None = None
        cache = self._cache
        for v in row:
            if v and isinstance(v, str) and (t := v.strip()):
                got = cache.get(t) or self.text(t)
                if got.name is None:
                    continue
                if got.kind == "item":
                    if items is None:
                        items = set()
                    items.add(got.name)
                elif got.kind == "field" and got.name == "customer":
                    customer = True
        # most rows name no item: one shared empty set, not a new one per row
        return customer, frozenset(items) if items else _NO_NAMES

    def form_label(self, value: str) -> tuple[str, str] | None:
        """What a form's cell names: ("field", name) for a field's label, also when it holds
        its value after a colon (`客户名称：东莞精密`), ("item", key) for an item's, None for
        anything else. Cached per cell text: the form search asks it of every text cell
        (issue 12), and the forms of one survey share all their labels."""
        if len(value) > _LABEL_MAX:  # a comment, not a label: not held
            return self._form_label(value)
        got = self._labels.get(value, _UNSEEN)
        if got is _UNSEEN:
            if len(self._labels) >= _CACHE_MAX:
                self._labels.clear()
            got = self._labels[value] = self._form_label(value)
        return got

    def _form_label(self, value: str) -> tuple[str, str] | None:
        if not value.strip():
            return None
        got = self.text(value)
        if got.name is not None and got.kind in ("field", "item"):
            return got.kind, got.name
        for sep in (":", "："):
            if sep in value:
                before = self.text(value.split(sep, 1)[0])
                return ("field", before.name) if before.kind == "field" and before.name else None
        return None

    def band(self, parts: tuple[str, ...]) -> HeaderMatch:
        """A column headed by a band of texts, top row first. The lowest part that means
        something decides (a matrix row label beats its question text). Cached: the header
        search tries each of a sheet's first rows as a band (issue 12)."""
        got = self._bands.get(parts)
        if got is None:
            if len(self._bands) >= _CACHE_MAX:
                self._bands.clear()
            got = self._bands[parts] = self._band(parts)
        return got

    def _band(self, parts: tuple[str, ...]) -> HeaderMatch:
        fallback = NOTHING
        for part in reversed(parts):
            got = self.text(part)
            if got.kind in ("item", "field"):
                return got
            if got.kind == "ignored" or (got.why != NOTHING.why and fallback is NOTHING):
                fallback = got
        return fallback

    def _match(self, text: str) -> HeaderMatch:
        rules = self.rules
        pieces = _pieces(text)
        for piece, what in pieces:
            hit = self._exact.get(piece)
            if hit is not None:
                kind, name = hit
                return HeaderMatch(kind, name, f"{what} '{piece}'")
            if len(piece) > _QUESTION_MAX:
                continue
            for alias, name in self._first_fields:
                if alias in piece:
                    return HeaderMatch("field", name, f"{what} contains '{alias}'")
            # `alias in piece` first: a whole-word match needs the substring, and the test
            # is ten times cheaper than the regular expression (most texts name no item)
            contained = {
                key
                for alias, key, word in self._items
                if alias in piece and (word is None or word.search(piece))
            }
            if len(contained) == 1:
                key = contained.pop()
                return HeaderMatch("item", key, f"{what} contains {rules.items[key].labels.zh}")
            if len(contained) > 1:
                names = " and ".join(sorted(rules.items[k].labels.zh for k in contained))
                return HeaderMatch("none", None, f"names several items ({names})")
        for piece, what in pieces:
            if len(piece) > _QUESTION_MAX:
                continue
            for alias, name in self._fields:
                if alias in piece:
                    return HeaderMatch("field", name, f"{what} contains '{alias}'")
        return NOTHING


_MATCHERS: dict[int, HeaderMatcher] = {}


def matcher_for(rules: Rules) -> HeaderMatcher:
    """The (cached) matcher of these rules: built once per Rules object."""
    got = _MATCHERS.get(id(rules))
    if got is None or got.rules is not rules:
        if len(_MATCHERS) > 16:
            _MATCHERS.clear()
        got = _MATCHERS[id(rules)] = HeaderMatcher(rules)
    return got
