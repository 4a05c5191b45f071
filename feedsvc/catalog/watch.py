"""Web workers' view of the catalog: one read-only connection per thread, a cheap state check."""

from __future__ import annotations

import threading
from pathlib import Path

from feedsvc.catalog.reader import Catalog, open_catalog


class CatalogWatch:
    """Read-only catalog connections kept per thread, with a cheap check for a new state.

    Web workers only read. `generation()` asks SQLite's `PRAGMA data_version` (no table read)
    whether another connection committed since the last call, and only then reads the
    generation number ingest bumps.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def catalog(self) -> Catalog:
        """Return this thread's read-only catalog, opening it on first use."""
        opened: Catalog | None = getattr(self._local, "catalog", None)
        if opened is None:
            opened = open_catalog(self.path, readonly=True)
            self._local.catalog = opened
            self._local.seen = None
        return opened

    def generation(self) -> int:
        """Return the catalog's generation, reading it only after a commit elsewhere."""
        catalog = self.catalog()
        version = catalog.data_version()
        if version != self._local.seen:
            self._local.generation = catalog.generation()
            self._local.seen = version
        value: int = self._local.generation
        return value

    def close(self) -> None:
        """Close this thread's connection."""
        opened: Catalog | None = getattr(self._local, "catalog", None)
        if opened is not None:
            opened.close()
            self._local.catalog = None
