"""Inbox work that waits on other servers, kept off the serving path.

A web worker answers every request itself and may have a single thread (granian's
blocking_threads=1): a POST that waited there for a signer's key would hold every feed and page
behind it for the whole fetch deadline. So a POST whose key is not cached is checked for
everything that needs no network, then handed to this bounded queue and answered 202 at once;
a few threads of the process's own fetch the key, verify the signature and only then act.

Bounded three ways, each refusal immediate and with Retry-After: at most `capacity` POSTs wait
or run (503 beyond), at most `per_sender` of them from one signer's host (429 beyond, so one
host cannot take every place), and at most `threads` fetch at once. Nothing here is stored:
a process that stops loses what waits (at most `capacity` activities, each only 202'd, never
acted on), which is the price of storing nothing a signature has not vouched for.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from feedsvc.fediverse.errors import RequestRefused

log = logging.getLogger(__name__)

THREADS = 8  # key fetches in flight at once, per process
CAPACITY = 64  # POSTs waiting for (or in) a key fetch, per process
PER_SENDER = 8  # of those, from one signer's host


@dataclass(frozen=True, slots=True)
class Job:
    """One POST waiting for its signer's key."""

    sender: str  # the host (and port) of the signature's keyId
    token: str  # the signature itself: the same signed request twice is a replay
    run: Callable[[], object]


class Backlog:
    """A bounded queue of jobs and the threads (started on demand, gone when idle) that run
    them."""

    def __init__(
        self, threads: int = THREADS, capacity: int = CAPACITY, per_sender: int = PER_SENDER
    ) -> None:
        self.threads = threads
        self.capacity = capacity
        self.per_sender = per_sender
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._jobs: collections.deque[Job] = collections.deque()
        self._senders: collections.Counter[str] = collections.Counter()
        self._tokens: set[str] = set()
        self._unfinished = 0
        self._running = 0
        self._pid = os.getpid()

    def submit(self, job: Job, retry_after: int) -> None:
        """Queue a job, or raise RequestRefused at once: 401 when the same signature waits
        already, 429 when its sender has `per_sender` waiting, 503 when `capacity` wait."""
        with self._lock:
            if os.getpid() != self._pid:  # a forked child: its parent's threads are not here
                self._forget()
            if job.token in self._tokens:
                raise RequestRefused(401, "a replayed request (this signature is being checked)")
            if self._senders[job.sender] >= self.per_sender:
                raise RequestRefused(
                    429,
                    f"too many requests from {job.sender[:100]} await their signer's key",
                    retry_after,
                )
            if self._unfinished >= self.capacity:
                raise RequestRefused(503, "too many requests await their signer's key", retry_after)
            self._jobs.append(job)
            self._senders[job.sender] += 1
            self._tokens.add(job.token)
            self._unfinished += 1
            if self._running < self.threads:
                self._running += 1
                threading.Thread(target=self._work, name="fediverse-inbox", daemon=True).start()

    def _forget(self) -> None:
        self._jobs.clear()
        self._senders.clear()
        self._tokens.clear()
        self._unfinished = self._running = 0
        self._pid = os.getpid()

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._jobs:
                    self._running -= 1
                    return
                job = self._jobs.popleft()
            try:
                job.run()
            except Exception:  # a bug: logged, and the thread goes on with the next job
                log.exception("fediverse: an inbox job failed")
            finally:
                with self._lock:
                    self._senders[job.sender] -= 1
                    if self._senders[job.sender] <= 0:
                        del self._senders[job.sender]
                    self._tokens.discard(job.token)
                    self._unfinished -= 1
                    self._changed.notify_all()

    def waiting(self) -> int:
        """Return how many jobs wait or run."""
        with self._lock:
            return self._unfinished

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no job waits or runs; return False if some still do after `timeout` s."""
        with self._lock:
            return self._changed.wait_for(lambda: self._unfinished == 0, timeout)
