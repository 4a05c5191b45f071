"""Writing the catalog: the statements ingest (the only writer) runs inside one transaction."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from feedsvc.catalog.reader import Catalog
from feedsvc.catalog.schema import format_time


@dataclass(frozen=True, slots=True)
class Stored:
    """What ingest compares a file against: one article row, removed ones too."""

    key: str
    slug: str
    title: str
    section_slug: str
    content_hash: str
    file_sig: str | None
    published: str
    updated: str
    removed: str | None


class Brief(NamedTuple):
    """What ingest compares a file against before reading it."""

    file_sig: str | None
    removed: str | None


@dataclass(frozen=True, slots=True)
class Values:
    """The columns ingest writes for one article."""

    key: str
    slug: str
    section: str
    section_slug: str
    title: str
    paragraphs: tuple[str, ...]
    content_hash: str
    published: str
    updated: str
    author: str | None
    tags: tuple[str, ...]
    summary: str | None
    file_sig: str

    def params(self) -> dict[str, Any]:
        """Return the named SQL parameters."""
        return {
            "key": self.key,
            "slug": self.slug,
            "section": self.section,
            "section_slug": self.section_slug,
            "title": self.title,
            # Parsed paragraphs never hold a newline: one per line.
            "paragraphs": "\n".join(self.paragraphs),
            "content_hash": self.content_hash,
            "published": self.published,
            "updated": self.updated,
            "author": self.author,
            "tags": json.dumps(list(self.tags), ensure_ascii=False),
            "summary": self.summary,
            "file_sig": self.file_sig,
        }


class Batch:
    """One write transaction's statements."""

    def __init__(self, db: sqlite3.Connection, catalog: Catalog) -> None:
        self._db = db
        self._catalog = catalog

    def briefs(self) -> dict[str, Brief]:
        """Return what a rescan compares for every article row (removed ones too), by key."""
        cursor = self._db.cursor()
        cursor.row_factory = None  # plain tuples: 100,000 rows in a blink
        rows = cursor.execute("SELECT key, file_sig, removed FROM articles").fetchall()
        return {row[0]: Brief(*row[1:]) for row in rows}

    def hashes(self, keys: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Return (content hash, section slug) of the given articles (gone or withdrawn ones)."""
        found = {}
        for key in keys:
            row = self._db.execute(
                "SELECT content_hash, section_slug FROM articles WHERE key = ?", (key,)
            ).fetchone()
            found[key] = (row[0], row[1])
        return found

    def stored(self, key: str) -> Stored:
        """Return one article row in full, for an update."""
        row = self._db.execute(
            "SELECT key, slug, title, section_slug, content_hash, file_sig, published, updated, "
            "removed FROM articles WHERE key = ?",
            (key,),
        ).fetchone()
        return Stored(*row)

    def taken_slugs(self) -> dict[str, str]:
        """Return every slug in use or kept for a redirect, with the key it belongs to."""
        rows = self._db.execute(
            "SELECT slug, key FROM articles UNION ALL SELECT slug, key FROM slug_aliases"
        ).fetchall()
        return {row["slug"]: row["key"] for row in rows}

    def identity(self, mint: Callable[[], str]) -> str:
        """Return the publication identity, storing `mint()` the first time."""
        identity = self._catalog.meta("identity")
        if identity is None:
            identity = mint()
            self._db.execute("INSERT INTO meta (name, value) VALUES ('identity', ?)", (identity,))
        return identity

    def insert(self, values: Values, entry_id: str) -> None:
        """Add a new article at the end of the first-ingest order."""
        self._db.execute(
            "INSERT INTO articles (key, entry_id, slug, section, section_slug, title, paragraphs, "
            "content_hash, published, updated, author, tags, summary, file_sig, seq, section_seq) "
            "VALUES (:key, :entry_id, :slug, :section, :section_slug, :title, :paragraphs, "
            ":content_hash, :published, :updated, :author, :tags, :summary, :file_sig, "
            "(SELECT coalesce(max(seq), 0) + 1 FROM articles), "
            "(SELECT coalesce(max(section_seq), 0) + 1 FROM articles "
            "WHERE section_slug = :section_slug))",
            {**values.params(), "entry_id": entry_id},
        )

    def update(self, values: Values) -> None:
        """Replace an article's content (its id and place never change); it is live again.

        An article moved to another section takes the next place at that section's end.
        """
        self._db.execute(
            "UPDATE articles SET section_slug = :section_slug, section_seq = "
            "(SELECT coalesce(max(section_seq), 0) + 1 FROM articles "
            "WHERE section_slug = :section_slug) "
            "WHERE key = :key AND section_slug != :section_slug",
            values.params(),
        )
        self._db.execute(
            "UPDATE articles SET slug = :slug, section = :section, section_slug = :section_slug, "
            "title = :title, paragraphs = :paragraphs, content_hash = :content_hash, "
            "published = :published, updated = :updated, author = :author, tags = :tags, "
            "summary = :summary, file_sig = :file_sig, removed = NULL WHERE key = :key",
            values.params(),
        )

    def rename(self, old_key: str, new_key: str) -> None:
        """Move an article to a new file name, keeping its id, dates and slugs."""
        self._db.execute("PRAGMA defer_foreign_keys = ON")
        self._db.execute("UPDATE articles SET key = ? WHERE key = ?", (new_key, old_key))
        self._db.execute("UPDATE slug_aliases SET key = ? WHERE key = ?", (new_key, old_key))

    def set_file_sig(self, key: str, sig: str) -> None:
        """Remember a file's size/mtime/inode so the next scan can skip reading it."""
        self._db.execute("UPDATE articles SET file_sig = ? WHERE key = ?", (sig, key))

    def keep_alias(self, old_slug: str, key: str, new_slug: str) -> None:
        """Make `old_slug` redirect to the article's new slug."""
        self._db.execute("DELETE FROM slug_aliases WHERE slug = ?", (new_slug,))
        self._db.execute(
            "INSERT OR REPLACE INTO slug_aliases (slug, key) VALUES (?, ?)", (old_slug, key)
        )

    def remove(self, key: str, stamp: str) -> None:
        """Withdraw an article (its slug answers 410, Atom feeds carry a tombstone)."""
        self._db.execute("UPDATE articles SET removed = ? WHERE key = ?", (stamp, key))

    def expire_tombstones(self, cutoff: datetime) -> bool:
        """Hide tombstones of removals before `cutoff`; return whether any was visible."""
        old = self._catalog.meta("tombstone_cutoff") or ""
        new = format_time(cutoff)
        if new <= old:
            return False
        expiring = self._db.execute(
            "SELECT count(*) FROM articles WHERE removed > ? AND removed <= ?", (old, new)
        ).fetchone()[0]
        self._db.execute(
            "INSERT INTO meta (name, value) VALUES ('tombstone_cutoff', ?) ON CONFLICT (name) "
            "DO UPDATE SET value = excluded.value",
            (new,),
        )
        return bool(expiring)

    def bump(self, stamp: str) -> None:
        """Record that what is published changed, and when."""
        self._db.execute(
            "INSERT INTO meta (name, value) VALUES ('generation', '1') ON CONFLICT (name) "
            "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )
        self._db.execute(
            "INSERT INTO meta (name, value) VALUES ('changed', ?) ON CONFLICT (name) "
            "DO UPDATE SET value = excluded.value",
            (stamp,),
        )


@contextmanager
def write(catalog: Catalog) -> Iterator[Batch]:
    """Run the block as one atomic write transaction (rolled back on any error)."""
    db = catalog.connection
    with catalog.errors():
        db.execute("BEGIN IMMEDIATE")
        try:
            yield Batch(db, catalog)
        except BaseException:
            db.rollback()
            raise
        db.commit()
