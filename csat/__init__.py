"""csat: customer-satisfaction survey procedure: import returned surveys, score, grade, flag.

The library names are imported on first use, so `csat` starts by importing almost nothing: a
Ctrl-C in the first moments of a command then lands where the CLI handles it (exit 130, no
traceback) rather than inside an import."""

from __future__ import annotations

import importlib
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
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'csat' has no attribute {name!r}")
