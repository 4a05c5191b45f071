"""Web workers' view of the catalog: one read-only connection per thread, a cheap state check,
and an eye on the catalog file itself.

Workers keep serving what they have when the catalog file is deleted or replaced (an open
SQLite file stays readable), say so in health, and switch to a file that comes back (a
restore). When the catalog cannot be opened the usual way (a full disk: SQLite cannot make
its -shm file) they read it as an immutable snapshot and try the usual way again now and then.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from feedsvc.catalog.reader import Catalog, open_catalog
from feedsvc.errors import CatalogError

RETRY_SECONDS = 2.0  # how often a degraded reader tries the usual way again


@dataclass(frozen=True, slots=True)
class CatalogState:
    """What a reader knows of the catalog: readable or not, and whether the file it reads is
    still the one at the catalog's path."""

    state: str  # "ok", "missing", "replaced", "unreadable", "snapshot"
    detail: str = ""
    generation: int | None = None
    articles: int | None = None
    changed: str | None = None


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


class CatalogWatch:
    """Read-only catalog connections kept per thread, with a cheap check for a new state.

    Web workers only read. `generation()` asks SQLite's `PRAGMA data_version` (no table read)
    whether another connection committed since the last call, and only then reads the
    generation number ingest bumps; it also stats the catalog file (one system call) to notice
    a deleted, replaced or restored catalog.
    """

    def __init__(self, path: Path, *, eager: bool = False) -> None:
        self.path = path
        self._local = threading.local()
        self._spare: tuple[Catalog, tuple[int, int] | None, bool] | None = None
        if eager:
            # Opened now, for the first thread that asks: a worker that had served nothing
            # yet can still serve when the catalog file is deleted later.
            try:
                self._open()
                local = self._local
                self._spare = (local.catalog, local.inode, local.snapshot)
                self._local = threading.local()
            except CatalogError:
                pass

    def _open(self) -> Catalog:
        local = self._local
        local.seen = None
        local.inode = _inode(self.path)
        local.opened_at = time.monotonic()
        local.epoch = getattr(local, "epoch", 0) + 1
        try:
            local.catalog = open_catalog(self.path, readonly=True)
            local.snapshot = False
        except CatalogError:
            if local.inode is None:
                raise
            # A full disk: no -shm can be made. Read what was checkpointed.
            local.catalog = open_catalog(self.path, snapshot=True)
            local.snapshot = True
        catalog: Catalog = local.catalog
        return catalog

    def catalog(self) -> Catalog:
        """Return this thread's read-only catalog, opening it on first use."""
        opened: Catalog | None = getattr(self._local, "catalog", None)
        if opened is None:
            spare, self._spare = self._spare, None
            if spare is None:
                return self._open()
            local = self._local
            local.catalog, local.inode, local.snapshot = spare
            local.seen, local.opened_at, local.epoch = None, time.monotonic(), 1
            opened = spare[0]
        return opened

    def _reopen_if_needed(self) -> None:
        local = self._local
        now_inode = _inode(self.path)
        stale = now_inode is not None and now_inode != local.inode
        retry = local.snapshot and time.monotonic() - local.opened_at > RETRY_SECONDS
        if stale or retry:
            old: Catalog = local.catalog
            try:
                self._open()
            except CatalogError:
                local.catalog, local.inode = old, None  # keep serving the old one
                return
            old.close()

    def generation(self) -> int:
        """Return the catalog's state number, reading it only after a commit elsewhere.

        A reopened catalog (restored, replaced, or out of a degraded state) starts a new
        epoch, so cached responses of the old one are never served as the new one's.
        """
        catalog = self.catalog()
        self._reopen_if_needed()
        catalog = self._local.catalog
        version = catalog.data_version()
        if version != self._local.seen:
            self._local.generation = catalog.generation()
            self._local.seen = version
        value: int = self._local.epoch << 40 | self._local.generation
        return value

    def state(self) -> CatalogState:
        """Return what this thread's reader knows of the catalog, for health."""
        try:
            self.generation()
        except CatalogError as exc:
            return CatalogState("unreadable", exc.reason)
        local = self._local
        catalog: Catalog = local.catalog
        now_inode = _inode(self.path)
        if now_inode is None:
            state, detail = (
                "missing",
                "the catalog file was deleted or moved; serving what was open",
            )
        elif now_inode != local.inode:
            state, detail = "replaced", "the catalog file was replaced and cannot be read"
        elif local.snapshot:
            state, detail = "snapshot", "read as an immutable snapshot (disk full?)"
        else:
            state, detail = "ok", ""
        try:
            articles = catalog.count()
            changed = catalog.meta("changed")
        except CatalogError as exc:
            return CatalogState("unreadable", exc.reason)
        return CatalogState(state, detail, local.generation, articles, changed)


def catalog_state(path: Path) -> CatalogState:
    """Return the catalog's state as a fresh reader sees it (for `feedsvc status`)."""
    watch = CatalogWatch(path)
    try:
        return watch.state()
    finally:
        opened: Catalog | None = getattr(watch._local, "catalog", None)
        if opened is not None:
            opened.close()
