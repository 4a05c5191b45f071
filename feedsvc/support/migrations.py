"""Bringing an SQLite database's schema up to date: numbered steps, one write transaction.

Step n (counting from 1) makes schema version n, kept in `PRAGMA user_version`. A step is an
SQL script or a function of the connection. A database of a newer version than the steps know
is refused: an older program must never write into what a newer one made.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence

Step = str | Callable[[sqlite3.Connection], None]


class NewerSchema(Exception):
    """The database was made by a newer program than this one."""

    def __init__(self, version: int, known: int) -> None:
        super().__init__(f"schema version {version} is newer than this feedsvc ({known})")
        self.version = version
        self.known = known


def version_of(connection: sqlite3.Connection, steps: Sequence[Step]) -> int:
    """Return the database's schema version; raise NewerSchema past the last step."""
    version = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if version > len(steps):
        raise NewerSchema(version, len(steps))
    return version


def migrate(connection: sqlite3.Connection, steps: Sequence[Step]) -> None:
    """Run the steps the database lacks, all in one immediate transaction.

    The version is read again under the write lock, so two processes upgrading the same
    database take turns and the second finds nothing left to do. The connection must be in
    autocommit mode (isolation_level None).
    """
    connection.execute("BEGIN IMMEDIATE")
    try:
        for step in steps[version_of(connection, steps) :]:
            if callable(step):
                step(connection)
            else:
                for statement in statements(step):
                    connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {len(steps)}")
    except BaseException:
        connection.rollback()
        raise
    connection.execute("COMMIT")


def statements(script: str) -> Iterator[str]:
    """Yield the complete SQL statements of a script (a `;` inside a string or a trigger is
    not the end of one)."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip() != ";":
                yield pending.strip()
            pending = ""
    if pending.strip(" \n\t;"):
        yield pending.strip()
