"""The catalog's schema (versioned with PRAGMA user_version), time format, and opening it."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from feedsvc.errors import CatalogError

# Fixed-width text (microseconds always written) so that text order is time order.
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

# Each entry migrates the schema from version i to i + 1 (PRAGMA user_version).
_MIGRATIONS: tuple[str, ...] = (
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
)
SCHEMA_VERSION = len(_MIGRATIONS)


def format_time(moment: datetime) -> str:
    """Return the catalog's text form of an aware datetime, in UTC, to the microsecond."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def parse_time(text: str) -> datetime:
    """Return the aware UTC datetime stored as `text`."""
    return datetime.fromisoformat(text).astimezone(UTC)


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open (and for a writer, create or migrate) the catalog database at `path`."""
    connection: sqlite3.Connection | None = None
    try:
        if readonly:
            if not path.exists():
                raise CatalogError(str(path), "does not exist yet: run `feedsvc ingest` first")
            connection = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
            )
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA busy_timeout = 5000")
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise CatalogError(
                str(path), f"schema version {version} is newer than this feedsvc ({SCHEMA_VERSION})"
            )
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
            for number in range(version, SCHEMA_VERSION):
                connection.executescript(
                    f"BEGIN; {_MIGRATIONS[number]}; PRAGMA user_version = {number + 1}; COMMIT;"
                )
    except (sqlite3.Error, OSError, CatalogError) as exc:
        if connection is not None:
            connection.close()
        if isinstance(exc, CatalogError):
            raise
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CatalogError(str(path), explain(reason)) from exc
    return connection


def explain(reason: str) -> str:
    """Add what to do to SQLite's terse reasons."""
    hints = {
        "file is not a database": "it is damaged or not a catalog: move it away, ingest again",
        "database is locked": "another process is writing it; try again when it is done",
        "readonly database": "feedsvc cannot write it: check the file and folder permissions",
        "unable to open database file": "cannot open it: check the path and permissions",
    }
    for known, hint in hints.items():
        if known in reason:
            return f"{reason} ({hint})"
    return reason
