"""The SQLite catalog: the one store between ingest (the only writer) and the readers."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from feedsvc.errors import CatalogError, NotFound

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


@dataclass(frozen=True, slots=True)
class Record:
    """One published article as the catalog holds it."""

    key: str
    entry_id: str
    slug: str
    section: str
    section_slug: str
    title: str
    paragraphs: tuple[str, ...]
    content_hash: str
    published: datetime
    updated: datetime

    @property
    def summary(self) -> str:
        """Return the first paragraph."""
        return self.paragraphs[0]

    @property
    def path(self) -> str:
        """Return the site path of the permalink page."""
        return f"/articles/{self.slug}/"


@dataclass(frozen=True, slots=True)
class Section:
    """One section with how many articles it has and when it last changed."""

    name: str
    slug: str
    count: int
    updated: datetime


@dataclass(frozen=True, slots=True)
class Lookup:
    """What a slug leads to: a live article, a redirect to its current slug, or a removal."""

    record: Record | None = None
    redirect_to: str | None = None
    removed: bool = False


_COLUMNS = ", ".join(
    [
        "key",
        "entry_id",
        "slug",
        "section",
        "section_slug",
        "title",
        "paragraphs",
        "content_hash",
        "published",
        "updated",
    ]
)


def _record(row: sqlite3.Row) -> Record:
    return Record(
        key=row["key"],
        entry_id=row["entry_id"],
        slug=row["slug"],
        section=row["section"],
        section_slug=row["section_slug"],
        title=row["title"],
        paragraphs=tuple(json.loads(row["paragraphs"])),
        content_hash=row["content_hash"],
        published=parse_time(row["published"]),
        updated=parse_time(row["updated"]),
    )


class Catalog:
    """A connection to the catalog with typed queries; sqlite3 errors become CatalogError."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise CatalogError(str(self.path), str(exc)) from exc

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    # -- reading ---------------------------------------------------------------------------

    def _select(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._errors():
            return self._db.execute(sql, params).fetchall()

    def meta(self, name: str) -> str | None:
        """Return one stored meta value."""
        rows = self._select("SELECT value FROM meta WHERE name = ?", (name,))
        return str(rows[0]["value"]) if rows else None

    def data_version(self) -> int:
        """Return SQLite's data_version: it changes when another connection commits."""
        return int(self._select("PRAGMA data_version")[0][0])

    def generation(self) -> int:
        """Return a number that changes whenever ingest changes what is published."""
        return int(self.meta("generation") or 0)

    def changed(self) -> datetime:
        """Return when ingest last changed what is published."""
        text = self.meta("changed")
        if text is None:
            raise CatalogError(str(self.path), "the catalog has not been initialised by ingest")
        return parse_time(text)

    def tag_base(self) -> str:
        """Return the RFC 4151 tagging entity ('host,date') minted when the catalog was made."""
        base = self.meta("tag_base")
        if base is None:
            raise CatalogError(str(self.path), "the catalog has not been initialised by ingest")
        return base

    def latest(
        self, limit: int, offset: int = 0, *, section_slug: str | None = None
    ) -> list[Record]:
        """Return published articles, newest first (ties broken by key, descending)."""
        where = "removed IS NULL" + (" AND section_slug = ?" if section_slug else "")
        params: list[object] = [section_slug] if section_slug else []
        rows = self._select(
            f"SELECT {_COLUMNS} FROM articles WHERE {where} "  # noqa: S608 - fixed fragments
            "ORDER BY published DESC, key DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [_record(row) for row in rows]

    def count(self, *, section_slug: str | None = None) -> int:
        """Return how many articles are published (in one section)."""
        if section_slug:
            rows = self._select(
                "SELECT count(*) AS n FROM articles WHERE removed IS NULL AND section_slug = ?",
                (section_slug,),
            )
        else:
            rows = self._select("SELECT count(*) AS n FROM articles WHERE removed IS NULL")
        return int(rows[0]["n"])

    def sections(self) -> list[Section]:
        """Return every section that has published articles, by name."""
        rows = self._select(
            "SELECT min(section) AS name, section_slug, count(*) AS n, max(updated) AS updated "
            "FROM articles WHERE removed IS NULL GROUP BY section_slug ORDER BY name, section_slug"
        )
        return [
            Section(row["name"], row["section_slug"], row["n"], parse_time(row["updated"]))
            for row in rows
        ]

    def section(self, slug: str) -> Section:
        """Return the section called `slug`, or raise NotFound."""
        for section in self.sections():
            if section.slug == slug:
                return section
        raise NotFound("section", slug)

    def slots(self, *, section_slug: str | None = None) -> int:
        """Return how many archive places the scope has used: every article ever, removed too."""
        if section_slug:
            rows = self._select(
                "SELECT count(*) AS n FROM articles WHERE section_slug = ?", (section_slug,)
            )
        else:
            rows = self._select("SELECT count(*) AS n FROM articles")
        return int(rows[0]["n"])

    def block(self, first: int, last: int, *, section_slug: str | None = None) -> list[Record]:
        """Return the live articles ranked first..last (1-based, by seq) in scope, newest first."""
        where = "section_slug = ?" if section_slug else "1"
        params: list[object] = [section_slug] if section_slug else []
        rows = self._select(
            f"SELECT * FROM (SELECT {_COLUMNS}, removed, row_number() OVER (ORDER BY seq) AS rank "  # noqa: S608
            f"FROM articles WHERE {where}) WHERE rank BETWEEN ? AND ? AND removed IS NULL "
            "ORDER BY published DESC, key DESC",
            [*params, first, last],
        )
        return [_record(row) for row in rows]

    def stamps(self) -> list[tuple[str, datetime]]:
        """Return (path, updated) of every live article, oldest first, for sitemaps."""
        rows = self._select("SELECT slug, updated FROM articles WHERE removed IS NULL ORDER BY seq")
        return [(f"/articles/{row['slug']}/", parse_time(row["updated"])) for row in rows]

    def lookup(self, slug: str) -> Lookup:
        """Return what `slug` leads to; raise NotFound when it was never an article's slug."""
        rows = self._select(
            f"SELECT {_COLUMNS}, removed FROM articles WHERE slug = ?",  # noqa: S608
            (slug,),
        )
        if not rows:
            rows = self._select(
                "SELECT a.slug, a.removed FROM slug_aliases s JOIN articles a USING (key) "
                "WHERE s.slug = ?",
                (slug,),
            )
            if not rows:
                raise NotFound("article", slug)
            if rows[0]["removed"] is not None:
                return Lookup(removed=True)
            return Lookup(redirect_to=rows[0]["slug"])
        if rows[0]["removed"] is not None:
            return Lookup(removed=True)
        return Lookup(record=_record(rows[0]))

    def all_rows(self) -> dict[str, sqlite3.Row]:
        """Return every article row (removed ones too) by key, for ingest to compare against."""
        rows = self._select(
            "SELECT key, slug, title, content_hash, removed, published, updated FROM articles"
        )
        return {row["key"]: row for row in rows}

    def taken_slugs(self) -> dict[str, str]:
        """Return every slug in use or kept for a redirect, with the key it belongs to."""
        rows = self._select(
            "SELECT slug, key FROM articles UNION ALL SELECT slug, key FROM slug_aliases"
        )
        return {row["slug"]: row["key"] for row in rows}

    # -- writing (ingest only) -------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the block as one atomic write transaction."""
        with self._errors():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.rollback()
                raise
            self._db.commit()

    def ensure_tag_base(self, db: sqlite3.Connection, host: str, today: datetime) -> str:
        """Mint the tagging entity once, from the site host and the first ingest date."""
        base = self.meta("tag_base")
        if base is None:
            base = f"{quote(host, safe='.-')},{today.strftime('%Y-%m-%d')}"
            db.execute("INSERT INTO meta (name, value) VALUES ('tag_base', ?)", (base,))
        return base

    def bump_generation(self, db: sqlite3.Connection, stamp: str) -> None:
        """Record that what is published changed, and when."""
        db.execute(
            "INSERT INTO meta (name, value) VALUES ('generation', '1') ON CONFLICT (name) "
            "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )
        db.execute(
            "INSERT INTO meta (name, value) VALUES ('changed', ?) ON CONFLICT (name) "
            "DO UPDATE SET value = excluded.value",
            (stamp,),
        )


def open_catalog(path: Path, *, readonly: bool = False) -> Catalog:
    """Open (and for a writer, create or migrate) the catalog at `path`."""
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
            connection.execute("PRAGMA foreign_keys = ON")
            for number in range(version, SCHEMA_VERSION):
                connection.executescript(
                    f"BEGIN; {_MIGRATIONS[number]}; PRAGMA user_version = {number + 1}; COMMIT;"
                )
    except sqlite3.Error as exc:
        raise CatalogError(str(path), str(exc)) from exc
    except OSError as exc:
        raise CatalogError(str(path), exc.strerror or str(exc)) from exc
    return Catalog(connection, path)


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
