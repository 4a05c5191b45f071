"""Files set aside: an article file whose reading was stopped (too slow) or took its reader
down (a crash) is remembered with its signature, so no later ingest, and no restart, reads
it again until it changes. `feedsvc check` and /healthz list them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from feedsvc.articles.problems import Rejected

CODES = frozenset({"too-slow", "crashed"})  # what a file is set aside for

create = """
CREATE TABLE set_aside (
    key TEXT PRIMARY KEY,
    file_sig TEXT NOT NULL,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    since TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class SetAside:
    """One file set aside: its article key and signature, why, and since when."""

    key: str
    file_sig: str
    code: str
    reason: str
    since: str

    def rejected(self, path: str) -> Rejected:
        """Return the problem to report for the file, without reading it."""
        return Rejected(
            path,
            self.code,
            f"{self.reason} (set aside since {self.since}; not read again until it changes)",
        )


def load(db: sqlite3.Connection) -> dict[str, SetAside]:
    """Return the files set aside, by article key."""
    rows = db.execute("SELECT key, file_sig, code, reason, since FROM set_aside ORDER BY key")
    return {row[0]: SetAside(*row) for row in rows}


def keep(db: sqlite3.Connection, found: Iterable[tuple[str, str, Rejected]], since: str) -> None:
    """Set these files aside: (key, signature, why), `since` in the catalog's time form."""
    db.executemany(
        "INSERT INTO set_aside (key, file_sig, code, reason, since) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET file_sig = excluded.file_sig, code = excluded.code, "
        "reason = excluded.reason, since = excluded.since",
        [(key, sig, why.code, why.reason, since) for key, sig, why in found],
    )


def forget(db: sqlite3.Connection, keys: Iterable[str]) -> None:
    """Stop setting these files aside (changed and read, or gone)."""
    db.executemany("DELETE FROM set_aside WHERE key = ?", [(key,) for key in keys])
