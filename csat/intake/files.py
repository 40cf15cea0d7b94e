"""Finding the input files: the paths given, and folders searched recursively."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from csat.errors import UsageError
from csat.models import Skipped

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class InputFile:
    path: Path
    shown: str  # the path as the user gave it, for messages and source.file


def discover(
    paths: list[str], ignore: frozenset[Path] = frozenset()
) -> Iterator[InputFile | Skipped]:
    """Expand the given files and folders (recursively, sorted) into input files.

    Office lock files (~$x.xlsx), hidden files and the paths in `ignore` (the store's own
    files) are passed over; other non-workbooks in a folder are reported as skipped. A path
    that does not exist is a usage error.
    """
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.startswith(("~$", ".")) or Path(root, name).resolve() in ignore:
                        continue
                    rel = os.path.relpath(os.path.join(root, name), path)
                    shown = os.path.join(given, rel)
                    if name.lower().endswith(WORKBOOK_SUFFIXES):
                        yield InputFile(Path(root, name), shown)
                    else:
                        yield Skipped(shown, "not an .xlsx/.xlsm workbook")
        elif path.is_file():
            if not path.name.startswith("~$"):
                yield InputFile(path, given)
        else:
            raise UsageError(f"'{given}' does not exist: give survey files or folders holding them")
