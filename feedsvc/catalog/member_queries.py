"""Catalog queries about tag and author scopes (see members.py), mixed into Catalog."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from feedsvc.catalog.records import Section, Tombstone, newest, tombstone_from_row
from feedsvc.errors import NotFound

# A tag's or an author's scope: (kind, slug), kind 'tag' or 'author'.
Member = tuple[str, str]


class MemberQueries:
    """The tag and author half of Catalog's reading."""

    def _select(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        raise NotImplementedError

    def meta(self, name: str) -> str | None:
        """Return one stored meta value."""
        raise NotImplementedError

    def members(self, kind: str, slug: str | None = None) -> list[Section]:
        """Return every tag (or author) that has published articles, by name, as Sections
        (name, slug, count, newest update); with `slug`, only that one."""
        rows = self._select(
            "SELECT min(m.name) AS name, m.slug, count(*) AS n, max(a.updated) AS updated "
            "FROM members m JOIN articles a ON a.key = m.key "
            "WHERE m.kind = ? AND a.removed IS NULL AND (? IS NULL OR m.slug = ?) "
            "GROUP BY m.slug ORDER BY name, m.slug",
            (kind, slug, slug),
        )
        sql = (
            "SELECT a.updated FROM members m JOIN articles a ON a.key = m.key "
            "WHERE m.kind = ? AND m.slug = ? AND a.removed IS NULL"
        )

        def again(slug: str) -> Callable[[], list[sqlite3.Row]]:
            return lambda: self._select(sql, (kind, slug))

        return [
            Section(row["name"], row["slug"], row["n"], newest(row["updated"], again(row["slug"])))
            for row in rows
        ]

    def member(self, kind: str, slug: str) -> Section:
        """Return the tag (or author) called `slug`, or raise NotFound."""
        found = self.members(kind, slug)
        if not found:
            raise NotFound(kind, slug)
        return found[0]

    def memberships(self) -> dict[str, list[tuple[str, str, str, int]]]:
        """Return (kind, slug, name, place) of every tag and author scope of each live
        article, by key."""
        rows = self._select(
            "SELECT m.key, m.kind, m.slug, m.name, m.place FROM members m "
            "JOIN articles a ON a.key = m.key WHERE a.removed IS NULL ORDER BY m.key"
        )
        found: dict[str, list[tuple[str, str, str, int]]] = {}
        for row in rows:
            found.setdefault(row["key"], []).append(
                (row["kind"], row["slug"], row["name"], row["place"])
            )
        return found

    def tombstones_by_member(self) -> list[tuple[Tombstone, str, str]]:
        """Return (tombstone, kind, slug) for the tag and author scopes of every withdrawn
        article still within its retention period, newest first."""
        cutoff = self.meta("tombstone_cutoff") or ""
        rows = self._select(
            "SELECT a.entry_id, a.removed, a.slug, m.kind, m.slug AS member_slug "
            "FROM articles a JOIN members m ON m.key = a.key "
            "WHERE a.removed IS NOT NULL AND a.removed > ? ORDER BY a.removed DESC, a.key DESC",
            (cutoff,),
        )
        return [(tombstone_from_row(row), row["kind"], row["member_slug"]) for row in rows]
