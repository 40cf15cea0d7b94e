"""csat: customer-satisfaction survey procedure: import returned surveys, score, grade, flag.

The public names are imported on first use (PEP 562), so `csat --help` and `csat --version`
do not pay for the readers, pydantic and the rest that `import csat` would otherwise load, and a
Ctrl-C in the first moments of a command lands where the CLI handles it (exit 130, no traceback)
rather than inside an import.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from csat.config import LoadedRules, Rules, find_config, load_rules
    from csat.models import Rejection, Response, ScoredResponse, ScoreRun, Skipped
    from csat.periods import Period, parse_period
    from csat.pipeline import iter_outcomes, score_files

__version__ = "0.1.0"

_WHERE = {
    "LoadedRules": "csat.config",
    "Rules": "csat.config",
    "find_config": "csat.config",
    "load_rules": "csat.config",
    "Rejection": "csat.models",
    "Response": "csat.models",
    "ScoredResponse": "csat.models",
    "ScoreRun": "csat.models",
    "Skipped": "csat.models",
    "Period": "csat.periods",
    "parse_period": "csat.periods",
    "iter_outcomes": "csat.pipeline",
    "score_files": "csat.pipeline",
}

__all__ = [
    "LoadedRules",
    "Period",
    "Rejection",
    "Response",
    "Rules",
    "ScoreRun",
    "ScoredResponse",
    "Skipped",
    "find_config",
    "iter_outcomes",
    "load_rules",
    "parse_period",
    "score_files",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'csat' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
