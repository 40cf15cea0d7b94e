"""csat: customer-satisfaction survey procedure: import returned surveys, score, grade, flag."""

from csat.config import LoadedRules, Rules, find_config, load_rules
from csat.models import Rejection, Response, ScoredResponse, ScoreRun, Skipped
from csat.periods import Period, parse_period
from csat.pipeline import iter_outcomes, score_files

__version__ = "0.1.0"

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
