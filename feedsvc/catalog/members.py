"""Tag and author scopes: which articles belong to which, at fixed places.

Each tag and each front-matter author is a scope with its own pages, feeds and RFC 5005
archives, like a section. An article joining a scope takes the next place at its end; the
place never changes while the article keeps the tag or author (removed articles keep theirs,
so their tombstones reach the scope's feeds); one that leaves leaves a hole; one that comes
back takes a new place at the end. Places are counted per scope (`scope_places`, sections
too), so a place is never given twice, even when the article holding the last one leaves.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable

from feedsvc.articles.text_format import slug_for

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
CREATE TABLE scope_places (
    kind TEXT NOT NULL,
    slug TEXT NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (kind, slug)
);
INSERT INTO scope_places (kind, slug, last)
    SELECT 'section', section_slug, max(section_seq) FROM articles GROUP BY section_slug;
"""


def _slug(name: str, kind: str) -> str:
    """Return a name's slug: readable ASCII, with + and # spelt out (C, C++ and C# are three
    tags); a name with no letter or digit gets one made from its digest."""
    spelt = name.replace("+", " plus ").replace("#", " sharp ")
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return slug_for(spelt, fallback=f"{kind}-{digest}")


def wanted(tags: Iterable[str], author: str | None) -> list[tuple[str, str, str]]:
    """Return (kind, slug, name) of every scope an article with these tags and author is in,
    in a fixed order (tags as written, then the author); names with the same slug count once."""
    found: dict[tuple[str, str], str] = {}
    for tag in tags:
        found.setdefault(("tag", _slug(tag, "tag")), tag)
    if author:
        found.setdefault(("author", _slug(author, "author")), author)
    return [(kind, slug, name) for (kind, slug), name in found.items()]


def next_place(db: sqlite3.Connection, kind: str, slug: str) -> int:
    """Return the next place at the end of a section's, tag's or author's order (taken)."""
    row = db.execute(
        "INSERT INTO scope_places (kind, slug, last) VALUES (?, ?, 1) ON CONFLICT (kind, slug) "
        "DO UPDATE SET last = last + 1 RETURNING last",
        (kind, slug),
    ).fetchone()
    return int(row[0])


def enter_section(db: sqlite3.Connection, key: str, section_slug: str) -> None:
    """File the article `key` under `section_slug`: a move takes the next place there."""
    (current,) = db.execute("SELECT section_slug FROM articles WHERE key = ?", (key,)).fetchone()
    if current != section_slug:
        place = next_place(db, "section", section_slug)
        db.execute(
            "UPDATE articles SET section_slug = ?, section_seq = ? WHERE key = ?",
            (section_slug, place, key),
        )


def sync(
    db: sqlite3.Connection, key: str, scopes: list[tuple[str, str, str]]
) -> set[tuple[str, str]]:
    """Make the article `key` a member of exactly `scopes` (new ones at their end); return
    every (kind, slug) it was or now is in (the scopes whose documents may change)."""
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
                "INSERT INTO members (kind, slug, place, name, key) VALUES (?, ?, ?, ?, ?)",
                (kind, slug, next_place(db, kind, slug), name, key),
            )
        elif held[(kind, slug)] != name:
            db.execute(
                "UPDATE members SET name = ? WHERE key = ? AND kind = ? AND slug = ?",
                (name, key, kind, slug),
            )
    return held.keys() | keep


def of(db: sqlite3.Connection, key: str) -> set[tuple[str, str]]:
    """Return the (kind, slug) of every tag and author scope the article `key` is in."""
    return {
        (row[0], row[1])
        for row in db.execute("SELECT kind, slug FROM members WHERE key = ?", (key,))
    }


def rename(db: sqlite3.Connection, old_key: str, new_key: str) -> None:
    """Follow an article to its new file name."""
    db.execute("UPDATE members SET key = ? WHERE key = ?", (new_key, old_key))


def create(db: sqlite3.Connection) -> None:
    """Migration: make the table and give every article its places, in first-ingest order."""
    for statement in TABLE.split(";\n"):
        if statement.strip():
            db.execute(statement)
    rows = db.execute("SELECT key, tags, author FROM articles ORDER BY seq").fetchall()
    for key, tags, author in rows:
        sync(db, key, wanted(json.loads(tags), author))
