"""Advisory locks on files (flock) taken with a bounded wait: framework-free, for the catalog's
writer lock and the export's build lock alike.

The lock belongs to the open file description: closing the descriptor releases it, and so
does the death of the process. The lock file itself stays (unlinking it would let two
processes lock different files of one name).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path


def open_lock(path: Path) -> int:
    """Open the lock file at `path` for reading and writing, creating it; return the descriptor.

    Raise OSError when it cannot be opened (the caller words that for its users).
    """
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


def take_exclusive(
    descriptor: int,
    *,
    wait: float,
    on_wait: Callable[[], None] | None = None,
    poll: float = 0.05,
) -> bool:
    """Take an exclusive lock on `descriptor`, waiting up to `wait` seconds; return whether
    it was taken.

    `on_wait` is called once, the first time another process is found holding the lock while
    there is still time to wait (to say so before waiting). The lock is tried again every
    `poll` seconds, and once more at the deadline.
    """
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
        if not told and on_wait is not None:
            on_wait()
        told = True
        time.sleep(max(0.0, min(poll, deadline - time.monotonic())))
