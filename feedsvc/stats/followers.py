"""Fediverse followers, from the federation store beside the catalog (never created here).

The store keeps each follower with the moment it followed; one that left is gone from it. So a
past day's figure counts today's followers who already followed then: those who left since are
not in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from feedsvc.errors import FeedsvcError
from feedsvc.fediverse.store import open_store, store_file
from feedsvc.urlmap.fediverse import actor


@dataclass(frozen=True, slots=True)
class Follows:
    """When each current follower followed, by the actor followed (its document's path)."""

    since: tuple[tuple[str, float], ...]  # (actor path, Unix time followed)
    problem: str = ""  # why the store could not be read


def read_follows(database: Path) -> Follows | None:
    """Return the followers of the publication's actors, or None when it has no store."""
    if not store_file(database).exists():
        return None
    try:
        with open_store(database) as store, store.errors() as db:
            rows = db.execute("SELECT scope, since FROM followers ORDER BY since").fetchall()
    except FeedsvcError as exc:
        return Follows((), problem=str(exc))
    return Follows(tuple((actor(scope or None), float(since)) for scope, since in rows))
