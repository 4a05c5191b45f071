"""Articles as ActivityStreams objects, and the activities that carry them (pure,
deterministic: the same catalog state gives the same bytes).

An article is a `Note` (Mastodon shows a Note whole; an `Article` is reduced to its name and a
link): its content is the title, the summary and the link, its attachment the preview card, its
tags the section and the article's tags as hashtags. Mastodon reads a Note's `summary` as a
content warning, so the article's summary goes into `content`, never into `summary`. Every
object is attributed to the site's actor; a section's actor boosts (`Announce`) it.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from markupsafe import Markup

from feedsvc import urlmap
from feedsvc.catalog import Record
from feedsvc.config.settings import Settings
from feedsvc.documents.cards import card_for
from feedsvc.fediverse.actors import Actor, site_actor
from feedsvc.support.dates import human_date, iso_seconds

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = AS + "#Public"
SECURITY = "https://w3id.org/security/v1"
EXTENSIONS = {
    "toot": "http://joinmastodon.org/ns#",
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "sensitive": "as:sensitive",
    "Hashtag": "as:Hashtag",
}
CONTEXT: list[Any] = [AS, SECURITY, EXTENSIONS]
_NOT_TAG = re.compile(r"[^\w]+")


def object_id(settings: Settings, seq: int) -> str:
    """Return the stable id of the article at place `seq` (never changes with its slug)."""
    return settings.site.absolute(urlmap.ap_object(seq))


def hashtag(text: str) -> str | None:
    """Return a hashtag name made of a section or tag ('World News' -> 'WorldNews')."""
    name = _NOT_TAG.sub("", text)
    return None if not name or name.isdigit() else name


def note(settings: Settings, record: Record, seq: int) -> dict[str, Any]:
    """Return an article as a Note."""
    site = settings.site
    url = site.absolute(record.path)
    section_page = site.absolute(urlmap.listing(record.section_slug))
    tags: list[dict[str, str]] = []
    links: list[Markup] = []
    seen: set[str] = set()
    for index, text in enumerate(record.categories):
        name = hashtag(text)
        if name is None or name.lower() in seen:
            continue
        seen.add(name.lower())
        href = section_page if index == 0 else url
        tags.append({"type": "Hashtag", "href": href, "name": f"#{name}"})
        links.append(
            Markup('<a href="{}" class="mention hashtag" rel="tag">#<span>{}</span></a>').format(
                href, name
            )
        )
    content = Markup('<p><strong>{}</strong></p><p>{}</p><p><a href="{}">{}</a></p>').format(
        record.title, record.summary, url, url
    )
    if links:
        content += Markup("<p>") + Markup(" ").join(links) + Markup("</p>")
    alt = f"{record.title} — {record.section}, {human_date(record.published)}"
    if record.image is not None:  # its own image; else the preview card stands in
        own = record.image
        image = (urlmap.image(own.name), own.media_type, own.alt or alt, own.width, own.height)
    else:
        card = urlmap.card(record.slug, card_for(record, site.title).version)
        image = (card, "image/png", alt, 1200, 630)
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": object_id(settings, seq),
        "type": "Note",
        "attributedTo": site_actor(settings).id(settings),
        "url": url,
        "published": iso_seconds(record.published),
    }
    if record.updated != record.published:
        document["updated"] = iso_seconds(record.updated)
    document |= {
        "to": [PUBLIC],
        "cc": [site.absolute(urlmap.followers(None))],
        "content": str(content),
        "contentMap": {settings.site.language: str(content)},
        "sensitive": False,
        "attachment": [
            {
                "type": "Document",
                "mediaType": image[1],
                "url": site.absolute(image[0]),
                "name": image[2],
                "width": image[3],
                "height": image[4],
            }
        ],
        "tag": tags,
    }
    return document


def _bare(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "@context"}


def create(settings: Settings, document: dict[str, Any]) -> dict[str, Any]:
    """Return the site actor's Create of a Note."""
    return {
        "@context": CONTEXT,
        "id": document["id"] + "#create",
        "type": "Create",
        "actor": document["attributedTo"],
        "published": document["published"],
        "to": document["to"],
        "cc": document["cc"],
        "object": _bare(document),
    }


def update(settings: Settings, document: dict[str, Any]) -> dict[str, Any]:
    """Return the site actor's Update of an edited Note (its id names the edit). The Note
    always says when it was updated: Mastodon ignores an Update whose object does not."""
    stamp = document.get("updated", document["published"])
    return create(settings, document | {"updated": stamp}) | {
        "id": f"{document['id']}#update-{re.sub(r'[^0-9]', '', stamp)}",
        "type": "Update",
        "published": stamp,
    }


def delete(settings: Settings, seq: int, removed: datetime) -> dict[str, Any]:
    """Return the site actor's Delete of a withdrawn article, with a Tombstone."""
    ident = object_id(settings, seq)
    return {
        "@context": CONTEXT,
        "id": ident + "#delete",
        "type": "Delete",
        "actor": site_actor(settings).id(settings),
        "to": [PUBLIC],
        "object": {
            "id": ident,
            "type": "Tombstone",
            "formerType": "Note",
            "deleted": iso_seconds(removed),
        },
    }


def announce(settings: Settings, actor: Actor, document: dict[str, Any]) -> dict[str, Any]:
    """Return a section actor's boost of a Note."""
    actor_id = actor.id(settings)
    return {
        "@context": CONTEXT,
        "id": f"{actor_id}#announce-{document['id'].rsplit('/', 1)[-1].removesuffix('.json')}",
        "type": "Announce",
        "actor": actor_id,
        "published": document["published"],
        "to": [PUBLIC],
        "cc": [
            settings.site.absolute(urlmap.followers(actor.section_slug)),
            document["attributedTo"],
        ],
        "object": _bare(document),
    }


def accept(settings: Settings, actor: Actor, follow: dict[str, Any]) -> dict[str, Any]:
    """Return an actor's Accept of a Follow (the Follow as received, its id kept)."""
    actor_id = actor.id(settings)
    digest = hashlib.sha256(str(follow.get("id", "")).encode("utf-8")).hexdigest()[:16]
    return {
        "@context": AS,
        "id": f"{actor_id}#accept-{digest}",
        "type": "Accept",
        "actor": actor_id,
        "object": {key: follow[key] for key in ("id", "type", "actor", "object") if key in follow},
    }
