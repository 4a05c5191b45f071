"""What readers are shown as an article's image: its own (images.py), else its preview card.

One answer for every place that shows it: feed enclosures and Media RSS elements, JSON Feed
`image`, Open Graph and Twitter tags, JSON-LD and oEmbed thumbnails, and the page's picture.
The original is what feeds enclose; its right-sized copies (derivatives.py) are what the page
draws (srcset) and what Media RSS offers as the thumbnail. Framework-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from feedsvc import urlmap
from feedsvc.articles.derivatives import Derivative, derivatives
from feedsvc.articles.images import recover, store_dir, stored
from feedsvc.articles.text_format import ArticleImage
from feedsvc.catalog import Record
from feedsvc.config.settings import Settings, Site
from feedsvc.documents.cards import HEIGHT, WIDTH, CardStore, card_alt, card_for

CARD_TYPE = "image/png"
# The width the page's image is shown at (site.css): the body's 44rem less its padding of
# 1.25rem each side, or the whole viewport less that padding (1rem under 30rem).
SIZES = "(max-width: 30rem) calc(100vw - 2rem), (max-width: 44rem) calc(100vw - 2.5rem), 41.5rem"


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """A small copy of the image (Media RSS `media:thumbnail`, lists)."""

    url: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Picture:
    """What a page's <picture> offers: candidates by width, the modern format first."""

    src: str  # the <img> src of browsers without srcset: a copy about the column's width
    srcset: str  # JPEG or PNG copies, "url 320w, ..."
    modern_type: str | None  # "image/webp" when those copies are smaller; None: none offered
    modern_srcset: str
    sizes: str = SIZES


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
    thumbnail: Thumbnail | None = None  # None: the image is small enough as it is
    picture: Picture | None = None  # None: the page shows the image as it is


def _srcset(site: Site, items: tuple[Derivative, ...]) -> str:
    return ", ".join(f"{site.absolute(urlmap.image(d.name))} {d.width}w" for d in items)


def _copies(own: ArticleImage, settings: Settings) -> tuple[Thumbnail | None, Picture | None]:
    """Return the thumbnail and page picture of an article's own image (drawn once: kept)."""
    store, seeds_dir = store_dir(settings.database), settings.seeds_dir
    found = derivatives(
        store,
        own.name,
        lambda: stored(store, own.name) or recover(store, own.name, seeds_dir, own.source),
    )
    if found is None:
        return None, None
    site = settings.site
    small = found.thumbnail
    thumbnail = Thumbnail(site.absolute(urlmap.image(small.name)), small.width, small.height)
    shown = [d for d in found.fallback if d.width <= 960] or [found.fallback[0]]
    picture = Picture(
        src=site.absolute(urlmap.image(shown[-1].name)),
        srcset=_srcset(site, found.fallback),
        modern_type=found.modern[0].media_type if found.modern else None,
        modern_srcset=_srcset(site, found.modern),
    )
    return thumbnail, picture


def entry_image(record: Record, settings: Settings, *, measure: bool = True) -> EntryImage:
    """Return the image shown for an article: its own, else its preview card (1200x630 PNG;
    its length is the kept card's, drawing it first when it was never drawn). Pages and oEmbed
    never show a length: with `measure` False a card is not drawn for it (length None)."""
    site = settings.site
    own = record.image
    if own is not None:
        thumbnail, picture = _copies(own, settings)
        return EntryImage(
            url=site.absolute(urlmap.image(own.name)),
            media_type=own.media_type,
            width=own.width,
            height=own.height,
            length=own.length,
            alt=own.alt,
            card=False,
            thumbnail=thumbnail,
            picture=picture,
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
