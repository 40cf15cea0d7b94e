"""Reading many files in a pool of processes (`csat score --jobs N`, issue 12).

The workers only read and score: each returns one file's outcomes as a list, and the parent
yields them in the files' order, so what is printed and recorded (one transaction per file,
by the parent alone) is the same as with one process. The parent reads too, whenever it would
otherwise wait. At most a few batches per process are in flight, so memory stays bounded
however many files there are.
"""

from __future__ import annotations

import gc
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
    """Each file's outcomes, in the files' order, read by `jobs` processes: this one and
    `jobs - 1` workers. The parent reads a batch itself only when it would otherwise wait for
    the next result, so its printing and recording go first; a batch it reads is neither
    pickled nor sent, and one fewer process is forked (issue 12: CPU time counts them all)."""
    # Imported here: `csat score` imports this module for default_jobs, and most runs read
    # too few files for a pool.
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor

    from csat.pipeline import _score_file

    workers = max(1, min(jobs, len(files)) - 1)
    # Objects alive now are never collected in a worker: frozen, the collector does not touch
    # (and so copy) the pages a worker shares with this process.
    gc.freeze()
    # fork on Linux: the workers start with csat already imported (spawn imports it again in
    # each, ~0.3 s of CPU apiece); elsewhere the platform's default (fork is unsafe on macOS)
    context = multiprocessing.get_context(START_METHOD)
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start,
        initargs=(rules, options),
    )
    size = max(1, min(MAX_BATCH, len(files) // (jobs * 8)))
    batches = iter([files[i : i + size] for i in range(0, len(files), size)])
    # In files' order: a batch sent to a worker (a Future) or read here (its outcomes).
    slots: deque[Future[list[list[Outcome]]] | list[list[Outcome]]] = deque()
    sent = 0  # Futures among the slots
    limit = jobs * AHEAD_PER_WORKER  # batches held at once: memory stays bounded
    scorer = Scorer(rules)
    try:
        while True:
            while sent < workers * AHEAD_PER_WORKER and len(slots) < limit:
                batch = next(batches, None)
                if batch is None:
                    break
                slots.append(pool.submit(_read, batch))
                sent += 1
            if not slots:
                break
            head = slots[0]
            if isinstance(head, Future) and not head.done() and len(slots) < limit:
                batch = next(batches, None)
                if batch is not None:  # read here rather than wait
                    slots.append([list(_score_file(f, rules, scorer, options)) for f in batch])
                    continue
            slots.popleft()
            if isinstance(head, Future):
                sent -= 1
                done = head.result()
            else:
                done = head
            for outcomes in done:
                yield iter(outcomes)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()
