"""Articles as ActivityStreams objects, and the activities that carry them (pure,
deterministic: the same catalog state gives the same bytes).

An article is a `Note` (Mastodon shows a Note whole; an `Article` is reduced to its name and a
link): its content is the title, the summary and the link, its attachment its image (else the
preview card), its tags the section and the article's tags as hashtags that lead to their pages
on the site (hashtags.py: a tag no hashtag can name is a plain link to its page). Mastodon reads
a Note's `summary` as a content warning, so the article's summary goes into `content`, never
into `summary`. Every object is attributed to the site's actor; a section's actor boosts
(`Announce`) it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime
from typing import Any

from markupsafe import Markup

from feedsvc import urlmap
from feedsvc.catalog import Record
from feedsvc.catalog.members import wanted
from feedsvc.config.settings import Settings
from feedsvc.documents.cards import HEIGHT, WIDTH, card_alt, card_for
from feedsvc.fediverse.actors import Actor, site_actor
from feedsvc.fediverse.hashtags import hashtag
from feedsvc.support.dates import iso_seconds

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
_HASHTAG = Markup('<a href="{}" class="mention hashtag" rel="tag">#<span>{}</span></a>')
_TAG_LINK = Markup('<a href="{}" rel="tag">{}</a>')


def object_id(settings: Settings, seq: int) -> str:
    """Return the stable id of the article at place `seq` (never changes with its slug)."""
    return settings.site.absolute(urlmap.ap_object(seq))


def _tagging(settings: Settings, record: Record) -> tuple[list[dict[str, str]], Markup]:
    """Return the Note's Hashtags and the HTML naming the section and tags: a paragraph of
    links to the pages of the tags no hashtag names, then one of hashtags (last: Mastodon shows
    a closing paragraph of hashtags as its hashtag bar)."""
    site = settings.site
    pages = [(record.section, urlmap.listing(record.section_slug))]
    for text in record.categories[1:]:
        ((kind, slug, _name),) = wanted((text,), None)  # the slug its page has
        pages.append((text, urlmap.section(slug, kind=kind)))
    tags: list[dict[str, str]] = []
    hashtags: list[Markup] = []
    plain: list[Markup] = []
    names: set[str] = set()
    linked: set[str] = set()
    for text, path in pages:
        href = site.absolute(path)
        if href in linked:  # two spellings of one tag share its page
            continue
        linked.add(href)
        name = hashtag(text)
        # Mastodon files hashtags by a folded name: a second tag folding alike is a link.
        key = unicodedata.normalize("NFKC", name).casefold() if name else ""
        if not name or key in names:
            plain.append(_TAG_LINK.format(href, text))
            continue
        names.add(key)
        tags.append({"type": "Hashtag", "href": href, "name": f"#{name}"})
        hashtags.append(_HASHTAG.format(href, name))
    html = Markup()
    if plain:
        html += Markup("<p>Tagged: {}</p>").format(Markup(", ").join(plain))
    if hashtags:
        html += Markup("<p>{}</p>").format(Markup(" ").join(hashtags))
    return tags, html


def _attachment(settings: Settings, record: Record) -> dict[str, Any]:
    """Return the Note's image: the article's own, described by its image_alt or not at all
    (a description made up for it would tell screen readers something untrue), else the
    preview card, a picture of text the site drew, described by that text."""
    own = record.image
    if own is None:
        card = card_for(record, settings.site.title)
        path, media_type, alt = (
            urlmap.card(record.slug, card.version),
            "image/png",
            card_alt(record),
        )
        width, height = WIDTH, HEIGHT
    else:
        path, media_type, alt = urlmap.image(own.name), own.media_type, own.alt
        width, height = own.width, own.height
    image: dict[str, Any] = {
        "type": "Document",
        "mediaType": media_type,
        "url": settings.site.absolute(path),
    }
    if alt:
        image["name"] = alt
    return image | {"width": width, "height": height}


def note(settings: Settings, record: Record, seq: int) -> dict[str, Any]:
    """Return an article as a Note."""
    site = settings.site
    url = site.absolute(record.path)
    tags, tagging = _tagging(settings, record)
    content = Markup('<p><strong>{}</strong></p><p>{}</p><p><a href="{}">{}</a></p>').format(
        record.title, record.summary, url, url
    )
    content += tagging
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
        "attachment": [_attachment(settings, record)],
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
