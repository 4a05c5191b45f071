"""A read-only copy of the catalog for readers that cannot open it in place.

A catalog whose last commits still sit in its WAL can only be read with a -shm index beside
it; on a full (or read-only) disk SQLite cannot make one. Reading it as immutable would drop
those commits, so readers copy the catalog and its WAL to the temporary folder (another disk,
or memory) and read the copy: every commit is served while the writer waits for room.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

_ROOT = "feedsvc-catalog-copies"


def _name(path: Path, wal: Path) -> str:
    """Name a copy by the catalog's path and the state of its two files, so the processes
    of one server share one copy and a changed catalog gets a new one."""
    parts = [str(path.resolve())]
    for file in (path, wal):
        status = os.stat(file)
        parts.append(f"{status.st_dev}:{status.st_ino}:{status.st_size}:{status.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def copy_with_wal(path: Path) -> Path | None:
    """Return a copy of the catalog at `path` with its WAL, made once and shared; None when
    there is no WAL to keep (an immutable read loses nothing) or no room for the copy."""
    wal = Path(f"{path}-wal")
    try:
        if wal.stat().st_size == 0:
            return None
        root = Path(tempfile.gettempdir()) / _ROOT
        root.mkdir(mode=0o700, exist_ok=True)
        final = root / _name(path, wal)
        copy = final / path.name
        if copy.exists():
            return copy
        staging = Path(tempfile.mkdtemp(dir=root, prefix=".staging-"))
        try:
            shutil.copyfile(path, staging / path.name)
            shutil.copyfile(wal, staging / wal.name)
            os.rename(staging, final)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if copy.exists():  # another process of this server made it first
                return copy
            raise
    except OSError as exc:
        log.warning(
            "cannot copy the catalog %s to %s to read its last commits: %s; serving what was "
            "checkpointed until the catalog can be opened again",
            path,
            tempfile.gettempdir(),
            exc.strerror or exc,
        )
        return None
    return copy


def discard(copy: Path) -> None:
    """Remove a copy once the catalog reads in place again (open handles keep working)."""
    shutil.rmtree(copy.parent, ignore_errors=True)
