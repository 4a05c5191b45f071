"""The order of publication: in which stage the file answering each URL goes out, so that
nothing ever links to a file not yet there. The in-place export renames files in this order
and a deploy sends them in it; files are deleted only after all of it."""

from __future__ import annotations

from feedsvc.urlmap.shapes import path_kind

__all__ = ["STAGES", "stage_of"]

# Stages of publication, in order; each is put whole before the next one starts.
STAGES = (
    "assets",  # /static/: what pages and feeds style themselves with
    "cards",  # preview cards and articles' own images, which article pages name
    "articles",  # article pages, embed cards, oEmbed documents
    "archives",  # RFC 5005 archive blocks, which link to articles
    # Old slugs, which point at article pages, and the server files beside the site
    # (_headers, _redirects, _nginx.conf): once the pages new redirects point to are there,
    # and before the lists that link to a page number which stopped redirecting.
    "redirects",
    "subscribe pages",  # each scope's subscribe page, which lists link to; it shows articles
    "lists",  # the front page, sections and their pages
    "feeds",  # subscription feeds, which link to articles, archives and lists
    "feeds page",  # /feeds/, which lists the feeds
    "sitemap parts",
    "sitemap",
    "opml",
    "robots",
    "rest",
    # The deployed record last: it says what the site publishes, so it goes once all of that
    # is there (a builder reading it mid-deploy sees the previous deploy's, still true).
    "record",
)
_STAGE = {name: number for number, name in enumerate(STAGES)}
# The stage of each kind of path the URL map tells apart.
_STAGE_OF_KIND = {
    "asset": "assets",
    "image": "cards",
    "card": "cards",
    "article": "articles",
    "archive": "archives",
    "subscribe": "subscribe pages",
    "list": "lists",
    "feed": "feeds",
    "sitemap part": "sitemap parts",
    "feeds page": "feeds page",
    "sitemap": "sitemap",
    "opml": "opml",
    "robots": "robots",
    "other": "rest",
    "record": "record",
}


def stage_of(path: str, *, redirect: bool = False) -> int:
    """Return the stage of publication of the file answering a URL path ("" for the server
    files beside the site; `redirect` for the page standing at an old path)."""
    if redirect or not path:
        return _STAGE["redirects"]
    return _STAGE[_STAGE_OF_KIND[path_kind(path)]]
