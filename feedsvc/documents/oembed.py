"""oEmbed 1.0 provider documents (https://oembed.com/), framework-free.

Type `rich`: the html is an <iframe> of the article's embed card, sized within the consumer's
maxwidth/maxheight. Only this site's article URLs are answered; a URL is never fetched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from markupsafe import Markup

from feedsvc import urlmap
from feedsvc.catalog import Record
from feedsvc.catalog.members import wanted
from feedsvc.config.settings import Site
from feedsvc.documents.entry_images import EntryImage

EMBED_WIDTH, EMBED_HEIGHT = 560, 240  # the card's natural size, in CSS pixels
CACHE_AGE = 86_400


@dataclass(frozen=True, slots=True)
class Limits:
    """The consumer's maxwidth / maxheight, when given."""

    maxwidth: int | None = None
    maxheight: int | None = None


def article_slug(site: Site, url: str) -> str | None:
    """Return the slug of this site's article URL, or None for any other URL."""
    if len(url) > 2048:
        return None
    parts = urlsplit(url.strip())
    home = urlsplit(site.url)
    if (parts.scheme, parts.netloc.lower()) != (home.scheme, home.netloc.lower()):
        return None
    if not parts.path.startswith(home.path + "/"):
        return None
    return urlmap.article_slug(parts.path[len(home.path) :])


def author_page(record: Record) -> str:
    """Return the path of the page of the article's author: their own page when the article
    names one, else the front page (the site's own newsroom has no author page)."""
    for kind, slug, _name in wanted((), record.author):
        return urlmap.section(slug, kind=kind)
    return urlmap.front()


def document(
    record: Record, site: Site, *, embed_url: str, thumbnail: EntryImage, limits: Limits
) -> dict[str, Any]:
    """Return the oEmbed response fields for one article, in a fixed order; the thumbnail
    (the article's image, else its preview card) only when it fits the consumer's limits."""
    # The card reflows to any width; it never asks for more than the consumer allows.
    width = min(EMBED_WIDTH, limits.maxwidth or EMBED_WIDTH)
    height = min(EMBED_HEIGHT, limits.maxheight or EMBED_HEIGHT)
    iframe = Markup(
        '<iframe src="{}" width="{}" height="{}" title="{}" loading="lazy" '
        'style="border:0;max-width:100%" referrerpolicy="strict-origin-when-cross-origin">'
        "</iframe>"
    ).format(embed_url, width, height, record.title)
    fields: dict[str, Any] = {
        "version": "1.0",
        "type": "rich",
        "title": record.title,
        "author_name": record.author or site.author,
        "author_url": site.absolute(author_page(record)),
        "provider_name": site.title,
        "provider_url": site.absolute(urlmap.front()),
        "cache_age": CACHE_AGE,
        "html": str(iframe),
        "width": width,
        "height": height,
    }
    fits = (limits.maxwidth is None or limits.maxwidth >= thumbnail.width) and (
        limits.maxheight is None or limits.maxheight >= thumbnail.height
    )
    if fits:
        fields |= {
            "thumbnail_url": thumbnail.url,
            "thumbnail_width": thumbnail.width,
            "thumbnail_height": thumbnail.height,
        }
    return fields


def to_json(fields: dict[str, Any]) -> bytes:
    """Return the JSON form of an oEmbed response."""
    return (json.dumps(fields, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def to_xml(fields: dict[str, Any]) -> bytes:
    """Return the XML form of an oEmbed response."""
    root = etree.Element("oembed")
    for name, value in fields.items():
        etree.SubElement(root, name).text = str(value)
    return bytes(
        etree.tostring(
            root, xml_declaration=True, encoding="utf-8", standalone=True, pretty_print=True
        )
    )
