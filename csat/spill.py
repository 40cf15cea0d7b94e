"""Rows a report keeps for its end sheets, kept in a temporary file instead of in memory.

A report reads every response once and writes the flags and topics sheets only at the end,
when the CAPAs are known: holding their rows (a flagged reply, a comment) as objects costs a
few hundred bytes each, so 100,000 customers would hold tens of MiB. A Spill pickles them a
block at a time into an anonymous temporary file and gives them back in the order they came.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from typing import IO, Generic, TypeVar

T = TypeVar("T")
BLOCK = 1024  # items pickled together: a block's objects are all a Spill holds in memory


class Spill(Generic[T]):
    """An append-only sequence of picklable items, iterated as many times as needed."""

    def __init__(self, items: list[T] | None = None) -> None:
        self._file: IO[bytes] | None = None
        self._blocks = 0  # blocks in the file
        self._tail: list[T] = []
        self._count = 0
        for item in items or ():
            self.append(item)

    def append(self, item: T) -> None:
        self._tail.append(item)
        self._count += 1
        if len(self._tail) >= BLOCK:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="csat-")  # gone when closed
            self._file.seek(0, 2)
            pickle.dump(self._tail, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._blocks += 1
            self._tail = []

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self) -> Iterator[T]:
        if self._file is not None:
            self._file.seek(0)
            for _ in range(self._blocks):
                block: list[T] = pickle.load(self._file)
                yield from block
        yield from list(self._tail)

    def __contains__(self, item: object) -> bool:
        return any(x == item for x in self)

    def close(self) -> None:
        """Delete the file (also done when the Spill is collected)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._blocks, self._tail, self._count = 0, [], 0
