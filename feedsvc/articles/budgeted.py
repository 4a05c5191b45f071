"""Reading article files in worker processes, each file within a time budget.

A file whose reading outlasts the budget (a parse gone slow, a file system that hangs on
open) or takes its worker down (a crash, the kernel's out-of-memory killer) is rejected as
`too-slow` or `crashed`; its worker is replaced and every other file is still read. The
budget is kept from outside the parsing code: the worker is killed, nothing in it has to
cooperate. Workers are kept between calls (a running writer reads a few files at a time).
"""

from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.connection
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from feedsvc.articles.image_signature import Read
from feedsvc.articles.problems import Rejected
from feedsvc.support.workers import exit_with_parent

CHUNK = 64  # files sent to a worker at once; each one's result comes back as it is read
_START_SECONDS = 60.0  # a worker loads the parser in well under a second

# One file to read: its place in the caller's order, its path and the image beside it.
Job = tuple[int, str, str | None]


# How one file is read: (path, max_bytes, sidecar, image store) -> Read | Rejected; a
# module-level function, handed to the worker by name.
ReadOne = Callable[[str, int, "str | None", "Path | None"], "Read | Rejected"]


def _serve(conn: Connection, read_one: ReadOne) -> None:
    """A worker: read the files of each chunk it is sent, answering file by file."""
    exit_with_parent()
    conn.send("ready")  # the budget counts from here, not from the start of the process
    while True:
        try:
            chunk, max_bytes, store = conn.recv()
        except (EOFError, OSError):
            return
        for index, path, side in chunk:
            conn.send((index, read_one(path, max_bytes, side, store)))


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    chunk: list[Job] = field(default_factory=list)
    done: int = 0  # files of the chunk answered so far
    since: float = 0.0  # when the file being read now was started

    @property
    def busy(self) -> bool:
        return self.done < len(self.chunk)

    def current(self) -> Job:
        return self.chunk[self.done]

    def stop(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class BudgetedReader:
    """Worker processes that read article files, each file within `seconds`."""

    def __init__(self, read_one: ReadOne, seconds: float, jobs: int | None = None) -> None:
        self.read_one = read_one
        self.seconds = seconds
        self.jobs = jobs or min(os.cpu_count() or 1, 4)
        self._context = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []

    def _spawn(self) -> _Worker:
        mine, theirs = self._context.Pipe()
        process = self._context.Process(
            target=_serve, args=(theirs, self.read_one), name="feedsvc-reader", daemon=True
        )
        process.start()
        theirs.close()
        return _Worker(process, mine)

    def _started(self, workers: list[_Worker]) -> None:
        """Wait until new workers have loaded the parser; raise Unavailable (the workers
        stopped) when one does not."""
        for worker in workers:
            try:
                if worker.conn.poll(_START_SECONDS) and worker.conn.recv() == "ready":
                    continue
            except (EOFError, OSError):
                pass
            self.close()
            raise Unavailable("a reader process did not start")

    def start(self, files: int) -> None:
        """Have the workers `files` files need running; raise Unavailable when they cannot
        start (no room for a process, a `__main__` a new process cannot import)."""
        wanted = min(self.jobs, max(1, files))
        new = [self._spawn() for _ in range(wanted - len(self._workers))]
        self._workers += new
        self._started(new)

    def close(self) -> None:
        """Stop the workers."""
        for worker in self._workers:
            worker.stop()
        self._workers = []

    def read(
        self,
        paths: Sequence[str],
        sidecars: Sequence[str | None],
        max_bytes: int,
        store: Path | None,
    ) -> Iterator[Read | Rejected]:
        """Yield each file's Read (or Rejected) in the order of `paths`."""
        queue: deque[Job] = deque(
            (index, path, side)
            for index, (path, side) in enumerate(zip(paths, sidecars, strict=True))
        )
        self.start(len(queue))
        wanted = len(self._workers)
        size = max(1, min(CHUNK, -(-len(queue) // wanted)))
        results: dict[int, Read | Rejected] = {}
        following = 0
        try:
            while following < len(paths):
                for worker in self._workers:
                    if not worker.busy and queue:
                        chunk = [queue.popleft() for _ in range(min(size, len(queue)))]
                        worker.chunk, worker.done = chunk, 0
                        worker.conn.send((chunk, max_bytes, store))
                        worker.since = time.monotonic()
                self._collect(results, queue, max_bytes)
                while following in results:
                    yield results.pop(following)
                    following += 1
        except BaseException:
            self.close()  # workers may hold half a chunk: start clean next time
            raise

    def _collect(
        self, results: dict[int, Read | Rejected], queue: deque[Job], max_bytes: int
    ) -> None:
        """Wait (at most until the earliest budget runs out) and take what workers answered."""
        busy = [worker for worker in self._workers if worker.busy]
        if not busy:
            return
        first_deadline = min(worker.since for worker in busy) + self.seconds
        timeout = max(0.0, first_deadline - time.monotonic())
        ready = multiprocessing.connection.wait([worker.conn for worker in busy], timeout)
        for worker in busy:
            if worker.conn in ready:
                try:
                    while worker.busy and worker.conn.poll():
                        index, outcome = worker.conn.recv()
                        results[index] = outcome
                        worker.done += 1
                        worker.since = time.monotonic()
                    continue
                except (EOFError, OSError):
                    self._lose(worker, results, queue, "crashed", _CRASHED)
                    continue
            if worker.busy and time.monotonic() - worker.since >= self.seconds:
                reason = f"took over {self.seconds:g} s to read and was stopped"
                self._lose(worker, results, queue, "too-slow", reason)

    def _lose(
        self,
        worker: _Worker,
        results: dict[int, Read | Rejected],
        queue: deque[Job],
        code: str,
        reason: str,
    ) -> None:
        """Reject the file `worker` was reading, put the rest of its chunk back first in
        line, and replace the worker."""
        index, path, _side = worker.current()
        results[index] = Rejected(path, code, reason)
        queue.extendleft(reversed(worker.chunk[worker.done + 1 :]))
        worker.stop()
        fresh = self._spawn()
        self._workers[self._workers.index(worker)] = fresh
        self._started([fresh])


_CRASHED = "stopped the process reading it (a crash, or out of memory)"


class Unavailable(OSError):
    """Reader processes cannot be started here: files are read in the calling process."""


_READERS: dict[float, BudgetedReader] = {}


def reader(read_one: ReadOne, seconds: float) -> BudgetedReader:
    """Return this process's reader for a budget of `seconds` (kept between calls)."""
    found = _READERS.get(seconds)
    if found is None:
        found = _READERS[seconds] = BudgetedReader(read_one, seconds)
    return found


@atexit.register
def close_all() -> None:
    """Stop this process's reader workers (a process done with reading articles)."""
    for found in _READERS.values():
        found.close()
