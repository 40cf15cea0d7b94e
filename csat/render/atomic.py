"""Write a file under a temporary name and rename it into place: an interrupted run never leaves a
half-written file, and an existing file is only ever replaced by a complete one. A set of files
(a report: workbook, CAPA forms, index) is built in a temporary folder and swapped in whole.

Temporary names carry the writer's process id (`.NAME.PID.tmp`, `.NAME.PID.old`), so what a
killed process left behind is recognised and cleaned by the next run."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from csat.errors import CsatError

T = TypeVar("T")
_cleaned: set[Path] = set()
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.(?P<kind>tmp|old)$")


def write_atomically(target: Path, write: Callable[[Path], T]) -> T:
    """Call `write(temp_path)`, then rename the result onto `target`; return what write returned."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CsatError(f"cannot create folder {target.parent}: {exc.strerror or exc}") from None
    if target.parent not in _cleaned:  # once per folder and process: a report writes hundreds
        clean_stale(target.parent)
        _cleaned.add(target.parent)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        result = write(temp)
        os.replace(temp, target)
        return result
    except OSError as exc:
        raise CsatError(
            f"cannot write {target}: {exc.strerror or exc}; any earlier copy is unchanged"
        ) from None
    finally:
        if temp.is_file():
            temp.unlink()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but is not ours to signal
        return True
    return True


def clean_stale(folder: Path) -> list[Path]:
    """Remove the temporary files and folders that dead processes left in `folder`. A `.old`
    copy whose original is missing (killed between the two renames of a swap) is put back.
    Returns what was removed or restored."""
    cleaned: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return cleaned
    for entry in entries:
        m = _TEMP.match(entry.name)
        if m is None or _alive(int(m["pid"])):
            continue
        original = folder / m["name"]
        try:
            if m["kind"] == "old" and not original.exists():
                entry.rename(original)
            elif entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError:
            continue  # not ours to clean after all (permissions): leave it
        cleaned.append(entry)
    return cleaned


class FolderSwap:
    """Build a folder's new content in `.NAME.PID.tmp` beside it, then `swap()` it into place:
    the old folder is kept as `.NAME.PID.old` until `finish()`, so a failure after the swap (a
    commit that fails) can still `undo`. Leaving the block with an exception undoes whatever was
    done; entries of the old folder that the new one does not have (a user's own notes) are
    carried over."""

    def __init__(self, target: Path) -> None:
        # A folder that is a symlink (to a share, say) stays one: the swap happens where it
        # points.
        self.target = target.resolve() if target.is_symlink() else target
        target = self.target
        pid = os.getpid()
        self.temp = target.with_name(f".{target.name}.{pid}.tmp")
        self.old = target.with_name(f".{target.name}.{pid}.old")
        self._swapped = False
        self._carried: list[str] = []

    def __enter__(self) -> FolderSwap:
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            clean_stale(self.target.parent)
            if self.temp.exists():
                shutil.rmtree(self.temp)
            self.temp.mkdir()
        except OSError as exc:
            raise CsatError(
                f"cannot create folder {self.target.parent}: {exc.strerror or exc}"
            ) from None
        return self

    def swap(self) -> None:
        """Put the new folder in place of the old (two renames, microseconds apart)."""
        try:
            if self.target.exists():
                self._carried = sorted(
                    {p.name for p in self.target.iterdir()} - {p.name for p in self.temp.iterdir()}
                )
                for name in self._carried:
                    os.rename(self.target / name, self.temp / name)
                os.rename(self.target, self.old)
            os.rename(self.temp, self.target)
        except OSError as exc:
            self._undo()
            raise CsatError(
                f"cannot replace {self.target}: {exc.strerror or exc}; the earlier report is "
                "unchanged"
            ) from None
        self._swapped = True

    def finish(self) -> None:
        """The swap is confirmed: drop the old folder."""
        shutil.rmtree(self.old, ignore_errors=True)
        self._swapped = False

    def _undo(self) -> None:
        if self._swapped and self.target.exists() and not self.temp.exists():
            os.rename(self.target, self.temp)
        if self.old.exists() and not self.target.exists():
            os.rename(self.old, self.target)
        for name in self._carried:
            if (self.temp / name).exists() and self.target.is_dir():
                os.rename(self.temp / name, self.target / name)
        self._carried = []
        self._swapped = False
        shutil.rmtree(self.temp, ignore_errors=True)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None and not self._swapped:
            shutil.rmtree(self.temp, ignore_errors=True)
        elif kind is not None:
            self._undo()
