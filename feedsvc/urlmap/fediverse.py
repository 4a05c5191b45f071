"""The fediverse's part of the map: the site's and each section's ActivityPub actor.

The site's documents live under /fediverse/, a section's beside its feeds. Objects are named
by the article's fixed place (seq), so their ids survive a new slug. The inbox and the
followers collections exist only on a live server (never exported).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from feedsvc.urlmap.paths import ScopeCounts
from feedsvc.urlmap.shapes import RULES, SCOPE_FOLDERS, pages

__all__ = [
    "INBOX",
    "NODEINFO",
    "NODEINFO_LINKS",
    "WEBFINGER",
    "actor",
    "actor_section",
    "ap_object",
    "fediverse_folder",
    "fediverse_paths",
    "followers",
    "outbox",
]

WEBFINGER, NODEINFO_LINKS, NODEINFO = (
    "/.well-known/webfinger",
    "/.well-known/nodeinfo",
    "/nodeinfo/2.1.json",
)
INBOX = "/fediverse/inbox"
RULES.update(
    {
        "webfinger": WEBFINGER,
        "nodeinfo_links": NODEINFO_LINKS,
        "nodeinfo": NODEINFO,
        "inbox": INBOX,
        "site_actor": "/fediverse/actor.json",
        "site_outbox": "/fediverse/outbox.json",
        "site_outbox_page": "/fediverse/outbox/<int(min=1):number>.json",
        "site_followers": "/fediverse/followers.json",
        "section_actor": "/sections/<slug>/actor.json",
        "section_outbox": "/sections/<slug>/outbox.json",
        "section_outbox_page": "/sections/<slug>/outbox/<int(min=1):number>.json",
        "section_followers": "/sections/<slug>/followers.json",
        "ap_object": "/fediverse/objects/<int(min=1):seq>.json",
    }
)


def fediverse_folder(section_slug: str | None) -> str:
    """Return the folder of the site's (None) or a section's actor documents."""
    return "/fediverse/" if section_slug is None else f"/sections/{section_slug}/"


def actor(section_slug: str | None) -> str:
    """Return the path of the site's (None) or a section's actor document."""
    return fediverse_folder(section_slug) + "actor.json"


def actor_section(path: str) -> tuple[str | None] | None:
    """Return (section slug or None for the site,) when `path` is one of the actor documents."""
    if path == actor(None):
        return (None,)
    folder = f"/{SCOPE_FOLDERS['section']}/"
    slug = path.removeprefix(folder).removesuffix("/actor.json")
    if path.startswith(folder) and slug and "/" not in slug and actor(slug) == path:
        return (slug,)
    return None


def outbox(section_slug: str | None, number: int | None = None) -> str:
    """Return the path of an actor's outbox, or of page `number` of it."""
    folder = fediverse_folder(section_slug)
    return folder + ("outbox.json" if number is None else f"outbox/{number}.json")


def followers(section_slug: str | None) -> str:
    """Return the path of an actor's followers collection (live only)."""
    return fediverse_folder(section_slug) + "followers.json"


def ap_object(seq: int) -> str:
    """Return the path of the ActivityStreams object of the article at place `seq`."""
    return f"/fediverse/objects/{seq}.json"


def fediverse_paths(
    scopes: Iterable[ScopeCounts], places: Iterable[int], page_size: int
) -> Iterator[str]:
    """Yield the read-only fediverse paths a static export holds: WebFinger (the site's
    actor), NodeInfo, each section's and the site's actor and paged outbox, each live object."""
    yield from (WEBFINGER, NODEINFO_LINKS, NODEINFO)
    for counts in scopes:
        if counts.kind != "section":
            continue
        yield actor(counts.section_slug)
        yield outbox(counts.section_slug)
        for number in range(1, pages(counts.articles, page_size) + 1):
            yield outbox(counts.section_slug, number)
    for seq in places:
        yield ap_object(seq)
