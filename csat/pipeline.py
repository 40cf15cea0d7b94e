"""The scoring pipeline as a library call: paths -> ScoreRun (or a stream of outcomes)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from csat.config import Rules
from csat.intake import InputFile, discover, read_file
from csat.models import Outcome, Rejection, ScoreRun, Skipped
from csat.periods import Period
from csat.scoring import Scorer

Progress = Callable[[int, int, str], None]  # files done, files total, current file


def iter_outcomes(
    paths: list[str], rules: Rules, period: Period | None = None, progress: Progress | None = None
) -> Iterator[Outcome]:
    """Score every response in the given files and folders, yielding results as they come, so
    memory stays flat however many responses there are."""
    scorer = Scorer(rules)
    found = list(discover(paths))
    files = [f for f in found if isinstance(f, InputFile)]
    yield from (s for s in found if isinstance(s, Skipped))
    for done, item in enumerate(files):
        if progress:
            progress(done, len(files), item.shown)
        for got in read_file(item, rules, period):
            yield got if isinstance(got, Rejection) else scorer.score(got)
    if progress:
        progress(len(files), len(files), "")


def score_files(paths: list[str], rules: Rules, period: Period | None = None) -> ScoreRun:
    """Score everything and collect it: the convenient form for scripts and tests."""
    run = ScoreRun(str(period) if period else None)
    for outcome in iter_outcomes(paths, rules, period):
        run.add(outcome)
    return run
