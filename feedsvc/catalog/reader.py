"""Reading the catalog: typed queries over one SQLite connection."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from feedsvc import urlmap
from feedsvc.catalog.live_queries import LiveQueries
from feedsvc.catalog.member_queries import Member, MemberQueries
from feedsvc.catalog.records import (
    COLUMNS,
    UNDECODABLE,
    Lookup,
    Record,
    Tombstone,
    newest,
    record_from_row,
    records_from_rows,
    times,
    tombstone_from_row,
)
from feedsvc.catalog.schema import connect, explain, parse_time
from feedsvc.catalog.section_queries import SectionQueries
from feedsvc.errors import CatalogError, NotFound


class Catalog(SectionQueries, MemberQueries, LiveQueries):
    """A connection to the catalog with typed queries; sqlite3 errors become CatalogError."""

    def __init__(
        self, connection: sqlite3.Connection, path: Path, *, readonly: bool = False
    ) -> None:
        self._db = connection
        self.path = path
        self.readonly = readonly
        self._known_sections = None

    @property
    def connection(self) -> sqlite3.Connection:
        """Return the underlying connection (for the writer and for tracing)."""
        return self._db

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Turn sqlite3 errors raised in the block into CatalogError."""
        try:
            yield
        except sqlite3.Error as exc:
            raise CatalogError(str(self.path), explain(str(exc))) from exc

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    # -- reading ---------------------------------------------------------------------------

    def _select(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self.errors():
            return self._db.execute(sql, params).fetchall()

    def meta(self, name: str) -> str | None:
        """Return one stored meta value."""
        rows = self._select("SELECT value FROM meta WHERE name = ?", (name,))
        return str(rows[0]["value"]) if rows else None

    def state(self) -> str:
        """Return a digest of the catalog's id and identity and of the generation and time
        of its last change: every commit that changes what is published moves it (the
        tombstone cutoff, which moves on each ingest, does so only with a change too); so
        does another catalog or a restored one."""
        rows = self._select(
            "SELECT name, value FROM meta WHERE name IN "
            "('catalog_id', 'identity', 'generation', 'changed') ORDER BY name"
        )
        text = "\x1f".join(f"{row['name']}\x1e{row['value']}" for row in rows)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def generation(self) -> int:
        """Return a number that changes whenever ingest changes what is published."""
        return int(self.meta("generation") or 0)

    def changed(self) -> datetime:
        """Return when ingest last changed what is published."""
        text = self.meta("changed")
        if text is None:
            raise CatalogError(str(self.path), "the catalog has not been initialised by ingest")
        return parse_time(text)

    def identity(self) -> str:
        """Return the publication identity every id is minted from (see identity.py)."""
        identity = self.meta("identity")
        if identity is None:
            raise CatalogError(str(self.path), "the catalog has not been initialised by ingest")
        return identity

    def catalog_id(self) -> str:
        """Return the random id minted with this catalog (a restored copy keeps it)."""
        return self.meta("catalog_id") or ""

    def latest(
        self,
        limit: int,
        offset: int = 0,
        *,
        section_slug: str | None = None,
        member: Member | None = None,
    ) -> list[Record]:
        """Return published articles, newest first (ties broken by key, descending)."""
        where, params = _within(section_slug, member)
        rows = self._select(
            f"SELECT {COLUMNS} FROM articles WHERE removed IS NULL{where} "  # noqa: S608
            "ORDER BY published DESC, key DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [record for _row, record in records_from_rows(rows)]

    def count(self, *, section_slug: str | None = None, member: Member | None = None) -> int:
        """Return how many articles are published (in one section, tag or author)."""
        where, params = _within(section_slug, member)
        rows = self._select(
            f"SELECT count(*) AS n FROM articles WHERE removed IS NULL{where}",  # noqa: S608
            params,
        )
        return int(rows[0]["n"])

    def slots(self, *, section_slug: str | None = None, member: Member | None = None) -> int:
        """Return how many archive places the scope has used: every article ever, removed too.

        Places are numbered in first-ingest order: `seq` for the site, `section_seq` within a
        section (an article moved to another section takes a new place at its end), `place`
        within a tag or author; a scope's places are counted in `scope_places` (members.py).
        """
        if member is not None or section_slug:
            sql = "SELECT last AS n FROM scope_places WHERE kind = ? AND slug = ?"
            params: tuple[str, ...] = member or ("section", section_slug or "")
        else:
            sql, params = "SELECT max(seq) AS n FROM articles", ()
        rows = self._select(sql, params)
        return int(rows[0]["n"] or 0) if rows else 0

    def block(
        self,
        first: int,
        last: int,
        *,
        section_slug: str | None = None,
        member: Member | None = None,
    ) -> list[Record]:
        """Return the live articles in places first..last of the scope, newest first."""
        if member is not None:
            where = (
                "key IN (SELECT key FROM members WHERE kind = ? AND slug = ? "
                "AND place BETWEEN ? AND ?)"
            )
            params: list[object] = [*member, first, last]
        elif section_slug:
            where, params = (
                "section_slug = ? AND section_seq BETWEEN ? AND ?",
                [section_slug, first, last],
            )
        else:
            where, params = "seq BETWEEN ? AND ?", [first, last]
        rows = self._select(
            f"SELECT {COLUMNS} FROM articles WHERE {where} "  # noqa: S608
            "AND removed IS NULL ORDER BY published DESC, key DESC",
            params,
        )
        return [record for _row, record in records_from_rows(rows)]

    def stamps(self, offset: int = 0, limit: int = -1) -> list[tuple[str, datetime]]:
        """Return (path, updated) of live articles, oldest first, for sitemaps."""
        rows = self._select(
            "SELECT slug, updated FROM articles WHERE removed IS NULL ORDER BY seq "
            "LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [(urlmap.article(row[0]), moment) for row, moment in times(rows, "updated")]

    def newest_stamp(self, offset: int = 0, limit: int = -1) -> datetime | None:
        """Return the newest update among the articles `stamps(offset, limit)` lists, or None
        when it lists none (a sitemap index dates each part without reading it)."""
        part = "SELECT updated FROM articles WHERE removed IS NULL ORDER BY seq LIMIT ? OFFSET ?"
        rows = self._select(f"SELECT max(updated) AS updated FROM ({part})", (limit, offset))  # noqa: S608
        if not rows or rows[0]["updated"] is None:
            return None
        return newest(rows[0]["updated"], lambda: self._select(part, (limit, offset)))

    def lookup(self, slug: str) -> Lookup:
        """Return what `slug` leads to; raise NotFound when it was never an article's slug."""
        rows = self._select(
            f"SELECT {COLUMNS}, removed FROM articles WHERE slug = ?",  # noqa: S608
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
                return Lookup()
            return Lookup(redirect_to=rows[0]["slug"])
        if rows[0]["removed"] is not None:
            return Lookup()
        try:
            return Lookup(record=record_from_row(rows[0]))
        except UNDECODABLE as exc:
            reason = f"article {rows[0]['key']} cannot be read: {exc}"
            raise CatalogError(str(self.path), reason) from exc

    def aliases(self) -> list[tuple[str, str]]:
        """Return (old slug, current slug) for every redirect to a live article."""
        rows = self._select(
            "SELECT s.slug AS old, a.slug AS new FROM slug_aliases s JOIN articles a USING (key) "
            "WHERE a.removed IS NULL ORDER BY s.slug"
        )
        return [(row["old"], row["new"]) for row in rows]

    def each_live(self) -> Iterator[tuple[Record, int, int]]:
        """Yield (record, place in the site, place in its section) of every live article,
        newest first, a row at a time (a large catalog is never held in memory whole)."""
        for row, record in records_from_rows(self.live_rows()):
            yield record, row["seq"], row["section_seq"]

    def tombstones_by_section(self) -> list[tuple[Tombstone, str]]:
        """Return (tombstone, section slug) of every withdrawn article still within its
        retention period, newest first."""
        cutoff = self.meta("tombstone_cutoff") or ""
        rows = self._select(
            "SELECT entry_id, removed, slug, section_slug FROM articles "
            "WHERE removed IS NOT NULL AND removed > ? ORDER BY removed DESC, key DESC",
            (cutoff,),
        )
        return [(tombstone_from_row(row), row["section_slug"]) for row in rows]

    def tombstones(
        self,
        *,
        section_slug: str | None = None,
        member: Member | None = None,
        limit: int = 1000,
    ) -> list[Tombstone]:
        """Return withdrawn articles still within their retention period, newest first."""
        cutoff = self.meta("tombstone_cutoff") or ""
        where, params = _within(section_slug, member)
        rows = self._select(
            "SELECT entry_id, removed, slug FROM articles "  # noqa: S608 - fixed fragments
            f"WHERE removed IS NOT NULL AND removed > ?{where} "
            "ORDER BY removed DESC, key DESC LIMIT ?",
            [cutoff, *params, limit],
        )
        return [tombstone_from_row(row) for row in rows]


def _within(section_slug: str | None, member: Member | None) -> tuple[str, list[object]]:
    """Return the SQL condition (to AND on) and parameters that keep one scope's articles."""
    if member is not None:
        return " AND key IN (SELECT key FROM members WHERE kind = ? AND slug = ?)", [*member]
    if section_slug:
        return " AND section_slug = ?", [section_slug]
    return "", []


def open_catalog(
    path: Path,
    *,
    readonly: bool = False,
    create: bool = False,
    keep_backups: int = 5,
    snapshot: bool = False,
) -> Catalog:
    """Open the catalog at `path` (a writer migrates it; creates it only with `create`)."""
    connection = connect(
        path, readonly=readonly, create=create, keep_backups=keep_backups, snapshot=snapshot
    )
    return Catalog(connection, path, readonly=readonly or snapshot)
