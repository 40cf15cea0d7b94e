"""Comments read, not just listed: each comment tagged to the items it speaks about.

An item is spoken about when the comment contains one of its terms: its labels and header
aliases (config `items`) plus the keywords of config `comments.keywords`. Text is compared
normalised (NFKC, traditional -> simplified, case-folded). Chinese has no spaces, so a Chinese
term only counts on word boundaries found by jieba: 服务 matches 服务态度差 but not 服务器.
Latin terms count on word boundaries (`late` is not `translate`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from csat.config import Rules
from csat.spill import Spill
from csat.text import normalize

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SHORT, _SEEN = 200, 4096  # comments up to _SHORT characters are remembered, _SEEN of them


@dataclass(frozen=True, slots=True)  # a report holds one per comment
class TaggedComment:
    customer: str
    customer_code: str | None
    period: str
    total: float
    grade: str
    text: str
    items: tuple[str, ...]  # item keys the comment speaks about, in the rules' order
    dissatisfied: tuple[str, ...]  # items this customer rated at a flag level

    def __reduce__(self) -> tuple[type[TaggedComment], tuple[Any, ...]]:
        """Pickled as plain values (a report spills these): a slots dataclass pickles through
        dataclasses.fields(), several times slower."""
        return TaggedComment, (
            self.customer,
            self.customer_code,
            self.period,
            self.total,
            self.grade,
            self.text,
            self.items,
            self.dissatisfied,
        )


class CommentTagger:
    """Tags comments with items; jieba is loaded only when a comment holds Chinese."""

    def __init__(self, rules: Rules) -> None:
        self.items = list(rules.items)
        terms: dict[str, set[str]] = {k: set() for k in self.items}
        for key, item in rules.items.items():
            words = [*item.aliases, item.labels.zh, item.labels.en]
            words += rules.comments.keywords.get(key, [])
            terms[key] |= {normalize(w) for w in words if normalize(w)}
        self.han_terms = {k: sorted(t for t in v if _HAN.search(t)) for k, v in terms.items()}
        # one pattern an item: a term on word boundaries, any of its terms (the alternation
        # tries each term at each place, as searching for each term in turn would)
        self.latin: dict[str, re.Pattern[str] | None] = {}
        for k, v in terms.items():
            latin = "|".join(re.escape(t) for t in sorted(v) if not _HAN.search(t))
            self.latin[k] = re.compile(rf"(?<![a-z0-9])(?:{latin})(?![a-z0-9])") if latin else None
        self._seen: dict[str, tuple[str, ...]] = {}  # short comments repeat ("无", "good")

    @cached_property
    def _jieba(self) -> Any:
        import jieba

        # It logs loading its dictionary, and a traceback when it cannot cache it (a full
        # TMPDIR): neither is the user's business, the dictionary loads either way.
        jieba.setLogLevel(logging.CRITICAL)
        tokenizer = jieba.Tokenizer()
        for words in self.han_terms.values():
            for w in words:
                tokenizer.add_word(w, freq=100_000)  # keep our terms whole
        return tokenizer

    def close(self) -> None:
        """Drop jieba's dictionary (~60 MiB) once no more comments come."""
        self.__dict__.pop("_jieba", None)

    def _boundaries(self, text: str) -> set[int]:
        cuts, pos = {0}, 0
        for token in self._jieba.cut(text, HMM=False):
            pos += len(token)
            cuts.add(pos)
        return cuts

    def tag(self, text: str) -> tuple[str, ...]:
        """The item keys `text` speaks about, in the rules' item order."""
        found = self._seen.get(text)
        if found is None:
            found = self._tag(text)
            if len(text) <= _SHORT and len(self._seen) < _SEEN:
                self._seen[text] = found
        return found

    def _tag(self, text: str) -> tuple[str, ...]:
        # a comment is normalised once: normalize's own cache would keep every comment
        s = normalize.__wrapped__(text)
        found = []
        cuts: set[int] | None = None
        for key in self.items:
            latin = self.latin[key]
            if latin is not None and latin.search(s):
                found.append(key)
                continue
            for term in self.han_terms[key]:
                start = s.find(term)
                if start < 0:
                    continue
                if cuts is None:
                    cuts = self._boundaries(s)
                if _at_boundaries(s, term, cuts):
                    found.append(key)
                    break
        return tuple(found)


def _at_boundaries(s: str, term: str, cuts: set[int]) -> bool:
    start = s.find(term)
    while start >= 0:
        if start in cuts and start + len(term) in cuts:
            return True
        start = s.find(term, start + 1)
    return False


@dataclass(frozen=True)
class ItemComments:
    item: str
    comments: Collection[TaggedComment]  # a Spill: a report's comments wait on disk

    @property
    def count(self) -> int:
        return len(self.comments)


def by_item(comments: Iterable[TaggedComment], items: list[str]) -> list[ItemComments]:
    """Comments grouped per item (a comment about two items is in both), most-spoken-about
    item first; comments about no item come last under the key ''."""
    groups: dict[str, Spill[TaggedComment]] = {k: Spill() for k in [*items, ""]}
    for c in comments:
        for key in c.items or ("",):
            groups[key].append(c)
    order = sorted(items, key=lambda k: (-len(groups[k]), items.index(k)))
    return [ItemComments(k, groups[k]) for k in [*order, ""] if groups[k]]
