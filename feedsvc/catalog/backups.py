"""Consistent backups of the catalog (SQLite's online backup API), and restoring one.

The catalog is the record of ids and dates: it cannot be rebuilt from the files. Backups are
taken beside it (`<catalog>.backups/`), a few deep, on a schedule by the writer and before
every schema migration. A backup is written under a temporary name and renamed when whole,
so a full disk or a kill never leaves half a backup that looks whole.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from feedsvc.catalog.paths import backup_dir
from feedsvc.errors import CatalogError

_NAME = re.compile(r"^catalog-(?P<stamp>\d{8}T\d{6}\d{6}Z)-(?P<reason>[a-z-]+)\.sqlite3$")
_STAMP = "%Y%m%dT%H%M%S%fZ"


@dataclass(frozen=True, slots=True)
class Backup:
    """One backup file."""

    path: Path
    taken: datetime
    reason: str


def list_backups(database: Path) -> list[Backup]:
    """Return the catalog's backups, newest first."""
    folder = backup_dir(database)
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise CatalogError(str(folder), f"cannot list backups: {exc.strerror}") from exc
    found = []
    for name in names:
        match = _NAME.match(name)
        if match:
            taken = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)
            found.append(Backup(folder / name, taken, match["reason"]))
    return sorted(found, key=lambda backup: backup.taken, reverse=True)


def take_backup(
    source: sqlite3.Connection, database: Path, *, reason: str, keep: int, now: datetime
) -> Backup:
    """Copy the catalog open on `source` into a new backup; keep the `keep` newest."""
    folder = backup_dir(database)
    name = f"catalog-{now.astimezone(UTC).strftime(_STAMP)}-{reason}.sqlite3"
    temporary = folder / f".{name}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(temporary)
        try:
            source.backup(target)
            # A backup is a single file: no WAL beside it.
            target.execute("PRAGMA journal_mode = DELETE")
        finally:
            target.close()
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, folder / name)
    except (OSError, sqlite3.Error) as exc:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        reason_text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CatalogError(str(folder), f"cannot write a backup: {reason_text}") from exc
    for old in list_backups(database)[max(keep, 1) :]:
        with contextlib.suppress(OSError):
            old.path.unlink()
    return Backup(folder / name, now, reason)


def check_backup(path: Path) -> str:
    """Return the catalog id of a backup after checking it is a whole catalog."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            verdict = db.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise CatalogError(str(path), f"is damaged ({verdict})")
            row = db.execute("SELECT value FROM meta WHERE name = 'catalog_id'").fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise CatalogError(str(path), f"is not a feedsvc catalog backup ({exc})") from exc
    if row is None:
        raise CatalogError(str(path), "is not a feedsvc catalog backup (no catalog id)")
    return str(row[0])


def restore_into(backup: Path, database: Path) -> None:
    """Make the catalog at `database` a copy of `backup` (the caller holds the writer lock).

    An existing catalog is overwritten through SQLite itself (the backup API into it), so
    readers that have it open see one new state, as after any commit. A missing one is built
    under a temporary name, stale `-wal`/`-shm` files of the deleted catalog are removed (SQLite
    would otherwise replay them onto the copy), and the copy is renamed into place.
    """
    check_backup(backup)
    source = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
    try:
        if database.exists():
            target = sqlite3.connect(database)
            try:
                source.backup(target)
            finally:
                target.close()
            return
        temporary = database.with_name(f".{database.name}.restore.tmp")
        try:
            database.parent.mkdir(parents=True, exist_ok=True)
            target = sqlite3.connect(temporary)
            try:
                source.backup(target)
            finally:
                target.close()
            for suffix in ("-wal", "-shm", "-journal"):
                database.with_name(database.name + suffix).unlink(missing_ok=True)
            os.replace(temporary, database)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            raise
    except (OSError, sqlite3.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CatalogError(str(database), f"cannot restore {backup.name}: {reason}") from exc
    finally:
        source.close()
