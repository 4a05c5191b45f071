"""Writing the catalog: the statements ingest (the only writer) runs inside one transaction."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal

from feedsvc.catalog import members
from feedsvc.catalog.ingest_plan import Brief, Stored
from feedsvc.catalog.reader import Catalog
from feedsvc.catalog.records import ARTICLE_COLUMNS, Filed
from feedsvc.catalog.times import format_time, next_second

# What ingest writes for an article: the columns a Record is read from (entry_id only once,
# when the article is added) and the file signature. Values has one field for each, in order.
WRITTEN = (*(name for name in ARTICLE_COLUMNS if name != "entry_id"), "file_sig")
# New articles take the next place on the site and in their section (places never shift).
_NEXT_ON_SITE = "(SELECT coalesce(max(seq), 0) + 1 FROM articles)"
# Statements made of the names above, with named parameters (nothing from input in them).
_NAMES = ", ".join(WRITTEN)
_PARAMS = ", ".join(f":{name}" for name in WRITTEN)
_SETS = ", ".join(f"{name} = :{name}" for name in WRITTEN if name != "key")
_INSERT = (
    f"INSERT INTO articles (entry_id, {_NAMES}, seq, section_seq) "  # noqa: S608
    f"VALUES (:entry_id, {_PARAMS}, {_NEXT_ON_SITE}, :section_seq)"
)
_UPDATE = f"UPDATE articles SET {_SETS}, removed = NULL WHERE key = :key"  # noqa: S608
_STORED = ", ".join(field.name for field in fields(Stored))
# Which article dates a second must be free in: published, updated, or both (a new article
# never edited has one second for the two).
DateColumns = tuple[Literal["published", "updated"], ...]
BOTH: DateColumns = ("published", "updated")


@dataclass(frozen=True, slots=True)
class Values(Filed):
    """The columns ingest writes for one article (see WRITTEN), dates as the catalog's text."""

    published: str
    updated: str
    author: str | None
    tags: tuple[str, ...]
    summary: str | None
    image: str | None  # the image's fingerprinted name
    image_info: str | None  # the rest of it, as JSON (records.image_columns)
    file_sig: str

    def params(self) -> dict[str, Any]:
        """Return the named SQL parameters."""
        params = {name: getattr(self, name) for name in WRITTEN}
        params["paragraphs"] = "\n".join(self.paragraphs)  # parsed ones hold no newline
        params["tags"] = json.dumps(list(self.tags), ensure_ascii=False)
        return params


class Batch:
    """One write transaction's statements."""

    def __init__(self, db: sqlite3.Connection, catalog: Catalog) -> None:
        self._db = db
        self._catalog = catalog
        self.touched: set[tuple[str, str]] = set()  # tag and author scopes written

    def briefs(self) -> dict[str, Brief]:
        """Return what a rescan compares for every article row (removed ones too), by key."""
        cursor = self._db.cursor()
        cursor.row_factory = None  # plain tuples: 100,000 rows in a blink
        rows = cursor.execute("SELECT key, file_sig, removed FROM articles").fetchall()
        return {row[0]: Brief(*row[1:]) for row in rows}

    def rows(self, keys: Iterable[str]) -> dict[str, Stored]:
        """Return the given article rows in full, by key (one query however many)."""
        found = self._db.execute(
            f"SELECT {_STORED} FROM articles "  # noqa: S608 - column names, no input
            "WHERE key IN (SELECT value FROM json_each(?))",
            (json.dumps(list(keys), ensure_ascii=False),),
        ).fetchall()
        return {row[0]: Stored(*row) for row in found}

    def stored(self, key: str) -> Stored:
        """Return one article row in full; raise KeyError when there is none."""
        row = self._db.execute(
            f"SELECT {_STORED} FROM articles WHERE key = ?",  # noqa: S608 - column names
            (key,),
        ).fetchone()
        if row is None:
            raise KeyError(key)
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

    def free_second(self, wanted: str, key: str, columns: DateColumns = BOTH) -> str:
        """Return the first second from `wanted` on (the catalog's text of a whole second) that
        no article but `key`, withdrawn ones included, holds in any of `columns`."""
        holds = " UNION ALL ".join(
            f"SELECT 1 FROM articles WHERE {column} = :second AND key != :key"  # noqa: S608
            for column in columns
        )
        second = wanted
        while self._db.execute(f"{holds} LIMIT 1", {"second": second, "key": key}).fetchone():
            second = next_second(second)
        return second

    def id_taken(self, candidate: str) -> bool:
        """Return whether an article (live or withdrawn) has this entry id."""
        row = self._db.execute("SELECT 1 FROM articles WHERE entry_id = ?", (candidate,))
        return row.fetchone() is not None

    def insert(self, values: Values, entry_id: str) -> None:
        """Add a new article at the end of the first-ingest order."""
        place = members.next_place(self._db, "section", values.section_slug)
        self._db.execute(_INSERT, {**values.params(), "entry_id": entry_id, "section_seq": place})
        self.touched |= members.sync(
            self._db, values.key, members.wanted(values.tags, values.author)
        )

    def update(self, values: Values) -> None:
        """Replace an article's content (its id and place never change); it is live again.

        An article moved to another section takes the next place at that section's end.
        """
        params = values.params()
        members.enter_section(self._db, values.key, values.section_slug)
        self._db.execute(_UPDATE, params)
        self.touched |= members.sync(
            self._db, values.key, members.wanted(values.tags, values.author)
        )

    def rename(self, old_key: str, new_key: str) -> None:
        """Move an article to a new file name, keeping its id, dates and slugs."""
        self._db.execute("PRAGMA defer_foreign_keys = ON")
        self._db.execute("UPDATE articles SET key = ? WHERE key = ?", (new_key, old_key))
        self._db.execute("UPDATE slug_aliases SET key = ? WHERE key = ?", (new_key, old_key))
        members.rename(self._db, old_key, new_key)

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
        self.touched |= members.of(self._db, key)

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
