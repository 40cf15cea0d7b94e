"""Write a file under a temporary name and rename it into place: an interrupted run never leaves a
half-written file, and an existing file is only ever replaced by a complete one."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from csat.errors import CsatError

T = TypeVar("T")


def write_atomically(target: Path, write: Callable[[Path], T]) -> T:
    """Call `write(temp_path)`, then rename the result onto `target`; return what write returned."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CsatError(f"cannot create folder {target.parent}: {exc.strerror or exc}") from None
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
