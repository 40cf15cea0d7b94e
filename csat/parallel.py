"""Reading many files in a pool of processes (`csat score --jobs N`, issue 12).

The workers only read and score: each returns one file's outcomes as a list, and the parent
yields them in the files' order, so what is printed and recorded (one transaction per file,
by the parent alone) is the same as with one process. At most a few files per worker are in
flight, so memory stays bounded however many files there are.
"""

from __future__ import annotations

import os
import signal
import sys
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING

from csat.config import Rules
from csat.intake import InputFile
from csat.models import Outcome
from csat.scoring import Scorer

if TYPE_CHECKING:
    from concurrent.futures import Future

    from csat.pipeline import ReadOptions

AHEAD_PER_WORKER = 3  # batches submitted beyond those being read: keeps the workers busy
MAX_BATCH = 32  # files per task: one round trip to a worker costs more than reading a form

START_METHOD = "fork" if sys.platform == "linux" else None

_worker: tuple[Rules, Scorer, ReadOptions] | None = None


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _start(rules: Rules, options: ReadOptions) -> None:
    # Ctrl-C is the parent's to handle: it stops the pool and rolls back the file being
    # recorded; a worker interrupted mid-file would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    global _worker
    _worker = (rules, Scorer(rules), options)


def _read(batch: list[InputFile]) -> list[list[Outcome]]:
    from csat.pipeline import _score_file

    assert _worker is not None
    rules, scorer, options = _worker
    return [list(_score_file(item, rules, scorer, options)) for item in batch]


def scored_in_pool(
    files: list[InputFile], rules: Rules, options: ReadOptions, jobs: int
) -> Iterator[Iterator[Outcome]]:
    """Each file's outcomes, in the files' order, read by `jobs` worker processes."""
    # Imported here: `csat score` imports this module for default_jobs, and most runs read
    # too few files for a pool.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork on Linux: the workers start with csat already imported (spawn imports it again in
    # each, ~0.3 s of CPU apiece); elsewhere the platform's default (fork is unsafe on macOS)
    context = multiprocessing.get_context(START_METHOD)
    pool = ProcessPoolExecutor(
        max_workers=min(jobs, len(files)),
        mp_context=context,
        initializer=_start,
        initargs=(rules, options),
    )
    size = max(1, min(MAX_BATCH, len(files) // (jobs * 8)))
    batches = iter([files[i : i + size] for i in range(0, len(files), size)])
    pending: deque[Future[list[list[Outcome]]]] = deque()
    try:
        for batch in batches:
            pending.append(pool.submit(_read, batch))
            if len(pending) >= jobs * AHEAD_PER_WORKER:
                break
        while pending:
            done = pending.popleft().result()
            nxt = next(batches, None)
            if nxt is not None:
                pending.append(pool.submit(_read, nxt))
            for outcomes in done:
                yield iter(outcomes)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
