"""The durable delivery queue: one row per (activity, inbox), in the federation store.

A row is deleted only once its inbox said 2xx (or refused it for good), so a writer killed at
any moment loses nothing: the next one clears the claims of the dead one and goes on (an
activity may then arrive twice; receivers drop repeats by its id). A failed row is retried with
exponential backoff; once it and its inbox have failed for `give_up` seconds it is dropped and
the inbox counts as dead (its followers are forgotten).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from feedsvc.fediverse.store import Store

MAX_BACKOFF = 3600.0  # seconds between two tries at most


@dataclass(frozen=True, slots=True)
class Delivery:
    """One activity to send to one inbox, signed by one of the publication's actors."""

    id: int
    inbox: str
    signer: str
    body: bytes
    created: float
    attempts: int


def enqueue(store: Store, items: Iterable[tuple[str, str, bytes]], now: float | None = None) -> int:
    """Queue (inbox, signer actor id, body) items in one transaction; return how many."""
    with store.transaction():
        return insert(store, items, now)


def insert(store: Store, items: Iterable[tuple[str, str, bytes]], now: float | None = None) -> int:
    """Queue items inside the caller's transaction; return how many."""
    now = time.time() if now is None else now
    rows = [(inbox, signer, body, now, now) for inbox, signer, body in items]
    with store.errors():
        store.db.executemany(
            "INSERT INTO deliveries (inbox, signer, body, created, next_at) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    return len(rows)


def release_claims(store: Store) -> int:
    """Make rows claimed by a worker that is gone due again (call once at a worker's start)."""
    with store.transaction():
        cursor = store.db.execute("UPDATE deliveries SET claimed = 0 WHERE claimed = 1")
    return cursor.rowcount


def claim(store: Store, limit: int, now: float | None = None) -> list[Delivery]:
    """Claim up to `limit` due rows, oldest due first."""
    now = time.time() if now is None else now
    with store.transaction():
        rows = store.db.execute(
            "SELECT id, inbox, signer, body, created, attempts FROM deliveries "
            "WHERE claimed = 0 AND next_at <= ? ORDER BY next_at, id LIMIT ?",
            (now, limit),
        ).fetchall()
        store.db.executemany(
            "UPDATE deliveries SET claimed = 1, claimed_at = ? WHERE id = ?",
            [(now, row[0]) for row in rows],
        )
    return [Delivery(*row) for row in rows]


def next_due(store: Store, stale_after: float | None = None) -> float | None:
    """Return when the next row is due: an unclaimed one at its time, and (with `stale_after`)
    a claimed one `stale_after` seconds after its claim (its worker hung or died)."""
    with store.errors():
        if stale_after is None:
            row = store.db.execute(
                "SELECT min(next_at) FROM deliveries WHERE claimed = 0"
            ).fetchone()
        else:
            row = store.db.execute(
                "SELECT min(CASE WHEN claimed = 0 THEN next_at "
                "ELSE coalesce(claimed_at, next_at) + ? END) FROM deliveries",
                (stale_after,),
            ).fetchone()
    return None if row[0] is None else float(row[0])


def _tally(store: Store, name: str) -> None:
    store.db.execute(
        "INSERT INTO tally (name, n) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET n = n + 1",
        (name,),
    )


def delivered(store: Store, item: Delivery) -> None:
    """Forget a row its inbox accepted; the inbox works."""
    with store.transaction():
        store.db.execute("DELETE FROM deliveries WHERE id = ?", (item.id,))
        store.db.execute("DELETE FROM inboxes WHERE inbox = ?", (item.inbox,))
        _tally(store, "delivered")


def refused(store: Store, item: Delivery, reason: str) -> None:
    """Drop a row its inbox refused for good (a 4xx other than 408 and 429, or a URL no
    request can be sent to)."""
    with store.transaction():
        store.db.execute("DELETE FROM deliveries WHERE id = ?", (item.id,))
        store.db.execute("DELETE FROM inboxes WHERE inbox = ?", (item.inbox,))
        _tally(store, "refused")
    del reason  # logged by the caller


def failed(
    store: Store, item: Delivery, reason: str, *, base: float, give_up: float, now: float
) -> bool:
    """Schedule a retry of a failed row, or drop it once both it and its inbox have failed for
    `give_up` seconds; return whether it was dropped, its inbox then being dead (its followers
    are forgotten). A row first tried late is kept until its inbox counts as dead: dropped
    earlier, no row would be left to find the inbox dead."""
    with store.transaction():
        store.db.execute(
            "INSERT OR IGNORE INTO inboxes (inbox, failing_since) VALUES (?, ?)",
            (item.inbox, now),
        )
        since = store.db.execute(
            "SELECT failing_since FROM inboxes WHERE inbox = ?", (item.inbox,)
        ).fetchone()[0]
        if now - item.created < give_up or now - float(since) < give_up:
            delay = min(MAX_BACKOFF, base * 2.0**item.attempts)
            store.db.execute(
                "UPDATE deliveries SET claimed = 0, attempts = attempts + 1, next_at = ?, "
                "last_error = ? WHERE id = ?",
                (now + delay, reason[:500], item.id),
            )
            return False
        store.db.execute("DELETE FROM deliveries WHERE id = ?", (item.id,))
        _tally(store, "dropped")
    return True


@dataclass(frozen=True, slots=True)
class QueueState:
    """What health shows of the queue."""

    pending: int
    retrying: int
    oldest: float | None  # when the oldest queued row was made
    overdue: float | None  # when the most overdue row was due (a stale claim counts)
    claimed: int  # rows a worker is sending now
    followers: int
    delivered: int
    dropped: int
    refused: int


def queue_state(store: Store, stale_after: float) -> QueueState:
    """Return the queue's state; a row claimed more than `stale_after` seconds ago is due
    again (no delivery takes that long: its worker is stuck or gone)."""
    with store.errors():
        pending, retrying, oldest, claimed = store.db.execute(
            "SELECT count(*), count(*) FILTER (WHERE attempts > 0), min(created), "
            "count(*) FILTER (WHERE claimed = 1) FROM deliveries"
        ).fetchone()
    return QueueState(
        pending=int(pending),
        retrying=int(retrying),
        oldest=oldest,
        overdue=next_due(store, stale_after),
        claimed=int(claimed),
        followers=store.follower_count(),
        delivered=store.count("delivered"),
        dropped=store.count("dropped"),
        refused=store.count("refused"),
    )
