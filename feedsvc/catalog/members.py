"""Tag and author scopes: which articles belong to which, at fixed places.

Each tag and each front-matter author is a scope with its own pages, feeds and RFC 5005
archives, like a section. An article joining a scope takes the next place at its end; the
place never changes while the article keeps the tag or author (removed articles keep theirs,
so their tombstones reach the scope's feeds); one that leaves leaves a hole; one that comes
back takes a new place at the end.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from feedsvc.articles import slug_for

KINDS = ("tag", "author")

TABLE = """
CREATE TABLE members (
    kind TEXT NOT NULL,
    slug TEXT NOT NULL,
    place INTEGER NOT NULL,
    name TEXT NOT NULL,
    key TEXT NOT NULL REFERENCES articles,
    PRIMARY KEY (kind, slug, place)
);
CREATE UNIQUE INDEX members_key ON members (key, kind, slug);
"""


def wanted(tags: Iterable[str], author: str | None) -> list[tuple[str, str, str]]:
    """Return (kind, slug, name) of every scope an article with these tags and author is in,
    in a fixed order (tags as written, then the author); names with the same slug count once."""
    found: dict[tuple[str, str], str] = {}
    for tag in tags:
        found.setdefault(("tag", slug_for(tag, fallback="tag")), tag)
    if author:
        found.setdefault(("author", slug_for(author, fallback="author")), author)
    return [(kind, slug, name) for (kind, slug), name in found.items()]


def sync(db: sqlite3.Connection, key: str, scopes: list[tuple[str, str, str]]) -> None:
    """Make the article `key` a member of exactly `scopes` (new ones at their end)."""
    held = {
        (row[0], row[1]): row[2]
        for row in db.execute("SELECT kind, slug, name FROM members WHERE key = ?", (key,))
    }
    keep = {(kind, slug) for kind, slug, _name in scopes}
    for kind, slug in held.keys() - keep:
        db.execute("DELETE FROM members WHERE key = ? AND kind = ? AND slug = ?", (key, kind, slug))
    for kind, slug, name in scopes:
        if (kind, slug) not in held:
            db.execute(
                "INSERT INTO members (kind, slug, place, name, key) VALUES (?, ?, "
                "(SELECT coalesce(max(place), 0) + 1 FROM members WHERE kind = ? AND slug = ?), "
                "?, ?)",
                (kind, slug, kind, slug, name, key),
            )
        elif held[(kind, slug)] != name:
            db.execute(
                "UPDATE members SET name = ? WHERE key = ? AND kind = ? AND slug = ?",
                (name, key, kind, slug),
            )


def rename(db: sqlite3.Connection, old_key: str, new_key: str) -> None:
    """Follow an article to its new file name."""
    db.execute("UPDATE members SET key = ? WHERE key = ?", (new_key, old_key))


def create(db: sqlite3.Connection) -> None:
    """Migration: make the table and give every article its places, in first-ingest order."""
    for statement in TABLE.split(";"):
        if statement.strip():
            db.execute(statement)
    rows = db.execute("SELECT key, tags, author FROM articles ORDER BY seq").fetchall()
    for key, tags, author in rows:
        sync(db, key, wanted(json.loads(tags), author))
