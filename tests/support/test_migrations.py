"""Schema steps for both SQLite stores: numbered, in one transaction, newer refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from feedsvc.support.migrations import NewerSchema, migrate, version_of

STEPS = (
    "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('a; b');",
    lambda db: db.execute("INSERT INTO notes VALUES ('from a function')"),
)


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_steps_run_once_in_order(tmp_path: Path) -> None:
    db = connect(tmp_path / "a.sqlite3")
    migrate(db, STEPS)
    migrate(db, STEPS)  # nothing left to do
    assert version_of(db, STEPS) == 2
    rows = [row[0] for row in db.execute("SELECT text FROM notes")]
    assert rows == ["a; b", "from a function"]  # a ';' in a string ends no statement


def test_a_failing_step_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    db = connect(tmp_path / "b.sqlite3")
    migrate(db, STEPS[:1])
    with pytest.raises(sqlite3.OperationalError):
        migrate(db, (*STEPS[:1], "INSERT INTO notes VALUES ('x'); SELECT nonsense FROM nowhere;"))
    assert version_of(db, STEPS) == 1
    assert db.execute("SELECT count(*) FROM notes").fetchone()[0] == 1


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    db = connect(tmp_path / "c.sqlite3")
    db.execute("PRAGMA user_version = 7")
    with pytest.raises(NewerSchema, match="schema version 7 is newer than this feedsvc"):
        migrate(db, STEPS)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 7
