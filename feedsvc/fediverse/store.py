"""The federation store: an SQLite file beside the catalog (`<catalog>.fediverse`) holding the
followers, the remote keys fetched, what followers were told of each article, and the durable
delivery queue (queue.py). Web workers (the inbox) and the writer's delivery worker both write
it; WAL and a busy timeout let them take turns. It is not the catalog: losing it loses the
followers, never an article."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from feedsvc.errors import CatalogError

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE followers (
    scope TEXT NOT NULL,               -- '' for the site's actor, else the section's slug
    actor TEXT NOT NULL,
    inbox TEXT NOT NULL,
    shared_inbox TEXT,
    since REAL NOT NULL,
    PRIMARY KEY (scope, actor)
);
CREATE INDEX followers_actor ON followers (actor);
CREATE TABLE keys (
    key_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    pem TEXT NOT NULL,
    inbox TEXT,
    shared_inbox TEXT,
    fetched REAL NOT NULL
);
CREATE TABLE published (               -- what followers were told of each live article
    entry_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    section_slug TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    inbox TEXT NOT NULL,
    signer TEXT NOT NULL,              -- the actor whose key signs it
    body BLOB NOT NULL,
    created REAL NOT NULL,
    next_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    claimed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX deliveries_due ON deliveries (claimed, next_at);
CREATE TABLE inboxes (inbox TEXT PRIMARY KEY, failing_since REAL NOT NULL);
CREATE TABLE tally (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
"""


def store_file(database: Path) -> Path:
    """Return the federation store beside the catalog: `<catalog>.fediverse`."""
    return database.with_name(database.name + ".fediverse")


@dataclass(frozen=True, slots=True)
class Follower:
    """One remote actor following one of the publication's actors."""

    scope: str  # '' for the site, else a section's slug
    actor: str
    inbox: str
    shared_inbox: str | None


@dataclass(frozen=True, slots=True)
class RemoteKey:
    """A remote actor's public key as fetched, with where its inboxes are."""

    key_id: str
    owner: str
    pem: str
    inbox: str | None
    shared_inbox: str | None
    fetched: float


class Store:
    """One connection to the federation store."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.db = connection
        self.path = path

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- followers ---------------------------------------------------------------------------

    def add_follower(self, follower: Follower, then: Callable[[], object] | None = None) -> None:
        """Record (or refresh) a follower, and do `then` in the same transaction."""
        with self.db:
            self.db.execute(
                "INSERT INTO followers (scope, actor, inbox, shared_inbox, since) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope, actor) DO UPDATE SET "
                "inbox = excluded.inbox, shared_inbox = excluded.shared_inbox",
                (
                    follower.scope,
                    follower.actor,
                    follower.inbox,
                    follower.shared_inbox,
                    time.time(),
                ),
            )
            if then is not None:
                then()

    def remove_follower(self, scope: str, actor: str) -> int:
        """Forget that `actor` follows `scope`; return how many rows went."""
        with self.db:
            cursor = self.db.execute(
                "DELETE FROM followers WHERE scope = ? AND actor = ?", (scope, actor)
            )
        return cursor.rowcount

    def remove_actor(self, actor: str) -> int:
        """Forget a remote actor altogether (it was deleted); return how many follows went."""
        with self.db:
            cursor = self.db.execute("DELETE FROM followers WHERE actor = ?", (actor,))
            self.db.execute("DELETE FROM keys WHERE owner = ?", (actor,))
        return cursor.rowcount

    def is_follower(self, actor: str) -> bool:
        """Return whether `actor` follows any of the publication's actors."""
        row = self.db.execute("SELECT 1 FROM followers WHERE actor = ? LIMIT 1", (actor,))
        return row.fetchone() is not None

    def follower_count(self, scope: str | None = None) -> int:
        """Return how many follow `scope` ('' the site), or all the actors (None)."""
        if scope is None:
            row = self.db.execute("SELECT count(*) FROM followers").fetchone()
        else:
            row = self.db.execute(
                "SELECT count(*) FROM followers WHERE scope = ?", (scope,)
            ).fetchone()
        return int(row[0])

    def inboxes(self, scopes: Iterable[str]) -> list[str]:
        """Return each distinct inbox (shared where there is one) of the scopes' followers."""
        scopes = list(scopes)
        marks = ", ".join("?" for _ in scopes)
        rows = self.db.execute(
            "SELECT DISTINCT coalesce(shared_inbox, inbox) FROM followers "  # noqa: S608
            f"WHERE scope IN ({marks}) ORDER BY 1",
            scopes,
        )
        return [row[0] for row in rows]

    def drop_inbox(self, inbox: str) -> int:
        """Forget every follower reached through a dead inbox; return how many."""
        with self.db:
            cursor = self.db.execute(
                "DELETE FROM followers WHERE coalesce(shared_inbox, inbox) = ?", (inbox,)
            )
            self.db.execute("DELETE FROM inboxes WHERE inbox = ?", (inbox,))
        return cursor.rowcount

    # -- remote keys -------------------------------------------------------------------------

    def key(self, key_id: str) -> RemoteKey | None:
        """Return a cached remote key."""
        row = self.db.execute(
            "SELECT key_id, owner, pem, inbox, shared_inbox, fetched FROM keys WHERE key_id = ?",
            (key_id,),
        ).fetchone()
        return None if row is None else RemoteKey(*row)

    def put_key(self, key: RemoteKey) -> None:
        """Cache a remote key (replacing the one held)."""
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO keys VALUES (?, ?, ?, ?, ?, ?)",
                (key.key_id, key.owner, key.pem, key.inbox, key.shared_inbox, key.fetched),
            )

    # -- bookkeeping -------------------------------------------------------------------------

    def meta(self, name: str) -> str | None:
        """Return a value the worker keeps."""
        row = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def count(self, name: str) -> int:
        """Return one running total (delivered, dropped, ...)."""
        row = self.db.execute("SELECT n FROM tally WHERE name = ?", (name,)).fetchone()
        return 0 if row is None else int(row[0])


def open_store(database: Path) -> Store:
    """Open (creating it if needed) the federation store beside the catalog `database`."""
    path = store_file(database)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, timeout=10, isolation_level=None)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.isolation_level = "DEFERRED"  # `with connection:` commits its transaction
        if connection.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                if connection.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            connection.execute(statement)
                    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except sqlite3.Error as exc:
        raise CatalogError(str(path), f"the federation store cannot be opened: {exc}") from None
    return Store(connection, path)
