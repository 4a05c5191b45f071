"""The federation store: an SQLite file beside the catalog (`<catalog>.fediverse`) holding the
followers, the remote keys fetched, what followers were told of each article, the durable
delivery queue (queue.py) and the signatures seen lately (replays are refused). Web workers (the
inbox) and the writer's delivery worker both write it; WAL and a busy timeout let them take
turns. It is not the catalog: losing it loses the followers, never an article. Every sqlite3
error leaves as a StoreError (a CatalogError: 503 at the web edge)."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from feedsvc.fediverse.errors import StoreError
from feedsvc.support.migrations import NewerSchema, migrate, version_of

SEEN_CAP = 100_000  # signatures remembered at most (each about 100 bytes)
_SCHEMA_1 = """
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
_SCHEMA_2 = """
ALTER TABLE deliveries ADD COLUMN claimed_at REAL;  -- when a worker claimed it (health)
CREATE TABLE seen (                    -- signatures taken lately: a replay is refused
    digest TEXT PRIMARY KEY,           -- sha256 of keyId and signature
    expires REAL NOT NULL              -- when its Date leaves the accepted window
);
CREATE INDEX seen_expires ON seen (expires);
"""
_UPGRADES = (_SCHEMA_1, _SCHEMA_2)  # _UPGRADES[n - 1] makes version n
SCHEMA_VERSION = len(_UPGRADES)


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

    @contextlib.contextmanager
    def errors(self) -> Iterator[sqlite3.Connection]:
        """Turn sqlite3 errors inside the block into StoreError."""
        try:
            yield self.db
        except sqlite3.Error as exc:
            raise StoreError(str(self.path), str(exc)) from None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one transaction (committed at its end), errors as StoreError."""
        with self.errors(), self.db:
            yield self.db

    # -- followers ---------------------------------------------------------------------------

    def add_follower(self, follower: Follower, then: Callable[[], object] | None = None) -> None:
        """Record (or refresh) a follower, and do `then` in the same transaction."""
        with self.transaction():
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
        with self.transaction():
            cursor = self.db.execute(
                "DELETE FROM followers WHERE scope = ? AND actor = ?", (scope, actor)
            )
        return cursor.rowcount

    def remove_actor(self, actor: str) -> int:
        """Forget a remote actor altogether (it was deleted); return how many follows went."""
        with self.transaction():
            cursor = self.db.execute("DELETE FROM followers WHERE actor = ?", (actor,))
            self.db.execute("DELETE FROM keys WHERE owner = ?", (actor,))
        return cursor.rowcount

    def is_follower(self, actor: str) -> bool:
        """Return whether `actor` follows any of the publication's actors."""
        with self.errors():
            row = self.db.execute("SELECT 1 FROM followers WHERE actor = ? LIMIT 1", (actor,))
            return row.fetchone() is not None

    def follower_count(self, scope: str | None = None) -> int:
        """Return how many follow `scope` ('' the site), or all the actors (None)."""
        with self.errors():
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
        with self.errors():
            rows = self.db.execute(
                "SELECT DISTINCT coalesce(shared_inbox, inbox) FROM followers "  # noqa: S608
                f"WHERE scope IN ({marks}) ORDER BY 1",
                scopes,
            ).fetchall()
        return [row[0] for row in rows]

    def drop_inbox(self, inbox: str) -> int:
        """Forget every follower reached through a dead inbox; return how many."""
        with self.transaction():
            cursor = self.db.execute(
                "DELETE FROM followers WHERE coalesce(shared_inbox, inbox) = ?", (inbox,)
            )
            self.db.execute("DELETE FROM inboxes WHERE inbox = ?", (inbox,))
        return cursor.rowcount

    # -- remote keys -------------------------------------------------------------------------

    def key(self, key_id: str) -> RemoteKey | None:
        """Return a cached remote key."""
        with self.errors():
            row = self.db.execute(
                "SELECT key_id, owner, pem, inbox, shared_inbox, fetched FROM keys "
                "WHERE key_id = ?",
                (key_id,),
            ).fetchone()
        return None if row is None else RemoteKey(*row)

    def put_key(self, key: RemoteKey) -> None:
        """Cache a remote key (replacing the one held)."""
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO keys VALUES (?, ?, ?, ?, ?, ?)",
                (key.key_id, key.owner, key.pem, key.inbox, key.shared_inbox, key.fetched),
            )

    # -- bookkeeping -------------------------------------------------------------------------

    def meta(self, name: str) -> str | None:
        """Return a value the worker keeps."""
        with self.errors():
            row = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def count(self, name: str) -> int:
        """Return one running total (delivered, dropped, ...)."""
        with self.errors():
            row = self.db.execute("SELECT n FROM tally WHERE name = ?", (name,)).fetchone()
        return 0 if row is None else int(row[0])

    # -- signatures seen ---------------------------------------------------------------------

    def first_sight(self, key_id: str, signature: bytes, expires: float, now: float) -> bool:
        """Remember a signature until `expires`; return False when it was seen already (a
        replay). The oldest are forgotten beyond SEEN_CAP, the expired on every call."""
        digest = signature_digest(key_id, signature)
        with self.transaction():
            self.db.execute("DELETE FROM seen WHERE expires < ?", (now,))
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO seen (digest, expires) VALUES (?, ?)", (digest, expires)
            )
            self.db.execute(
                "DELETE FROM seen WHERE rowid <= (SELECT max(rowid) FROM seen) - ?", (SEEN_CAP,)
            )
        return cursor.rowcount == 1

    def was_seen(self, key_id: str, signature: bytes, now: float) -> bool:
        """Return whether a signature was taken already and is still remembered (reads only)."""
        with self.errors():
            row = self.db.execute(
                "SELECT 1 FROM seen WHERE digest = ? AND expires >= ?",
                (signature_digest(key_id, signature), now),
            ).fetchone()
        return row is not None


def signature_digest(key_id: str, signature: bytes) -> str:
    """Return what identifies a signature among those seen: sha256 of its keyId and bytes."""
    return hashlib.sha256(key_id.encode("utf-8") + b"\n" + signature).hexdigest()


def open_store(database: Path) -> Store:
    """Open (creating or upgrading it if needed) the federation store beside the catalog."""
    path = store_file(database)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, timeout=10, isolation_level=None)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        if version_of(connection, _UPGRADES) < SCHEMA_VERSION:
            migrate(connection, _UPGRADES)
        connection.isolation_level = "DEFERRED"  # `with connection:` commits its transaction
    except NewerSchema as exc:
        raise StoreError(str(path), f"the federation store's {exc}") from None
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(str(path), f"the federation store cannot be opened: {exc}") from None
    return Store(connection, path)
