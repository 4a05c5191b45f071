"""The read-only documents: WebFinger, NodeInfo 2.1, actors, outboxes and followers
collections (pure: catalog records and settings in, JSON-able dicts out)."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata
from typing import Any

from markupsafe import Markup

from feedsvc import urlmap
from feedsvc.catalog import Record
from feedsvc.config.settings import Settings
from feedsvc.documents.icons import icons_for
from feedsvc.fediverse.actors import Actor
from feedsvc.fediverse.objects import AS, CONTEXT, announce, create, note
from feedsvc.fediverse.remote import ACTIVITY_JSON

NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.1"


def webfinger(settings: Settings, actor: Actor) -> dict[str, Any]:
    """Return the JRD (RFC 7033) of one actor."""
    ident, page = actor.id(settings), actor.page(settings)
    return {
        "subject": actor.account(settings),
        "aliases": [ident, page],
        "links": [
            {"rel": "self", "type": ACTIVITY_JSON, "href": ident},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": page},
        ],
    }


def nodeinfo_links(settings: Settings) -> dict[str, Any]:
    """Return /.well-known/nodeinfo: where the NodeInfo 2.1 document is."""
    return {
        "links": [
            {"rel": NODEINFO_SCHEMA, "href": settings.site.absolute(urlmap.NODEINFO)},
        ]
    }


def _version() -> str:
    try:
        return metadata.version("feedsvc")
    except metadata.PackageNotFoundError:
        return "0"


def nodeinfo(settings: Settings, actors: int, articles: int) -> dict[str, Any]:
    """Return the NodeInfo 2.1 document (no dates: the same catalog gives the same bytes)."""
    return {
        "version": "2.1",
        "software": {"name": "feedsvc", "version": _version()},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0", "rss2.0"]},
        "openRegistrations": False,
        "usage": {"users": {"total": actors}, "localPosts": articles},
        "metadata": {
            "nodeName": settings.site.title,
            "nodeDescription": settings.site.description,
        },
    }


def actor_document(settings: Settings, actor: Actor, public_pem: str) -> dict[str, Any]:
    """Return an actor's document; its `publicKey` is the publication's public key."""
    site = settings.site
    ident = actor.id(settings)
    icons = icons_for(settings)
    inbox = site.absolute(urlmap.INBOX)
    if actor.section_slug is None:
        summary = Markup("<p>{}</p>").format(site.description)
    else:
        summary = Markup("<p>{} — {}</p>").format(actor.name, site.description)
    return {
        "@context": CONTEXT,
        "id": ident,
        # The site is the publisher; a section's actor only boosts the site's posts.
        "type": "Organization" if actor.section_slug is None else "Service",
        "preferredUsername": actor.username,
        "name": actor.name,
        "summary": str(summary),
        "url": actor.page(settings),
        "icon": {
            "type": "Image",
            "mediaType": "image/png",
            "url": icons.url(site.url, f"icon-{urlmap.ICON_SIZES[-1]}.png"),
        },
        "inbox": inbox,
        "outbox": site.absolute(urlmap.outbox(actor.section_slug)),
        "followers": site.absolute(urlmap.followers(actor.section_slug)),
        "endpoints": {"sharedInbox": inbox},
        "manuallyApprovesFollowers": False,
        "discoverable": True,
        "indexable": True,
        "publicKey": {"id": actor.key_id(settings), "owner": ident, "publicKeyPem": public_pem},
    }


def outbox(settings: Settings, actor: Actor, total: int) -> dict[str, Any]:
    """Return an actor's outbox: the count and its first and last pages."""
    site = settings.site
    pages = urlmap.pages(total, settings.page_size)
    return {
        "@context": AS,
        "id": site.absolute(urlmap.outbox(actor.section_slug)),
        "type": "OrderedCollection",
        "totalItems": total,
        "first": site.absolute(urlmap.outbox(actor.section_slug, 1)),
        "last": site.absolute(urlmap.outbox(actor.section_slug, pages)),
    }


def outbox_page(
    settings: Settings,
    actor: Actor,
    number: int,
    total: int,
    items: Sequence[tuple[Record, int]],
) -> dict[str, Any]:
    """Return page `number` of an actor's outbox: Create (site) or Announce (section)
    activities of `items` (record, place), newest first."""
    site = settings.site
    pages = urlmap.pages(total, settings.page_size)
    activities = []
    for record, seq in items:
        document = note(settings, record, seq)
        if actor.section_slug is None:
            activities.append(create(settings, document))
        else:
            activities.append(announce(settings, actor, document))
    for activity in activities:
        activity.pop("@context", None)
    page: dict[str, Any] = {
        "@context": CONTEXT,
        "id": site.absolute(urlmap.outbox(actor.section_slug, number)),
        "type": "OrderedCollectionPage",
        "partOf": site.absolute(urlmap.outbox(actor.section_slug)),
        "totalItems": total,
    }
    if number > 1:
        page["prev"] = site.absolute(urlmap.outbox(actor.section_slug, number - 1))
    if number < pages:
        page["next"] = site.absolute(urlmap.outbox(actor.section_slug, number + 1))
    page["orderedItems"] = activities
    return page


def followers(settings: Settings, actor: Actor, count: int) -> dict[str, Any]:
    """Return an actor's followers collection: how many, never who."""
    return {
        "@context": AS,
        "id": settings.site.absolute(urlmap.followers(actor.section_slug)),
        "type": "OrderedCollection",
        "totalItems": count,
    }
