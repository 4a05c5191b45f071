"""The catalog's schema (versioned with PRAGMA user_version), time format, and opening it."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from feedsvc.catalog import members, set_aside, times
from feedsvc.catalog.backups import list_backups, take_backup
from feedsvc.catalog.paths import backup_dir
from feedsvc.errors import CatalogError
from feedsvc.support.migrations import NewerSchema, Step, migrate, version_of

# The time text form lives with the rest of the dates' rules; still importable from here.
format_time = times.format_time
parse_time = times.parse_time

# Each entry migrates the schema from version i to i + 1 (PRAGMA user_version): SQL, or a
# function where the new rows need feedsvc's own rules (slugs).
_MIGRATIONS: tuple[Step, ...] = (
    """
    CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE articles (
        key TEXT PRIMARY KEY,
        entry_id TEXT NOT NULL UNIQUE,
        slug TEXT NOT NULL UNIQUE,
        section TEXT NOT NULL,
        section_slug TEXT NOT NULL,
        title TEXT NOT NULL,
        paragraphs TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        published TEXT NOT NULL,
        updated TEXT NOT NULL,
        removed TEXT
    );
    CREATE INDEX articles_newest ON articles (published DESC, key DESC) WHERE removed IS NULL;
    CREATE INDEX articles_section ON articles (section_slug, published DESC, key DESC)
        WHERE removed IS NULL;
    CREATE TABLE slug_aliases (slug TEXT PRIMARY KEY, key TEXT NOT NULL REFERENCES articles);
    """,
    # seq: the order of first ingest, fixed forever; archive blocks are cut along it.
    """
    ALTER TABLE articles ADD COLUMN seq INTEGER;
    UPDATE articles SET seq = (
        SELECT count(*) FROM articles AS older
        WHERE (older.published, older.key) <= (articles.published, articles.key)
    );
    CREATE UNIQUE INDEX articles_seq ON articles (seq);
    CREATE INDEX articles_section_seq ON articles (section_slug, seq);
    """,
    # Times gain microseconds: articles of one ingest get successive ones.
    """
    UPDATE articles SET published = replace(published, 'Z', '.000000Z')
        WHERE published NOT LIKE '%.%';
    UPDATE articles SET updated = replace(updated, 'Z', '.000000Z') WHERE updated NOT LIKE '%.%';
    UPDATE articles SET removed = replace(removed, 'Z', '.000000Z') WHERE removed NOT LIKE '%.%';
    UPDATE meta SET value = replace(value, 'Z', '.000000Z')
        WHERE name = 'changed' AND value NOT LIKE '%.%';
    """,
    # file_sig: size/mtime/inode, a hint that lets a rescan skip reading unchanged files;
    # author, tags, summary: from optional front matter.
    """
    ALTER TABLE articles ADD COLUMN file_sig TEXT;
    ALTER TABLE articles ADD COLUMN author TEXT;
    ALTER TABLE articles ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE articles ADD COLUMN summary TEXT;
    CREATE INDEX articles_removed ON articles (removed) WHERE removed IS NOT NULL;
    """,
    # Paragraphs are stored one per line instead of as a JSON array (cheaper both ways).
    """
    UPDATE articles SET paragraphs = (
        SELECT group_concat(value, char(10)) FROM (
            SELECT value FROM json_each(articles.paragraphs) ORDER BY key
        )
    );
    """,
    # section_seq: the place within its section, fixed at first ingest (or on a move).
    """
    ALTER TABLE articles ADD COLUMN section_seq INTEGER;
    UPDATE articles SET section_seq = (
        SELECT count(*) FROM articles AS older
        WHERE older.section_slug = articles.section_slug AND older.seq <= articles.seq
    );
    CREATE UNIQUE INDEX articles_section_place ON articles (section_slug, section_seq);
    """,
    # Archive blocks are cut along section_seq now: the (section_slug, seq) index is unused.
    """
    DROP INDEX IF EXISTS articles_section_seq;
    """,
    # identity: what every id is minted from (a catalog made before keeps its tag_base, so
    # every id it minted stays); catalog_id: tells a restored copy from another catalog.
    """
    INSERT INTO meta (name, value) SELECT 'identity', 'tag:' || value FROM meta
        WHERE name = 'tag_base';
    INSERT INTO meta (name, value) VALUES ('catalog_id', lower(hex(randomblob(16))));
    """,
    # image, image_info: the article's own image (its fingerprinted name, which the image
    # URL is looked up by, and the rest as JSON); NULL: its preview card stands in.
    """
    ALTER TABLE articles ADD COLUMN image TEXT;
    ALTER TABLE articles ADD COLUMN image_info TEXT;
    CREATE INDEX articles_image ON articles (image) WHERE image IS NOT NULL;
    """,
    # members: the tag and author scopes with their fixed places (see members.py).
    members.create,
    # set_aside: files whose reading was stopped or crashed, not read again until they change.
    set_aside.create,
    # Dates in whole seconds, distinct within the publication (see times.py).
    times.distinct_seconds,
    # What the sections' list and the sitemap's dates read, from the indexes alone.
    """
    CREATE INDEX articles_section_live ON articles (section_slug, section, updated)
        WHERE removed IS NULL;
    CREATE INDEX articles_stamps ON articles (seq, updated) WHERE removed IS NULL;
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)


def connect(
    path: Path,
    *,
    readonly: bool = False,
    create: bool = False,
    keep_backups: int = 5,
    snapshot: bool = False,
) -> sqlite3.Connection:
    """Open the catalog database at `path` (a writer migrates it, after a backup).

    A writer creates a missing catalog only when asked to (`create`): a catalog that vanished
    must never be replaced silently by an empty one. A `snapshot` reader opens the file as
    immutable: no -shm or -wal file is made, so it reads even when the disk is full, but it
    sees only what was checkpointed and no later commit.
    """
    connection: sqlite3.Connection | None = None
    try:
        if not path.exists() and (readonly or not create):
            raise CatalogError(str(path), missing_reason(path))
        mode = "ro" if readonly else ("rwc" if create else "rw")
        if snapshot:
            mode, readonly = "ro&immutable=1", True
        if not readonly:
            path.parent.mkdir(parents=True, exist_ok=True)
        if create and not path.exists():
            _create(path)
        connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode={mode}",
            uri=True,
            isolation_level=None,
            check_same_thread=False,
        )
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA busy_timeout = 5000")
        try:
            version = version_of(connection, _MIGRATIONS)
        except NewerSchema as exc:
            raise CatalogError(str(path), str(exc)) from None
        if readonly:
            if version < SCHEMA_VERSION:
                raise CatalogError(str(path), "schema is out of date: run `feedsvc ingest`")
        else:
            connection.execute("PRAGMA journal_mode = WAL")
            # In WAL mode NORMAL never corrupts the catalog; a power cut may lose the last
            # commit, which the next ingest redoes from the files.
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA cache_size = -65536")  # 64 MiB while writing
            connection.execute("PRAGMA foreign_keys = ON")
            if version < SCHEMA_VERSION:
                _migrate(connection, path, version, keep_backups)
    except (sqlite3.Error, OSError, CatalogError) as exc:
        if connection is not None:
            connection.close()
        if isinstance(exc, CatalogError):
            raise
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CatalogError(str(path), explain(reason)) from exc
    return connection


def missing_reason(path: Path) -> str:
    """Say why a catalog is missing and what to do."""
    backups = list_backups(path)
    if backups:
        return (
            f"does not exist, but {len(backups)} backup(s) of it do in {backup_dir(path)}: "
            "run `feedsvc restore` to bring back the newest (ids and dates as they were); "
            "only to start a new catalog, with new dates for every article, move the backups away"
        )
    return "does not exist yet: run `feedsvc ingest` first"


def _create(path: Path) -> None:
    """Make a new catalog with all its tables under a temporary name, then put it in place, so
    a catalog file that exists always has its tables (a kill between creating the file and the
    first migration would otherwise leave an empty file that later writers cannot tell from a
    damaged one). Another process that created it first wins; its file is kept."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.new")
    temporary.unlink(missing_ok=True)
    try:
        made = sqlite3.connect(temporary, isolation_level=None)
        try:
            _migrate(made, temporary, 0, 0)
        finally:
            made.close()
        with contextlib.suppress(FileExistsError):  # never replace a catalog made meanwhile
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _migrate(connection: sqlite3.Connection, path: Path, version: int, keep: int) -> None:
    """Bring the schema up to date in one immediate transaction, after a backup (two
    first-time writers racing on a new catalog take turns)."""
    if version > 0:
        take_backup(connection, path, reason="before-migration", keep=keep, now=datetime.now(UTC))
    migrate(connection, _MIGRATIONS)


def explain(reason: str) -> str:
    """Add what to do to SQLite's terse reasons."""
    hints = {
        "file is not a database": "it is damaged or not a catalog: run `feedsvc restore`",
        "database is locked": "another process is writing it; try again when it is done",
        "database or disk is full": "free some space on the catalog's disk",
        "readonly database": "feedsvc cannot write it: check the file and folder permissions",
        "unable to open database file": "cannot open it: check the path and permissions",
    }
    for known, hint in hints.items():
        if known in reason:
            return f"{reason} ({hint})"
    return reason
