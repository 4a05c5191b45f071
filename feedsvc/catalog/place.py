"""Which catalog file a writer works on: the one it wrote before, or none at all.

The catalog file can be deleted, moved or replaced under a running server (a restore, an
operator's mistake, another catalog copied over it). A writer remembers the file and the
catalog it holds, and refuses to write into anything else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from feedsvc.catalog.reader import Catalog, open_catalog
from feedsvc.config.settings import Settings
from feedsvc.errors import CatalogError


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """Which catalog file a writer works on: the file itself and the catalog it holds."""

    device: int
    inode: int
    catalog_id: str


def file_identity(catalog: Catalog, status: os.stat_result | None = None) -> FileIdentity:
    """Return the identity of the catalog file open in `catalog` (`status`: the file's, taken
    before it was opened)."""
    status = status or os.stat(catalog.path)
    return FileIdentity(status.st_dev, status.st_ino, catalog.catalog_id())


_REPLACED = (
    "was replaced by a different catalog while feedsvc was running: nothing is written to it; "
    "restart feedsvc to publish from it, or `feedsvc restore` the right one"
)


def check_same_file(settings: Settings, known: FileIdentity | None) -> os.stat_result | None:
    """Refuse to write when the catalog file was deleted, moved or replaced meanwhile; return
    the file's status (None when nothing is known yet).

    A file holding the same catalog (a restored backup) is fine: the writer carries on.
    """
    path = settings.database
    try:
        status = os.stat(path)
    except FileNotFoundError:
        if known is None:
            return None
        raise CatalogError(
            str(path),
            "was deleted or moved while feedsvc was running: nothing is written until it is "
            "back (serving goes on from what the workers have open); run `feedsvc restore` to "
            "bring back the newest backup",
        ) from None
    except OSError as exc:
        raise CatalogError(str(path), f"cannot be checked: {exc.strerror}") from exc
    if known is None or (status.st_dev, status.st_ino) == (known.device, known.inode):
        return status
    if catalog_id_of(path) != known.catalog_id:
        raise CatalogError(str(path), _REPLACED)
    return status


def check_opened(catalog: Catalog, known: FileIdentity | None) -> None:
    """Refuse the catalog just opened unless it is the one written before: the file can be
    replaced between the check of its path and its opening."""
    if known is not None and catalog.catalog_id() != known.catalog_id:
        raise CatalogError(str(catalog.path), _REPLACED)


def catalog_id_of(path: Path) -> str:
    """Return the id of the catalog in the file at `path`, read from the file alone.

    The -wal file beside a catalog belongs to whichever catalog was open there: when another
    file is moved into its place, SQLite would lay the old WAL's pages over the new file and
    show the old catalog's id. An immutable read ignores the WAL.
    """
    catalog = open_catalog(path, snapshot=True)
    try:
        return catalog.catalog_id()
    finally:
        catalog.close()
