"""Supervise the writer: `feedsvc serve` keeps it running, like supervisord would.

The writer runs in a process of its own (spawned, not forked, and not daemonic, so it may run
worker processes of its own for a large ingest). If it dies (a crash, the OOM killer's
SIGKILL) or stops making progress (no heartbeat for FEEDSVC_WRITER_STALL_SECONDS), it is
restarted with a log line saying why; repeated deaths back off (1, 2, 4 … 60 s) and the state
is kept in the run folder for /healthz and `feedsvc status`.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from feedsvc.catalog.place import FileIdentity
from feedsvc.config.settings import Settings
from feedsvc.health import SUPERVISOR, write_state

log = logging.getLogger(__name__)

HEALTHY_AFTER = 60.0  # a writer that ran this long resets the backoff
MAX_BACKOFF = 60.0


def _writer_main(
    settings: Settings, parent_pid: int, beat: Synchronized[float], known: FileIdentity | None
) -> None:
    # Ctrl-C reaches the whole process group: the supervisor decides when the writer stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from feedsvc.service.writer import watch_forever

    def heartbeat() -> None:
        beat.value = time.monotonic()  # CLOCK_MONOTONIC is one clock for every process

    watch_forever(settings, parent_pid, heartbeat, known)


def describe_exit(code: int | None) -> str:
    """Return how a process ended, in words."""
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


class Supervisor:
    """Starts the writer and restarts it when it dies or stalls."""

    def __init__(
        self, settings: Settings, *, known: FileIdentity | None = None, check_every: float = 0.25
    ) -> None:
        self.settings = settings
        self.known = known  # the catalog file serve wrote: a writer never writes another
        self.check_every = check_every
        self._context = multiprocessing.get_context("spawn")
        self._beat: Synchronized[float] = self._context.Value("d", time.monotonic())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="writer-supervisor", daemon=True)
        self.process: Any = None
        self.restarts = 0
        self.last_exit: str | None = None
        self._started = 0.0

    def start(self) -> Supervisor:
        """Start the writer and the thread that watches it."""
        self._spawn()
        self._thread.start()
        return self

    def _spawn(self) -> None:
        self._beat.value = time.monotonic()
        self.process = self._context.Process(
            target=_writer_main,
            args=(self.settings, os.getpid(), self._beat, self.known),
            name="feedsvc-writer",
            daemon=False,
        )
        self.process.start()
        self._started = time.monotonic()
        self._save("running")

    def _save(self, state: str) -> None:
        write_state(
            self.settings.runtime,
            SUPERVISOR,
            {
                "pid": os.getpid(),
                "writer_pid": self.process.pid if self.process is not None else None,
                "state": state,
                "restarts": self.restarts,
                "last_exit": self.last_exit,
                "since": time.time(),
            },
        )

    def _watch(self) -> None:
        delay = 1.0
        stall = self.settings.writer_stall_seconds
        while not self._stop.wait(self.check_every):
            process = self.process
            if process.is_alive():
                silent = time.monotonic() - self._beat.value
                if silent > stall:
                    log.error(
                        "the writer (pid %d) made no progress for %.0f s; killing and "
                        "restarting it",
                        process.pid,
                        silent,
                    )
                    process.kill()
                    process.join(5)
                    self.last_exit = f"stalled for {silent:.0f} s, killed"
                else:
                    continue
            else:
                process.join(0)  # reap it: no zombie
                self.last_exit = describe_exit(process.exitcode)
            if time.monotonic() - self._started > HEALTHY_AFTER:
                delay = 1.0
            log.error(
                "the writer (pid %d) stopped: %s. Nothing new is published until it runs "
                "again; restarting it in %.0f s",
                process.pid,
                self.last_exit,
                delay,
            )
            self._save("restarting")
            if self._stop.wait(delay):
                return
            delay = min(delay * 2, MAX_BACKOFF)
            self.restarts += 1
            self._spawn()
            log.info("writer restarted (pid %d, restart %d)", self.process.pid, self.restarts)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching, then stop the writer gracefully (SIGTERM, then SIGKILL)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        process = self.process
        if process is not None and process.is_alive():
            process.terminate()
            process.join(timeout)
            if process.is_alive():
                process.kill()
                process.join(5)
        self._save("stopped")


def mark_disabled(settings: Settings) -> None:
    """Record that this server runs without a writer (--no-watch)."""
    write_state(
        settings.runtime,
        SUPERVISOR,
        {"pid": os.getpid(), "state": "disabled", "restarts": 0, "since": time.time()},
    )
