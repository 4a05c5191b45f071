"""Every URL a static export holds, from the map of the publication and the catalog (no Flask,
no rendering)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from feedsvc import urlmap
from feedsvc.catalog import Catalog, open_catalog
from feedsvc.catalog.images import live_image_names
from feedsvc.catalog.members import KINDS
from feedsvc.config.settings import Settings
from feedsvc.documents.cards import card_for
from feedsvc.documents.icons import icons_for
from feedsvc.web.asset_files import exported_names


def _articles(catalog: Catalog, site_title: str) -> Iterator[tuple[str, str]]:
    total = catalog.count()
    # A page of records at a time: a large catalog is never held in memory whole.
    for offset in range(0, total, 1000):
        for record in catalog.latest(1000, offset):
            yield record.slug, card_for(record, site_title).version


def site_paths(
    settings: Settings,
    catalog: Catalog | None = None,
    articles: Sequence[tuple[str, str]] | None = None,
) -> tuple[list[str], list[tuple[str, str]]]:
    """Return every path the site publishes, and (old path, new path) of what answers 301:
    renamed articles, and page numbers whose articles the front page shows.

    `catalog` is read (else the settings' is opened); `articles` are (slug, card version) of
    its live articles, newest first, when the caller has them already (else they are read)."""
    opened = catalog is None
    catalog = open_catalog(settings.database, readonly=True) if catalog is None else catalog
    try:
        scopes = _scope_counts(catalog)
        paths = list(
            urlmap.all_paths(
                scopes,
                articles if articles is not None else _articles(catalog, settings.site.title),
                live_articles=catalog.count(),
                assets=exported_names(),
                icons=icons_for(settings).files,
                images=live_image_names(catalog),
                page_size=settings.page_size,
                feed_size=settings.feed_size,
            )
        )
        if settings.fediverse:  # the read-only fediverse documents
            seqs = (seq for _record, seq, _section_seq in catalog.each_live())
            paths += urlmap.fediverse_paths(scopes, seqs, settings.page_size)
        redirects = _redirects(catalog, scopes, settings.page_size)
    finally:
        if opened:
            catalog.close()
    return paths, redirects


def site_redirects(settings: Settings, catalog: Catalog) -> list[tuple[str, str]]:
    """Return the (old path, new path) pairs site_paths returns, without listing every path."""
    return _redirects(catalog, _scope_counts(catalog), settings.page_size)


def _scope_counts(catalog: Catalog) -> list[urlmap.ScopeCounts]:
    return [
        urlmap.ScopeCounts(None, catalog.count(), catalog.slots()),
        *(
            urlmap.ScopeCounts(s.slug, s.count, catalog.slots(section_slug=s.slug))
            for s in catalog.sections()
        ),
        *(
            urlmap.ScopeCounts(s.slug, s.count, catalog.slots(member=(kind, s.slug)), kind)
            for kind in KINDS
            for s in catalog.members(kind)
        ),
    ]


def _redirects(
    catalog: Catalog, scopes: list[urlmap.ScopeCounts], page_size: int
) -> list[tuple[str, str]]:
    redirects = [
        pair for old, new in catalog.aliases() for pair in urlmap.article_redirects(old, new)
    ]
    for counts in scopes:  # page numbers whose blocks the front page shows
        redirects += urlmap.list_redirects(counts, page_size)
    return redirects
