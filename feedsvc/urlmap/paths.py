"""The lists of paths: what a scope, an article and the whole static export publish."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from feedsvc.urlmap.shapes import (
    APPLE_TOUCH_ICON,
    FAVICON,
    FEED_FILENAMES,
    FEEDS_PAGE,
    OPML,
    RECORD,
    ROBOTS,
    SITEMAP,
    archive_blocks,
    article,
    card,
    embed,
    feed,
    front_block,
    icon,
    image,
    list_blocks,
    listing,
    oembed,
    sitemap_part,
    sitemap_parts,
    static,
    subscribe,
)

__all__ = [
    "ScopeCounts",
    "all_paths",
    "article_paths",
    "article_redirects",
    "feed_paths",
    "list_paths",
    "list_redirects",
    "named_paths",
]


@dataclass(frozen=True, slots=True)
class ScopeCounts:
    """What the list of a scope's paths depends on."""

    section_slug: str | None
    articles: int  # live articles
    slots: int  # places used (list pages' and archives' blocks)
    kind: str = "section"  # or "tag", "author" (with section_slug their slug)


def list_paths(counts: ScopeCounts, page_size: int) -> Iterator[str]:
    """Yield the paths of a scope's list pages: its front page, then the numbered pages of the
    blocks older than the front page shows (block n holds places (n-1)*size+1 .. n*size)."""
    yield listing(counts.section_slug, kind=counts.kind)
    for number in range(1, front_block(counts.slots, page_size)):
        yield listing(counts.section_slug, number, kind=counts.kind)


def list_redirects(counts: ScopeCounts, page_size: int) -> Iterator[tuple[str, str]]:
    """Yield (page path, front path) of the numbered pages whose blocks the front page shows:
    they answer 301 to it, so that a page number ever published keeps answering."""
    front = listing(counts.section_slug, kind=counts.kind)
    last = max(1, list_blocks(counts.slots, page_size))
    for number in range(front_block(counts.slots, page_size), last + 1):
        yield listing(counts.section_slug, number, kind=counts.kind), front


def feed_paths(counts: ScopeCounts, feed_size: int) -> Iterator[str]:
    """Yield the paths of a scope's feeds, each format's subscription then its archives."""
    blocks = archive_blocks(counts.slots, feed_size)
    for filename in FEED_FILENAMES:
        yield feed(counts.section_slug, filename, kind=counts.kind)
        for block in range(1, blocks + 1):
            yield feed(counts.section_slug, filename, block, kind=counts.kind)


def named_paths(slug: str) -> tuple[str, ...]:
    """Return the paths of an article that its slug alone names: its page, embed card and
    oEmbed documents (the preview card's name holds a version too)."""
    return (article(slug), embed(slug), oembed(slug, "json"), oembed(slug, "xml"))


def article_paths(slug: str, card_version: str) -> tuple[str, ...]:
    """Return the paths one live article publishes."""
    return (*named_paths(slug), card(slug, card_version))


def article_redirects(old_slug: str, new_slug: str) -> tuple[tuple[str, str], ...]:
    """Return (old path, current path) of each URL a renamed article is known by: embedding
    sites keep the embed card's and oEmbed documents' old URLs, not only the page's."""
    return tuple(zip(named_paths(old_slug), named_paths(new_slug), strict=True))


def all_paths(
    scopes: Iterable[ScopeCounts],
    articles: Iterable[tuple[str, str]],
    *,
    live_articles: int,
    assets: Iterable[str],
    icons: Iterable[str] = (),
    images: Iterable[str] = (),
    page_size: int,
    feed_size: int,
) -> Iterator[str]:
    """Yield every path a static export holds (redirects of old slugs apart).

    `scopes` are the site (section_slug None) and each section; `articles` are (slug, card
    version) of live articles; `assets` are the names under /static/ to export; `icons` the
    fingerprinted names of the publication's icons (with them come /favicon.ico and
    /apple-touch-icon.png); `images` the fingerprinted names of live articles' own images.
    """
    scopes = list(scopes)
    for counts in scopes:
        yield from list_paths(counts, page_size)
    for counts in scopes:
        yield from feed_paths(counts, feed_size)
    for counts in scopes:
        yield subscribe(listing(counts.section_slug, kind=counts.kind))
    yield from (FEEDS_PAGE, OPML, ROBOTS, SITEMAP)
    # The sitemap lists every scope's first page (front, sections, tags, authors), then articles.
    for number in range(1, sitemap_parts(len(scopes) + live_articles) + 1):
        yield sitemap_part(number)
    yield from (image(name) for name in images)  # before the articles that show them
    for slug, version in articles:
        yield from article_paths(slug, version)
    for name in assets:
        yield static(name)
    icons = list(icons)
    for name in icons:
        yield icon(name)
    if icons:
        yield from (FAVICON, APPLE_TOUCH_ICON)
    # Never linked from any page, feed, sitemap or OPML: only builders and deploys read it.
    yield RECORD
