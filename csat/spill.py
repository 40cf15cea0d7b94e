"""Rows a report keeps, kept in a temporary file instead of in memory.

A report reads every response once and writes the flags and topics sheets only at the end,
when the CAPAs are known, and shows its CAPAs three times over (the flags sheet, the register
sheet, the CAPA forms): holding them as objects costs a few hundred bytes each, so 100,000
customers would hold tens of MiB. A Spill pickles them a block at a time into an anonymous
temporary file and reads a block back when an item of it is asked for, so it holds one block
of objects whatever its length. Items come back in the order they came, by iteration or by
position; iterators and look-ups may be interleaved (each block is read with its own seek).
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, TypeVar, overload

T = TypeVar("T")
BLOCK = 256  # items pickled together: small enough that a look-up out of order stays cheap


class Spill(Sequence[T]):
    """An append-only sequence of picklable items, held on disk but for the block being filled
    and the last block read."""

    def __init__(self, items: Iterable[T] = ()) -> None:
        self._file: IO[bytes] | None = None
        self._blocks: list[tuple[int, int]] = []  # (offset, length) of each block in the file
        self._tail: list[T] = []
        self._read: tuple[int, list[T]] = (-1, [])  # the last block read, by number
        self._count = 0
        for item in items:
            self.append(item)

    def append(self, item: T) -> None:
        self._tail.append(item)
        self._count += 1
        if len(self._tail) >= BLOCK:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="csat-")  # gone when closed
            data = pickle.dumps(self._tail, protocol=pickle.HIGHEST_PROTOCOL)
            offset = self._file.seek(0, 2)
            self._file.write(data)
            self._blocks.append((offset, len(data)))
            self._tail = []

    def _block(self, number: int) -> list[T]:
        if number == len(self._blocks):
            return self._tail
        if self._read[0] != number:
            assert self._file is not None
            offset, length = self._blocks[number]
            self._file.seek(offset)
            self._read = (number, pickle.loads(self._file.read(length)))
        return self._read[1]

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError("Spill index out of range")
        number, place = divmod(index, BLOCK)
        if number == self._read[0]:
            return self._read[1][place]
        return self._block(number)[place]

    def __iter__(self) -> Iterator[T]:
        for number in range(len(self._blocks)):
            yield from self._block(number)
        yield from list(self._tail)

    def close(self) -> None:
        """Delete the file (also done when the Spill is collected)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._blocks, self._tail, self._read, self._count = [], [], (-1, []), 0
