"""The scoring pipeline as a library call: paths -> outcomes, optionally recorded in the store."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from csat.config import LoadedRules, Rules
from csat.intake import InputFile, discover, read_file
from csat.models import Outcome, Rejection, Response, ScoreRun, Skipped
from csat.periods import Period
from csat.scoring import Scorer

if TYPE_CHECKING:  # the store is imported by what records: a dry run never opens one
    from csat.store import ImportResult, Store

Progress = Callable[[int, int, str], None]  # files done, files total, current file

# Below this many files a pool costs more (starting the workers) than it saves.
POOL_MIN_FILES = 8


@dataclass(frozen=True)
class Recorded:
    """One file recorded in the store (or found there already)."""

    file: str
    result: ImportResult


@dataclass(frozen=True)
class ReadOptions:
    """How to read the inputs: the period they answer, a pinned scale, and today (for the
    plausible range of reply dates)."""

    period: Period | None = None
    scale: str | None = None
    today: date | None = None


def _score_file(
    item: InputFile, rules: Rules, scorer: Scorer, options: ReadOptions
) -> Iterator[Outcome]:
    for got in read_file(item, rules, options.period, scale=options.scale, today=options.today):
        yield scorer.score(got) if isinstance(got, Response) else got


def _scored_files(
    files: list[InputFile],
    rules: Rules,
    options: ReadOptions,
    jobs: int,
    wanted: list[bool] | None = None,
) -> Iterator[Iterator[Outcome]]:
    """Each file's outcomes, in the files' order: read here one by one (lazily, memory flat),
    or by a pool of `jobs` processes when there are many files (csat.parallel). Files not
    `wanted` (recorded already) are not read by the pool: their outcomes are empty."""
    chosen = files if wanted is None else [f for f, w in zip(files, wanted, strict=True) if w]
    if jobs > 1 and len(chosen) >= POOL_MIN_FILES:
        from csat.parallel import scored_in_pool

        pooled = scored_in_pool(chosen, rules, options, jobs)
        for w in wanted or [True] * len(files):
            yield next(pooled) if w else iter(())
        return
    scorer = Scorer(rules)
    for item in files:
        yield _score_file(item, rules, scorer, options)


def _inputs(
    paths: list[str], ignore: frozenset[Path] = frozenset()
) -> tuple[list[Skipped], list[InputFile]]:
    found = list(discover(paths, ignore))
    return (
        [s for s in found if isinstance(s, Skipped)],
        [f for f in found if isinstance(f, InputFile)],
    )


def iter_outcomes(
    paths: list[str],
    rules: Rules,
    period: Period | None = None,
    progress: Progress | None = None,
    *,
    scale: str | None = None,
    today: date | None = None,
    jobs: int = 1,
) -> Iterator[Outcome]:
    """Score every response in the given files and folders, yielding results as they come, so
    memory stays flat however many responses there are. Records nothing. `jobs` > 1 reads
    many files in that many processes; the outcomes come in the same order."""
    options = ReadOptions(period, scale, today)
    skipped, files = _inputs(paths)
    yield from skipped
    for done, (item, outcomes) in enumerate(
        zip(files, _scored_files(files, rules, options, jobs), strict=True)
    ):
        if progress:
            progress(done, len(files), item.shown)
        yield from outcomes
    if progress:
        progress(len(files), len(files), "")


def record_outcomes(
    paths: list[str],
    loaded: LoadedRules,
    store: Store,
    now: datetime,
    period: Period | None = None,
    progress: Progress | None = None,
    *,
    scale: str | None = None,
    today: date | None = None,
    jobs: int = 1,
    site: str = "",
) -> Generator[Outcome | Recorded, None, None]:
    """As iter_outcomes, recording each file in the store in one transaction, in the files'
    order, by this process whatever `jobs` reads them, for `site` ('' for none). A file
    imported before is not read again: it comes back as Skipped with the earlier import
    named."""
    from csat.store import ImportResult

    options = ReadOptions(period, scale, today)
    db = store.path.resolve()
    own = frozenset(db.with_name(db.name + s) for s in ("", "-wal", "-shm", "-journal"))
    skipped, files = _inputs(paths, own)
    yield from skipped
    # With a pool, files are hashed first so that those recorded already are not read at all,
    # as one process does not read them (record_file's check in its transaction decides).
    hashes = [_sha256(f) for f in files] if jobs > 1 and len(files) >= POOL_MIN_FILES else None
    wanted = None
    if hashes is not None:
        wanted = [isinstance(h, str) and not store.is_imported(h) for h in hashes]
    for done, (item, outcomes) in enumerate(
        zip(files, _scored_files(files, loaded.rules, options, jobs, wanted), strict=True)
    ):
        if progress:
            progress(done, len(files), item.shown)
        sha = hashes[done] if hashes is not None else _sha256(item)
        if isinstance(sha, OSError):
            yield Rejection(item.shown, None, None, f"cannot be read: {sha.strerror or sha}")
            continue
        for got in store.record_file(
            item.shown, sha, loaded.sha256, loaded.text, period, outcomes, now, site
        ):
            if isinstance(got, ImportResult):
                if got.already is not None:
                    yield Skipped(
                        item.shown,
                        f"already imported on {local_time(got.already.imported_at)} as "
                        f"{got.already.path} "
                        f"(import #{got.already.id}); nothing new recorded",
                    )
                else:
                    yield Recorded(item.shown, got)
            else:
                yield got
    if progress:
        progress(len(files), len(files), "")


def _sha256(item: InputFile) -> str | OSError:
    from csat.store import file_sha256

    try:
        return file_sha256(item.path)
    except OSError as exc:
        return exc


def score_files(
    paths: list[str],
    rules: Rules,
    period: Period | None = None,
    *,
    scale: str | None = None,
    today: date | None = None,
) -> ScoreRun:
    """Score everything and collect it: the convenient form for scripts and tests."""
    run = ScoreRun(str(period) if period else None)
    for outcome in iter_outcomes(paths, rules, period, scale=scale, today=today):
        run.add(outcome)
    return run


def local_time(stamp: str) -> str:
    """A stored ISO timestamp (with its offset) in the local time zone, to the minute."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")
