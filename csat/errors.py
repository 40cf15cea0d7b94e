"""One exception hierarchy: the CLI catches CsatError once and exits 1 with its message."""

from __future__ import annotations

from dataclasses import dataclass


class CsatError(Exception):
    """A failure the user can act on; the message says what and how to fix it."""


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a config file, located as precisely as the YAML allows."""

    file: str
    line: int | None
    column: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.field or '(top level)'}: {self.message}"


class ConfigError(CsatError):
    """The scoring rules cannot be used; lists every problem found, not just the first."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class RulesInvalid(Exception):
    """Raised from inside pydantic validation with field paths; not a ValueError on purpose,
    so pydantic lets it through and the loader can attach YAML line numbers."""

    def __init__(self, problems: list[tuple[tuple[str | int, ...], str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{'.'.join(map(str, p))}: {m}" for p, m in problems))


class UsageError(CsatError):
    """Bad command-line input (exit 2), such as a malformed period."""
