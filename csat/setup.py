"""`csat init`: an editable copy of the packaged config/ and templates/."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from csat.config import packaged_data_dir
from csat.errors import CsatError

SHIPPED = ("config", "templates")


# The shipped survey.company line: the placeholder forms refuse to go out with
_COMPANY_LINE = re.compile(r"^(\s*company:\s*)\{zh: 本公司, en: Our company\}", re.MULTILINE)


@dataclass
class InitResult:
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    company_set: Path | None = None  # the config that now names the company
    config: Path | None = None


def init_folder(
    target: Path, force: bool = False, company: tuple[str, str] | None = None
) -> InitResult:
    """Copy shipped files into `target`, keeping files the user already has unless `force`;
    `company` (Chinese, English name) replaces the placeholder on the survey forms."""
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
        result.config = target / "config" / "weights.yaml"
        if company is not None:
            result.company_set = _set_company(result.config, company)
    except OSError as exc:
        raise CsatError(f"cannot write into {target}: {exc.strerror or exc}") from None
    return result


def _set_company(config: Path, company: tuple[str, str]) -> Path:
    """Write the company's names over the placeholder line, keeping the rest of the file."""
    zh, en = (name.strip() for name in company)
    if not zh or not en:
        raise CsatError("the company name is empty: give it in Chinese and in English")
    text = config.read_text(encoding="utf-8")
    # JSON strings are YAML flow scalars: quotes and colons in a name stay text
    line = f"{{zh: {json.dumps(zh, ensure_ascii=False)}, en: {json.dumps(en, ensure_ascii=False)}}}"
    new, n = _COMPANY_LINE.subn(lambda m: m.group(1) + line, text)
    if n == 0:
        raise CsatError(
            f"{config} names a company already (survey.company); edit it there to change it"
        )
    config.write_text(new, encoding="utf-8")
    return config
