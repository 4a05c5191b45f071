"""The files that live beside the catalog, named in one place."""

from __future__ import annotations

from pathlib import Path


def backup_dir(database: Path) -> Path:
    """Return the folder of the catalog's backups: `<catalog>.backups/`."""
    return database.with_name(database.name + ".backups")


def identity_file(database: Path) -> Path:
    """Return the file keeping the publication id minted with the catalog."""
    return database.with_name(database.name + ".publication-id")


def lock_file(database: Path) -> Path:
    """Return the file whose lock admits one writer (ingest, restore) at a time."""
    return database.with_name(database.name + ".lock")
