"""Finding the input files: the paths given, and folders searched recursively.

Only regular files are ever opened: a named pipe or a link to a device named like a workbook
would block or never end, so it is skipped with a reason. Symlinked folders are followed once
(a loop is noticed by the folder's device and inode). File names are bytes on Linux: a name
that is not UTF-8 (a zip unpacked from Chinese Windows holds GBK names) is opened by its real
bytes and shown decoded as GB18030 when that fits, else with replacement characters, so every
message and the JSON stay valid UTF-8.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from csat.errors import UsageError
from csat.models import Skipped

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
READABLE_SUFFIXES = WORKBOOK_SUFFIXES + TEXT_SUFFIXES


@dataclass(frozen=True)
class InputFile:
    path: Path
    shown: str  # the path as the user gave it, for messages and source.file (valid UTF-8)


def shown_name(name: str) -> str:
    """A path for people and JSON: undecodable bytes (surrogate escapes) made readable."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        raw = os.fsencode(name)
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


def _not_regular(mode: int) -> str | None:
    """Why an entry that is not a regular file is not read; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a file: only regular files are read"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device (such as /dev/zero), not a file: only regular files are read"
    if stat.S_ISSOCK(mode):
        return "a socket, not a file: only regular files are read"
    return "not a regular file: only regular files are read"


def discover(
    paths: list[str], ignore: frozenset[Path] = frozenset()
) -> Iterator[InputFile | Skipped]:
    """Expand the given files and folders (recursively, sorted) into input files.

    Office lock files (~$x.xlsx), hidden files and the paths in `ignore` (the store's own
    files) are passed over; other files in a folder, and every entry that is not a regular
    file, are reported as skipped with the reason. A path that does not exist is a usage error.
    """
    for given in paths:
        path = Path(given)
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            if path.is_symlink():
                yield Skipped(shown_name(given), "a broken link: its target does not exist")
                continue
            raise UsageError(
                f"'{shown_name(given)}' does not exist: give survey files or folders holding them"
            ) from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # a link that points to itself
                yield Skipped(shown_name(given), "a symbolic link loop")
                continue
            yield Skipped(shown_name(given), f"cannot be read: {exc.strerror or exc}")
            continue
        if stat.S_ISDIR(mode):
            seen = False
            for entry in _walk(path, given, ignore):
                seen = True
                yield entry
            if not seen:  # said, so an empty inbox is not read as "0 scored" without a word
                yield Skipped(shown_name(given), "a folder with no survey files in it")
        elif path.name.startswith("~$"):
            continue
        elif (why := _not_regular(mode)) is not None:
            yield Skipped(shown_name(given), why)
        else:
            yield InputFile(path, shown_name(given))


def _walk(top: Path, given: str, ignore: frozenset[Path]) -> Iterator[InputFile | Skipped]:
    """Every entry under `top`, sorted, following symlinked folders once."""
    seen: set[tuple[int, int]] = set()
    # A path resolves to one of `ignore` only if its entry is a link or bears that name (the
    # folders above are resolved too, but not the name): resolve() is ~15 µs an entry, so it
    # is asked only then (issue 12: 2,000 forms).
    ignore_names = frozenset(p.name for p in ignore)
    top_stat = top.stat()
    seen.add((top_stat.st_dev, top_stat.st_ino))
    stack = [(top, given)]
    while stack:
        folder, shown_folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            yield Skipped(shown_name(shown_folder), f"folder cannot be read: {exc.strerror}")
            continue
        subfolders = []
        for entry in entries:
            name = entry.name
            if name.startswith((".", "~$")):
                continue
            shown = shown_name(os.path.join(shown_folder, name))
            full = Path(entry.path)
            try:
                st = os.stat(entry.path)  # follows links: what would be opened
            except FileNotFoundError:
                yield Skipped(shown, "a broken link: its target does not exist")
                continue
            except OSError as exc:
                loop = exc.errno == errno.ELOOP
                yield Skipped(shown, "a symbolic link loop" if loop else f"cannot be read: {exc}")
                continue
            if stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    yield Skipped(shown, "a link to a folder already read (a loop): read once")
                    continue
                seen.add(key)
                subfolders.append((full, os.path.join(shown_folder, name)))
                continue
            if ignore and (name in ignore_names or entry.is_symlink()) and full.resolve() in ignore:
                continue
            why = _not_regular(st.st_mode)
            if why is not None:
                yield Skipped(shown, why)
            elif name.lower().endswith(READABLE_SUFFIXES):
                yield InputFile(full, shown)
            else:
                yield Skipped(
                    shown, "not a spreadsheet (.xlsx .xlsm .xlsb .xls .ods .csv .tsv .txt)"
                )
        stack.extend(reversed(subfolders))
