"""`csat init`: an editable copy of the packaged config/ and templates/."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from csat.config import packaged_data_dir
from csat.errors import CsatError

SHIPPED = ("config", "templates")


@dataclass
class InitResult:
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)


def init_folder(target: Path, force: bool = False) -> InitResult:
    """Copy shipped files into `target`, keeping files the user already has unless `force`."""
    source = packaged_data_dir()
    result = InitResult()
    try:
        for part in SHIPPED:
            for src in sorted((source / part).rglob("*")):
                if not src.is_file() or "__pycache__" in src.parts:
                    continue
                dest = target / src.relative_to(source)
                if dest.exists() and not force:
                    result.kept.append(dest)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)
                result.written.append(dest)
    except OSError as exc:
        raise CsatError(f"cannot write into {target}: {exc.strerror or exc}") from None
    return result
