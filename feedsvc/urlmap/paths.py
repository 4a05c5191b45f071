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
    icon,
    image,
    listing,
    oembed,
    pages,
    sitemap_part,
    sitemap_parts,
    static,
    subscribe,
)

__all__ = ["ScopeCounts", "all_paths", "article_paths", "feed_paths", "list_paths"]


@dataclass(frozen=True, slots=True)
class ScopeCounts:
    """What the list of a scope's paths depends on."""

    section_slug: str | None
    articles: int  # live articles (list pages)
    slots: int  # archive places used (blocks)
    kind: str = "section"  # or "tag", "author" (with section_slug their slug)


def list_paths(counts: ScopeCounts, page_size: int) -> Iterator[str]:
    """Yield the paths of a scope's list pages."""
    for number in range(1, pages(counts.articles, page_size) + 1):
        yield listing(counts.section_slug, number, kind=counts.kind)


def feed_paths(counts: ScopeCounts, feed_size: int) -> Iterator[str]:
    """Yield the paths of a scope's feeds, each format's subscription then its archives."""
    blocks = archive_blocks(counts.slots, feed_size)
    for filename in FEED_FILENAMES:
        yield feed(counts.section_slug, filename, kind=counts.kind)
        for block in range(1, blocks + 1):
            yield feed(counts.section_slug, filename, block, kind=counts.kind)


def article_paths(slug: str, card_version: str) -> tuple[str, ...]:
    """Return the paths one live article publishes."""
    return (
        article(slug),
        embed(slug),
        oembed(slug, "json"),
        oembed(slug, "xml"),
        card(slug, card_version),
    )


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
