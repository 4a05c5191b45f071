"""What readers are shown as an article's image: its own (images.py), else its preview card.

One answer for every place that shows it: feed enclosures and Media RSS elements, JSON Feed
`image`, Open Graph and Twitter tags, JSON-LD and oEmbed thumbnails. Framework-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from feedsvc import urlmap
from feedsvc.catalog import Record
from feedsvc.config.settings import Settings
from feedsvc.documents.cards import HEIGHT, WIDTH, CardStore, card_alt, card_for

CARD_TYPE = "image/png"


@dataclass(frozen=True, slots=True)
class EntryImage:
    """An article's image as readers are told of it."""

    url: str  # absolute, fingerprinted (immutable)
    media_type: str
    width: int
    height: int
    length: int | None  # bytes (RSS enclosures must state it); None when not asked for
    alt: str  # "" when the publisher gave none
    card: bool  # the preview card stands in: the article has no image of its own


def entry_image(record: Record, settings: Settings, *, measure: bool = True) -> EntryImage:
    """Return the image shown for an article: its own, else its preview card (1200x630 PNG;
    its length is the kept card's, drawing it first when it was never drawn). Pages and oEmbed
    never show a length: with `measure` False a card is not drawn for it (length None)."""
    site = settings.site
    own = record.image
    if own is not None:
        return EntryImage(
            url=site.absolute(urlmap.image(own.name)),
            media_type=own.media_type,
            width=own.width,
            height=own.height,
            length=own.length,
            alt=own.alt,
            card=False,
        )
    card = card_for(record, site.title)
    return EntryImage(
        url=site.absolute(urlmap.card(record.slug, card.version)),
        media_type=CARD_TYPE,
        width=WIDTH,
        height=HEIGHT,
        length=CardStore(settings.cards).length(card) if measure else None,
        alt=card_alt(record),
        card=True,
    )
