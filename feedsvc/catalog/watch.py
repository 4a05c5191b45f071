"""Web workers' view of the catalog: one read-only connection per thread, a cheap state check,
and an eye on the catalog file itself.

Workers keep serving what they have when the catalog file is deleted or replaced (an open
SQLite file stays readable), say so in health, and switch to a file that comes back (a
restore of the same catalog), never to another catalog put in its place. When the catalog
cannot be opened the usual way (a full disk: SQLite cannot make its -shm file) they read a
copy with its WAL, or else an immutable snapshot, and try the usual way again now and then.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from feedsvc.catalog import set_aside
from feedsvc.catalog.place import catalog_id_of
from feedsvc.catalog.reader import Catalog, open_catalog
from feedsvc.catalog.readonly_copy import copy_with_wal, discard
from feedsvc.catalog.records import COLUMNS, undecodable
from feedsvc.catalog.set_aside import SetAside
from feedsvc.errors import CatalogError

RETRY_SECONDS = 2.0  # how often a degraded reader tries the usual way again
_ANOTHER = (
    "another catalog was put in the catalog's place: nothing is written to it or served from "
    "it; `feedsvc restore` the right one, or restart feedsvc to publish from the new one"
)


@dataclass(frozen=True, slots=True)
class CatalogState:
    """What a reader knows of the catalog: readable or not, and whether the file it reads is
    still the one at the catalog's path."""

    state: str  # "ok", "missing", "replaced", "unreadable", "read-only"
    detail: str = ""
    generation: int | None = None
    articles: int | None = None
    changed: str | None = None
    set_aside: tuple[SetAside, ...] = ()  # files not read again until they change
    left_out: tuple[tuple[str, str], ...] = ()  # (key, reason): rows that cannot be read


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

    def __init__(self, path: Path, *, eager: bool = False, catalog_id: str | None = None) -> None:
        self.path = path
        self._local = threading.local()
        self._spare: tuple[Catalog, tuple[int, int] | None, bool, Path | None] | None = None
        # Which catalog this server publishes: another one put in its place (even a valid
        # one) is never served as the same publication.
        self._catalog_id = catalog_id
        if eager:
            # Opened now, for the first thread that asks: a worker that had served nothing
            # yet can still serve when the catalog file is deleted later.
            with contextlib.suppress(CatalogError):
                self._spare = self._ours(self._connect())

    def _connect(self) -> tuple[Catalog, tuple[int, int] | None, bool, Path | None]:
        """Open the catalog: in place, or else (a full disk: SQLite cannot make its -shm
        file) a read-only copy with its WAL, or what was checkpointed, read as immutable."""
        inode = _inode(self.path)
        try:
            return open_catalog(self.path, readonly=True), inode, False, None
        except CatalogError:
            if inode is None:
                raise
        copy = copy_with_wal(self.path)
        if copy is not None:
            try:
                return open_catalog(copy, readonly=True), inode, True, copy
            except CatalogError:
                discard(copy)
        return open_catalog(self.path, snapshot=True), inode, True, None

    def _ours(
        self, opened: tuple[Catalog, tuple[int, int] | None, bool, Path | None]
    ) -> tuple[Catalog, tuple[int, int] | None, bool, Path | None]:
        """Return `opened` if it is the catalog this server publishes, else close it and raise."""
        try:
            found = catalog_id_of(self.path)
        except CatalogError:
            opened[0].close()
            raise
        if self._catalog_id is None:
            self._catalog_id = found
        elif found != self._catalog_id:
            opened[0].close()
            raise CatalogError(str(self.path), _ANOTHER)
        return opened

    def _open(self) -> Catalog:
        opened = self._ours(self._connect())
        self._adopt(*opened)
        return opened[0]

    def _adopt(
        self,
        catalog: Catalog,
        inode: tuple[int, int] | None,
        degraded: bool,
        copy: Path | None,
    ) -> None:
        local = self._local
        local.catalog, local.inode, local.snapshot, local.copy = catalog, inode, degraded, copy
        local.seen, local.opened_at = None, time.monotonic()
        local.epoch = getattr(local, "epoch", 0) + 1

    def catalog(self) -> Catalog:
        """Return this thread's read-only catalog, opening it on first use."""
        opened: Catalog | None = getattr(self._local, "catalog", None)
        if opened is None:
            spare, self._spare = self._spare, None
            if spare is None:
                return self._open()
            self._adopt(*spare)
            opened = spare[0]
        return opened

    def _reopen_if_needed(self) -> None:
        local = self._local
        now_inode = _inode(self.path)
        stale = now_inode not in (None, local.inode, getattr(local, "refused", None))
        retry = local.snapshot and time.monotonic() - local.opened_at > RETRY_SECONDS
        if not (stale or retry):
            return
        try:
            fresh = self._connect()
        except CatalogError:
            local.inode = None  # keep serving the old one
            return
        try:
            self._ours(fresh)
        except CatalogError:
            local.refused = fresh[1]
            return
        old, old_copy = local.catalog, local.copy
        self._adopt(*fresh)
        old.close()
        if old_copy is not None and old_copy != local.copy:
            discard(old_copy)

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
        elif now_inode == getattr(local, "refused", None):
            state, detail = "replaced", f"{_ANOTHER}; serving the one that was open"
        elif now_inode != local.inode:
            state, detail = "replaced", "the catalog file was replaced and cannot be read"
        elif local.copy is not None:
            state, detail = (
                "read-only",
                "the catalog cannot be opened in place (disk full?): serving a read-only copy "
                "with its last commits until it can",
            )
        elif local.snapshot:
            state, detail = (
                "read-only",
                "the catalog cannot be opened in place (disk full?): serving what was "
                "checkpointed, read-only, until it can",
            )
        else:
            state, detail = "ok", ""
        try:
            articles = catalog.count()
            changed = catalog.meta("changed")
            with catalog.errors():
                aside = tuple(set_aside.load(catalog.connection).values())
                left_out = self._left_out(catalog)
        except CatalogError as exc:
            return CatalogState("unreadable", exc.reason)
        return CatalogState(state, detail, local.generation, articles, changed, aside, left_out)

    def _left_out(self, catalog: Catalog) -> tuple[tuple[str, str], ...]:
        """Return (key, reason) of live articles whose rows cannot be read, checked once per
        catalog state (a scan of every row)."""
        local = self._local
        seen = getattr(local, "left_out", None)
        if seen is not None and seen[0] == (local.epoch, local.generation):
            found: tuple[tuple[str, str], ...] = seen[1]
            return found
        rows = catalog.connection.execute(
            f"SELECT {COLUMNS} FROM articles WHERE removed IS NULL"  # noqa: S608 - names only
        )
        found = tuple(undecodable(rows))
        local.left_out = ((local.epoch, local.generation), found)
        return found


def catalog_state(path: Path) -> CatalogState:
    """Return the catalog's state as a fresh reader sees it (for `feedsvc status`)."""
    watch = CatalogWatch(path)
    try:
        return watch.state()
    finally:
        opened: Catalog | None = getattr(watch._local, "catalog", None)
        if opened is not None:
            opened.close()
