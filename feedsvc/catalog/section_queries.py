"""Catalog queries about sections, mixed into Catalog.

Every article page names its section, so `section()` runs once per page: a read-only
connection answers it from the list of every section, read once per state of the catalog
(SQLite's data_version moves when another connection commits, and a read-only one never
commits itself), instead of counting the section's rows on each page.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from feedsvc.catalog.records import Section, newest
from feedsvc.errors import NotFound


class SectionQueries:
    """The section half of Catalog's reading."""

    readonly: bool = False
    _known_sections: tuple[int, dict[str, Section]] | None = None

    def _select(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        raise NotImplementedError

    def data_version(self) -> int:
        """Return SQLite's data_version: it changes when another connection commits."""
        return int(self._select("PRAGMA data_version")[0][0])

    def sections(self) -> list[Section]:
        """Return every section that has published articles, by name."""
        rows = self._select(
            "SELECT min(section) AS name, section_slug, count(*) AS n, max(updated) AS updated "
            "FROM articles WHERE removed IS NULL GROUP BY section_slug ORDER BY name, section_slug"
        )
        return [
            Section(row["name"], row["section_slug"], row["n"], self._newest(row)) for row in rows
        ]

    def section(self, slug: str) -> Section:
        """Return the section called `slug`, or raise NotFound."""
        if self.readonly:
            version = self.data_version()
            known = self._known_sections
            if known is None or known[0] != version:
                known = (version, {section.slug: section for section in self.sections()})
                self._known_sections = known
            found = known[1].get(slug)
            if found is None:
                raise NotFound("section", slug)
            return found
        rows = self._select(
            "SELECT min(section) AS name, count(*) AS n, max(updated) AS updated FROM articles "
            "WHERE section_slug = ? AND removed IS NULL",
            (slug,),
        )
        if not rows or not rows[0]["n"]:
            raise NotFound("section", slug)
        row = rows[0]
        return Section(row["name"], slug, row["n"], self._newest(row, slug))

    def _newest(self, row: sqlite3.Row, slug: str | None = None) -> datetime:
        """Return a section's newest update (`row`'s max), read again row by row when the
        max is a damaged value (records_from_rows leaves that article out)."""
        slug = slug or row["section_slug"]
        sql = "SELECT updated FROM articles WHERE removed IS NULL AND section_slug = ?"
        return newest(row["updated"], lambda: self._select(sql, (slug,)))
