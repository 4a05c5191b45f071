"""Which URLs a catalog change touches: for every path of the publication, a digest of exactly
what its bytes are made from, read from the catalog without rendering anything.

Two states' digests differ for a path exactly when its bytes differ (proved by a test that
renders every URL before and after random changes). `affected(before, after)` is the answer
the incremental export, deploy and hub pings build on. What is the same for every state —
settings, templates, feedsvc's version, bundled assets — is not in the digests: a change there
changes everything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime

from feedsvc import urlmap
from feedsvc.catalog import Catalog
from feedsvc.catalog.images import image_files
from feedsvc.config.settings import Settings
from feedsvc.documents.feed_info import rfc3339
from feedsvc.documents.icons import icons_for
from feedsvc.documents.scopes import PREVIEW_SIZE
from feedsvc.export.article_digests import Article, digest, live_articles, page_digests
from feedsvc.export.list_digests import list_parts
from feedsvc.fediverse.digests import fediverse_fingerprints
from feedsvc.support.dates import iso_seconds
from feedsvc.web.asset_files import exported_names


@dataclass(slots=True)
class _Scope:
    name: str | None  # the section's, tag's or author's name (None: the whole site)
    articles: list[Article] = field(default_factory=list)  # newest first
    places: list[int] = field(default_factory=list)  # each article's archive place
    slots: int = 0

    def add(self, article: Article, place: int, name: str | None) -> None:
        self.articles.append(article)
        self.places.append(place)
        if name is not None:
            self.name = name if self.name is None else min(self.name, name)


# A scope: (kind, slug); the whole site is ("site", None).
_Key = tuple[str, str | None]
_SITE: _Key = ("site", None)


def fingerprints(
    catalog: Catalog, settings: Settings, *, articles: list[tuple[str, str]] | None = None
) -> dict[str, str]:
    """Return {path: digest of what its bytes are made from} for every path of the catalog's
    publication, redirect pages of old slugs included.

    `articles`, when given, receives (slug, card version) of every live article, newest first:
    what listing.site_paths needs, read here once rather than twice."""
    site_title, page_size, feed_size = settings.site.title, settings.page_size, settings.feed_size
    site = _Scope(None, slots=catalog.slots())
    sections: dict[str, _Scope] = {}
    members: dict[tuple[str, str], _Scope] = {}
    memberships = catalog.memberships()
    # What the deployed record (urlmap.RECORD) holds of each live article, old slugs aside.
    ledger: list[tuple[str, str, datetime, datetime, str, str, int]] = []
    for article in live_articles(catalog, site_title):
        ledger.append(
            (
                article.key,
                article.entry_id,
                article.published,  # to the microsecond, as the record writes them
                article.updated,
                article.content_hash,
                article.slug,
                article.seq,
            )
        )
        site.add(article, article.seq, None)
        if articles is not None:
            articles.append((article.slug, article.card))
        sections.setdefault(article.section_slug, _Scope(article.section)).add(
            article, article.section_seq, article.section
        )
        for kind, slug, name, place in memberships.get(article.key, ()):
            members.setdefault((kind, slug), _Scope(name)).add(article, place, name)
    for slug, scope in sections.items():
        scope.slots = catalog.slots(section_slug=slug)
    for (kind, slug), scope in members.items():
        scope.slots = catalog.slots(member=(kind, slug))
    changed = catalog.changed()
    tombstones: dict[_Key, list[tuple[str, datetime, str]]] = defaultdict(list)
    for tombstone, section_slug in catalog.tombstones_by_section():
        item = (tombstone.entry_id, tombstone.removed, tombstone.path)
        tombstones[_SITE].append(item)
        tombstones[("section", section_slug)].append(item)
    for tombstone, kind, slug in catalog.tombstones_by_member():
        tombstones[(kind, slug)].append((tombstone.entry_id, tombstone.removed, tombstone.path))
    found: dict[str, str] = {}
    shown = _sections_list(sections)
    scopes: list[tuple[_Key, _Scope]] = [
        (_SITE, site),
        *((("section", slug), scope) for slug, scope in sections.items()),
        *members.items(),
    ]
    for key, scope in scopes:
        _lists(found, key, scope, page_size, sections_shown=shown)
        _feeds(found, key, scope, feed_size, tombstones[key], changed)
        found[urlmap.subscribe(urlmap.listing(key[1], kind=key[0]))] = subscribedigest(
            scope.name,
            [urlmap.feed(key[1], name, kind=key[0]) for name in urlmap.FEED_FILENAMES],
            [a.teaser for a in scope.articles[:PREVIEW_SIZE]],  # a preview shows a teaser
        )
    names = {slug: scope.name for slug, scope in sections.items()}
    pages = page_digests(site.articles, names)
    for article, page in zip(site.articles, pages, strict=True):
        found[urlmap.article(article.slug)] = page
        found[urlmap.embed(article.slug)] = article.embed
        found[urlmap.oembed(article.slug, "json")] = article.oembed
        found[urlmap.oembed(article.slug, "xml")] = article.oembed
        found[urlmap.card(article.slug, article.card)] = article.card
        if article.image is not None:  # named by its bytes: the name is the digest
            for name in image_files(catalog, article.image):  # the original and its copies
                found[urlmap.image(name)] = name
    listed = _listed(scopes[1:])
    found[urlmap.FEEDS_PAGE] = digest(listed)
    newest = max((a.updated for a in site.articles), default=changed)
    modified = format_datetime(newest, usegmt=True)
    found[urlmap.OPML] = digest(listed, modified)
    _sitemaps(found, site, scopes[1:], newest)
    # The same in every state (bundled assets, robots.txt): settings and code decide them.
    for name in exported_names():
        found[urlmap.static(name)] = "constant"
    found[urlmap.ROBOTS] = "constant"
    for name in icons_for(settings).files:  # settings decide them (the export's build digest)
        found[urlmap.icon(name)] = "constant"
    found[urlmap.FAVICON] = found[urlmap.APPLE_TOUCH_ICON] = "constant"
    aliases = catalog.aliases()
    for old_slug, new_slug in aliases:
        for old, new in urlmap.article_redirects(old_slug, new_slug):
            # A page redirects; a document at an old path is the current one (frozen.moved).
            moved = new if old.endswith("/") else found[new]
            found[old] = digest("redirect", moved)
    # Live slugs are unique, so (old, current slug) pairs say whose old slugs they are.
    found[urlmap.RECORD] = digest("record", catalog.identity(), ledger, aliases)
    if settings.fediverse:  # the read-only fediverse documents
        found |= fediverse_fingerprints(catalog, settings)
    return found


def subscribedigest(name: str | None, feed_paths: list[str], previews: list[str]) -> str:
    """Return the digest of a scope's subscribe page: the scope's name (None: the site), its
    feeds' paths, and the `teaser` digests of its newest PREVIEW_SIZE articles, newest first."""
    return digest("subscribe", name, feed_paths, previews)


def _in_order(scopes: list[tuple[_Key, _Scope]]) -> list[tuple[_Key, _Scope]]:
    """Return the scopes as they are listed: sections, tags, authors, each by name then slug."""
    kinds = ("section", "tag", "author")
    return sorted(scopes, key=lambda item: (kinds.index(item[0][0]), item[1].name, item[0][1]))


def _listed(scopes: list[tuple[_Key, _Scope]]) -> list[tuple[_Key, str | None]]:
    return [(key, scope.name) for key, scope in _in_order(scopes)]


def _sections_list(sections: Mapping[str, _Scope]) -> str:
    return digest(sorted((s.name, slug, len(s.articles)) for slug, s in sections.items()))


def _lists(
    found: dict[str, str], key: _Key, scope: _Scope, page_size: int, *, sections_shown: str
) -> None:
    # The front page shows the site's sections with their counts, or the scope's count.
    extra = sections_shown if key == _SITE else len(scope.articles)
    teasers = zip(scope.places, (a.teaser for a in scope.articles), strict=True)
    for path, parts in list_parts(*key, scope.name, extra, teasers, scope.slots, page_size):
        found[path] = digest(*parts)


def _feeds(
    found: dict[str, str],
    key: _Key,
    scope: _Scope,
    feed_size: int,
    tombstones: list[tuple[str, datetime, str]],
    changed: datetime,
) -> None:
    blocks = urlmap.archive_blocks(scope.slots, feed_size)
    newest = scope.articles[:feed_size]
    kept = tombstones[:1000]
    times = [a.updated for a in newest] + [removed for _id, removed, _path in kept]
    updated = rfc3339(max(times, default=changed))
    entries = [a.full for a in newest]
    kept_shown = [(entry_id, rfc3339(removed)) for entry_id, removed, _path in kept]
    kind, slug = key

    def path(filename: str, block: int | None = None) -> str:
        return urlmap.feed(slug, filename, block, kind=kind)

    found[path("atom.xml")] = digest(scope.name, entries, kept_shown, updated, blocks)
    found[path("rss.xml")] = digest(scope.name, entries, updated, blocks)
    found[path("feed.json")] = digest(scope.name, entries, blocks)
    by_block: dict[int, list[Article]] = defaultdict(list)
    for article, place in zip(scope.articles, scope.places, strict=True):
        by_block[(place - 1) // feed_size + 1].append(article)
    for block in range(1, blocks + 1):
        members = by_block.get(block, [])
        last = block == blocks
        stamp = rfc3339(max((a.updated for a in members), default=changed))
        entries = [a.full for a in members]
        found[path("atom.xml", block)] = digest(scope.name, entries, stamp, last)
        found[path("rss.xml", block)] = digest(scope.name, entries, stamp, last)
        found[path("feed.json", block)] = digest(scope.name, entries)


def _sitemaps(
    found: dict[str, str], site: _Scope, scopes: list[tuple[_Key, _Scope]], newest: datetime
) -> None:
    head = [(urlmap.front(), newest)]
    for (kind, slug), scope in _in_order(scopes):
        head.append((urlmap.listing(slug, kind=kind), max(a.updated for a in scope.articles)))
    body = sorted(site.articles, key=lambda a: a.seq)
    entries = head + [(urlmap.article(a.slug), a.updated) for a in body]
    shown = [(path, iso_seconds(stamp)) for path, stamp in entries]
    parts = urlmap.sitemap_parts(len(shown))
    if not parts:
        found[urlmap.SITEMAP] = digest(shown)
        return
    index = []
    for number in range(1, parts + 1):
        first, last = urlmap.sitemap_part_bounds(number)
        part = shown[first:last]
        found[urlmap.sitemap_part(number)] = digest(part)
        index.append(max(stamp for _path, stamp in part))
    found[urlmap.SITEMAP] = digest(index)


def affected(before: Mapping[str, str], after: Mapping[str, str]) -> set[str]:
    """Return the paths whose bytes differ between two states (new, changed or gone)."""
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
