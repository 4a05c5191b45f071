"""When a changed article file is whole: its writer closed it and it stopped changing.

A file is read once its modification time is the settle time old and no process has it open
for writing; a file that is gone must stay gone as long before its article is withdrawn.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import time


def being_written(path: str) -> bool | None:
    """Return whether any process has `path` open for writing (None: Linux cannot tell here).

    A read lease is refused (EAGAIN) while the file is open for writing anywhere; it needs
    the file's owner (or CAP_LEASE) and a file system with leases, else the settle time
    alone decides. The lease lives for microseconds; should a writer open the file in that
    moment, the kernel tells this process with SIGURG (ignored) instead of SIGIO (fatal), and
    the writer waits only until the lease is released.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None  # gone, a link, unreadable: reading it reports that
    try:
        fcntl.fcntl(fd, fcntl.F_SETSIG, signal.SIGURG)
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    except OSError as exc:
        return True if exc.errno == errno.EAGAIN else None
    else:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        return False
    finally:
        os.close(fd)


class Settle:
    """Decides when a changed file has stopped changing, so no reader gets half a file.

    A file is settled once its modification time is `seconds` old. A modification time in the
    future (a clock ahead of this one, on a network share) counts from when this signature
    was first seen instead.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._first_seen: dict[str, tuple[str, float]] = {}
        self._missing: dict[str, float] = {}  # article key -> when its file was first missed

    def gone(self, key: str) -> float:
        """Return how long the file of article `key`, missing now, must stay missing before
        the article is withdrawn (0: now). An editor that moves the original away and writes
        the new file a moment later must not withdraw the article in between."""
        if self.seconds <= 0:
            return 0.0
        missed = self._missing.setdefault(key, time.monotonic())
        wait = self.seconds - (time.monotonic() - missed)
        if wait <= 0:
            del self._missing[key]
            return 0.0
        return wait

    def found(self, keys: set[str]) -> None:
        """Forget that these articles' files were missing: they are back."""
        for key in [key for key in self._missing if key in keys]:
            del self._missing[key]

    def remaining(self, path: str, sig: str, mtime_ns: int) -> float:
        """Return how long `path` must stay as it is before it is read (0: now). A file still
        open for writing waits, however long its writer pauses."""
        if self.seconds <= 0:
            return 0.0
        age = time.time() - mtime_ns / 1e9
        if age >= self.seconds:
            self._first_seen.pop(path, None)
            return self.seconds if being_written(path) else 0.0
        if age < 0:
            seen = self._first_seen.get(path)
            if seen is None or seen[0] != sig:
                seen = self._first_seen[path] = (sig, time.monotonic())
            age = time.monotonic() - seen[1]
        return max(0.0, self.seconds - age)
