"""The export folder on disk for a full build: a new tree built beside it, files linked from
the old tree when their bytes did not change, swapped in at the end (later builds update it in
place, see inplace.py); one build per folder at a time, and what killed builds left is cleared."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from feedsvc.export.names import BuildError
from feedsvc.support.filelock import open_lock, take_exclusive

# How long a build waits for another one into the same folder (10,000 articles take ~90 s).
LOCK_WAIT = 600.0

log = logging.getLogger(__name__)


class TreeWriter:
    """Writes files into the new tree, linking those whose bytes the old tree already has."""

    def __init__(self, new_root: Path, old_root: Path | None) -> None:
        self.new_root = new_root
        self.old_root = old_root
        self.written = 0
        self.unchanged = 0
        self.bytes = 0
        self.names: list[str] = []
        self.sums: dict[str, tuple[int, str]] = {}  # name -> (size, MD5 of the bytes)
        self._folders: set[Path] = set()
        self._made: set[str] = set()
        self._new, self._old = str(new_root), str(old_root)

    def _target(self, name: str) -> Path:
        target = self.new_root / name
        self.names.append(name)
        if target.parent not in self._folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(target.parent)
        return target

    def keep(self, name: str, size: int) -> None:
        """Link a file the old tree has and the manifest says is still current (not read)."""
        assert self.old_root is not None
        # Plain strings: this runs once per file of a large export.
        folder, _, _ = name.rpartition("/")
        if folder not in self._made:
            os.makedirs(os.path.join(self._new, folder), exist_ok=True)
            self._made.add(folder)
        os.link(os.path.join(self._old, name), os.path.join(self._new, name))
        self.names.append(name)
        self.unchanged += 1
        self.bytes += size

    def write(self, name: str, body: bytes) -> None:
        """Write one file (its name checked before any request: inside, unique)."""
        target = self._target(name)
        self.sums[name] = (len(body), hashlib.md5(body, usedforsecurity=False).hexdigest())
        self.bytes += len(body)
        if self.old_root is not None:
            old = self.old_root / name
            try:
                status = old.lstat()
                same_size = stat.S_ISREG(status.st_mode) and status.st_size == len(body)
                if same_size and old.read_bytes() == body:
                    os.link(old, target)
                    self.unchanged += 1
                    return
            except OSError:
                pass  # not there, or unreadable: write it
        target.write_bytes(body)
        self.written += 1


def count_removed(old_root: Path | None, written: set[str]) -> int:
    """Return how many files of the old tree the new one no longer has."""
    removed = 0
    if old_root is not None:
        for dirpath, _dirs, filenames in os.walk(old_root):
            for filename in filenames:
                relative = os.path.relpath(os.path.join(dirpath, filename), old_root)
                removed += relative not in written
    return removed


def swap(new_root: Path, out_dir: Path) -> None:
    """Put the new tree in place of the old one (two renames; the old tree is then deleted)."""
    new_root.chmod(0o755)
    if out_dir.exists():
        retired = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.rename(out_dir, retired)
        os.rename(new_root, out_dir)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.rename(new_root, out_dir)


def _holder(fd: int) -> str:
    """Return the process id that the build holding the lock wrote into it, or "unknown"."""
    return os.pread(fd, 20, 0).decode(errors="replace").strip() or "unknown"


@contextmanager
def exclusive(out_dir: Path, wait: float) -> Iterator[None]:
    """Hold the lock of builds into `out_dir` (waiting `wait` s at most), then clear leftovers.

    The lock file stays: unlinking it would let two builds lock different files of one name.
    """
    lock_path = out_dir.with_name(f".{out_dir.name}.lock")
    try:
        fd = open_lock(lock_path)
    except OSError as exc:
        raise BuildError(str(lock_path), f"cannot be opened: {exc.strerror}") from None

    def waiting() -> None:
        log.info(
            "waiting up to %g s for the build into %s by process %s", wait, out_dir, _holder(fd)
        )

    try:
        if not take_exclusive(fd, wait=wait, on_wait=waiting, poll=0.2):
            reason = f"another build into it (process {_holder(fd)}) is still running"
            raise BuildError(str(out_dir), f"{reason} after {wait:g} s")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _remove_leftovers(out_dir)
        yield
    finally:
        os.close(fd)  # and with it the lock


def _remove_leftovers(out_dir: Path) -> None:
    """Remove the temporary trees of killed builds (stale by definition: we hold the lock)."""
    prefixes = (f".{out_dir.name}.build-", f".{out_dir.name}.old-")
    found = sorted(
        (p for p in out_dir.parent.iterdir() if p.name.startswith(prefixes)),
        key=lambda p: p.lstat().st_mtime,
    )
    aside = [p for p in found if p.name.startswith(prefixes[1])]
    if aside and not out_dir.exists():
        # Killed between swap's two renames: the previous export is whole; serve it again.
        os.rename(aside[-1], out_dir)
        found.remove(aside[-1])
        log.warning("restored %s from %s, left by an interrupted build", out_dir, aside[-1].name)
    for path in found:
        count = size = 0
        for dirpath, _dirs, names in os.walk(path):
            for name in names:
                try:  # a detached rm of an earlier build may be removing it meanwhile
                    size += os.lstat(os.path.join(dirpath, name)).st_size
                    count += 1
                except OSError:
                    pass
        shutil.rmtree(path, ignore_errors=True)
        log.warning(
            "removed %s, left by an interrupted build: %d files, %.1f MiB",
            path,
            count,
            size / 1_048_576,
        )
