"""One writer at a time: an advisory lock beside the catalog, held while ingest or a restore
writes, so two `feedsvc ingest` (or an ingest and serve's writer) take turns with a clear word
instead of failing inside SQLite."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from feedsvc.catalog.paths import lock_file
from feedsvc.errors import CatalogError
from feedsvc.support.filelock import open_lock, take_exclusive


@contextmanager
def writer_lock(
    database: Path, *, wait: float = 0.0, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold the catalog's writer lock for the block, waiting up to `wait` seconds for it.

    `on_wait` is called once when another process holds it (to say so before waiting).
    """
    path = lock_file(database)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = open_lock(path)
    except OSError as exc:
        raise CatalogError(
            str(path),
            f"cannot take the writer lock: {exc.strerror} (check the file and folder "
            "permissions: feedsvc keeps this file beside the catalog)",
        ) from exc
    try:
        if not take_exclusive(descriptor, wait=wait, on_wait=on_wait):
            raise CatalogError(
                str(database),
                "another feedsvc process is writing it (an ingest, a server's writer "
                "or a restore); try again when it is done",
            )
        yield
    finally:
        os.close(descriptor)  # closing releases the lock
