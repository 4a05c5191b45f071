"""Catalog queries over every live article's row, mixed into Catalog.

A builder that remembers what it made of each row (keyed by everything but the text, which the
content hash stands for) reads the rows without their text, then the whole rows of the few that
changed, inside one read transaction so both readings see the same state.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager

from feedsvc.catalog.records import ARTICLE_COLUMNS, COLUMNS

# COLUMNS with the text left out (read as NULL, so each row keeps its shape).
_WITHOUT_TEXT = ", ".join("NULL AS paragraphs" if c == "paragraphs" else c for c in ARTICLE_COLUMNS)
_LIVE = "FROM articles WHERE removed IS NULL"
_CHUNK = 500  # keys per query: well under SQLite's limit on bound parameters


class LiveQueries:
    """The every-live-article half of Catalog's reading."""

    _db: sqlite3.Connection

    def errors(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _select(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        raise NotImplementedError

    def live_rows(self, *, text: bool = True) -> Iterator[sqlite3.Row]:
        """Yield the row (COLUMNS, seq, section_seq) of every live article, newest first;
        without `text` its paragraphs are None (a fifth of the bytes of a typical row)."""
        columns = COLUMNS if text else _WITHOUT_TEXT
        with self.errors():
            yield from self._db.execute(
                f"SELECT {columns}, seq, section_seq {_LIVE} ORDER BY published DESC, key DESC"
            )

    def whole_rows(self, keys: Collection[str]) -> dict[str, sqlite3.Row]:
        """Return the whole row (as live_rows gives it) of each live article of `keys`."""
        wanted = sorted(keys)
        found: dict[str, sqlite3.Row] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._select(
                f"SELECT {COLUMNS}, seq, section_seq {_LIVE} AND key IN ({marks})",
                chunk,
            )
            found |= {row["key"]: row for row in rows}
        return found

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Read the block's queries from one state of the catalog (a read transaction), unless
        the connection is in a transaction already."""
        if self._db.in_transaction:
            yield
            return
        with self.errors():
            self._db.execute("BEGIN")
        try:
            yield
        finally:
            with self.errors():
                self._db.execute("COMMIT")
