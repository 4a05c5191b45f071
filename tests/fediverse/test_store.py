"""The federation store: a store made by an older feedsvc is upgraded in place (nothing lost),
the memory of signatures seen forgets the expired ones and stays bounded, and sqlite3 errors
leave as feedsvc errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from feedsvc.errors import CatalogError
from feedsvc.fediverse import queue, store
from feedsvc.fediverse.store import Follower, open_store, store_file


def test_a_store_of_schema_1_is_upgraded_in_place(database: Path) -> None:
    path = store_file(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as old:
        old.executescript(store._SCHEMA_1)  # as feedsvc wrote it before version 2
        old.execute("PRAGMA user_version = 1")
        old.execute(
            "INSERT INTO deliveries (inbox, signer, body, created, next_at) "
            "VALUES ('https://a.example/inbox', 'https://x/actor', X'7B7D', 0, 0)"
        )
        old.execute(
            "INSERT INTO followers VALUES ('', 'https://a.example/u', 'https://a.example/i', "
            "NULL, 0)"
        )
    old.close()
    with open_store(database) as upgraded:
        assert upgraded.db.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
        assert upgraded.follower_count() == 1
        (claimed,) = queue.claim(upgraded, 10, now=100.0)
        assert claimed.inbox == "https://a.example/inbox"
        assert queue.queue_state(upgraded, stale_after=30).overdue == 130.0
        assert upgraded.first_sight("k", b"s", expires=10.0, now=0.0)


def test_signatures_seen_are_refused_again_until_they_expire(database: Path) -> None:
    with open_store(database) as held:
        assert held.first_sight("key", b"sig", expires=100.0, now=0.0)
        assert not held.first_sight("key", b"sig", expires=100.0, now=50.0)
        assert held.first_sight("other-key", b"sig", expires=100.0, now=50.0)
        assert held.first_sight("key", b"sig", expires=300.0, now=200.0)  # expired: forgotten
        assert held.db.execute("SELECT count(*) FROM seen").fetchone()[0] == 1


def test_the_memory_of_signatures_is_bounded(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "SEEN_CAP", 5)
    with open_store(database) as held:
        for n in range(12):
            assert held.first_sight("key", str(n).encode(), expires=1e12, now=0.0)
        assert held.db.execute("SELECT count(*) FROM seen").fetchone()[0] == 5
        assert not held.first_sight("key", b"11", expires=1e12, now=0.0)  # the newest stay


def test_sqlite_errors_leave_as_feedsvc_errors(database: Path) -> None:
    with open_store(database) as held:
        held.db.execute("DROP TABLE followers")
        with pytest.raises(CatalogError, match="no such table"):
            held.follower_count()
        with pytest.raises(CatalogError):
            held.add_follower(Follower("", "https://a.example/u", "https://a.example/i", None))
    store_file(database).write_bytes(b"not a database" * 100)
    with pytest.raises(CatalogError):
        open_store(database).follower_count()


def test_a_store_made_by_a_newer_feedsvc_is_refused(database: Path) -> None:
    open_store(database).close()
    with sqlite3.connect(store_file(database)) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(CatalogError, match="newer than this feedsvc"):
        open_store(database)


def test_an_inbox_whose_last_delivery_is_given_up_is_dead_however_late_its_first_try(
    database: Path,
) -> None:
    # A busy worker may first try a delivery long after it was queued: the inbox has then
    # failed for less time than the delivery is old. The delivery must not be dropped before
    # the inbox counts as dead, or nothing is left to find it dead and its followers stay.
    with open_store(database) as held:
        queue.enqueue(held, [("https://a.example/inbox", "actor", b"{}")], now=0.0)
        (item,) = queue.claim(held, 1, now=0.0)
        assert not queue.failed(held, item, "503", base=0.1, give_up=1.0, now=0.9)
        (item,) = queue.claim(held, 1, now=1.2)
        assert not queue.failed(held, item, "503", base=0.1, give_up=1.0, now=1.2)
        (item,) = queue.claim(held, 1, now=2.0)
        assert queue.failed(held, item, "503", base=0.1, give_up=1.0, now=2.0)
        assert queue.claim(held, 1, now=100.0) == []
