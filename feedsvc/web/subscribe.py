"""Subscribe pages: what a person who clicks a feed link sees, one per scope, at
`<scope page>subscribe/`.

Browsers show Atom and RSS served with their registered media types as raw text (Chromium no
longer applies XSLT to them, and XSLT is being removed from browsers), so every visible feed
link on the site leads here instead: the addresses to copy, one-click links for web readers and
the `feed:` scheme, and the newest articles. Feed readers keep the feeds' own URLs
(autodiscovery, OPML, /feeds/).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from flask import Blueprint, Response, render_template

from feedsvc import urlmap
from feedsvc.documents.feeds import ATOM, FORMATS
from feedsvc.documents.scopes import Scope
from feedsvc.urlmap import RULES
from feedsvc.web.context import catalog, finish, page_context, publication, settings

bp = Blueprint("subscribe", __name__)

# Web readers that subscribe from a link: (name, URL the percent-encoded feed URL is appended
# to), as each documents it or its own "add" button uses it.
READERS: tuple[tuple[str, str], ...] = (
    ("Feedly", "https://feedly.com/i/subscription/feed/"),
    ("Inoreader", "https://www.inoreader.com/?add_feed="),
    ("NewsBlur", "https://www.newsblur.com/?url="),
    ("Feedbin", "https://feedbin.com/?subscribe="),
    ("The Old Reader", "https://theoldreader.com/feeds/subscribe?url="),
)


@dataclass(frozen=True, slots=True)
class ReaderLink:
    """A one-click subscription: the reader's name and the link that subscribes to a feed."""

    name: str
    href: str


def reader_links(feed_url: str) -> list[ReaderLink]:
    """Return the one-click links that subscribe to `feed_url`, the `feed:` link last (it
    opens whichever desktop or phone app registered the scheme).

    The `feed:` link is `feed://host/path`: the HTML checker refuses `feed:https://…` (it
    parses `feed` as a hierarchical scheme), and readers open `feed://` over HTTPS or HTTP.
    """
    encoded = quote(feed_url, safe="")
    links = [ReaderLink(name, prefix + encoded) for name, prefix in READERS]
    _scheme, _sep, rest = feed_url.partition("://")
    return [*links, ReaderLink("Your feed app (feed: link)", "feed://" + rest)]


def _page(scope: Scope) -> Response:
    site = settings().site
    records = publication().preview(scope)
    feeds = [(fmt, site.absolute(scope.feed_path(fmt))) for fmt in FORMATS.values()]
    html = render_template(
        "subscribe.html",
        scope=scope,
        name=f"{site.title}: {scope.label}" if scope.label else site.title,
        feeds=feeds,
        readers=reader_links(site.absolute(scope.feed_path(ATOM))),
        records=records,
        all_feeds=site.absolute(urlmap.FEEDS_PAGE),
        opml=site.absolute(urlmap.OPML),
        **page_context(scope),
    )
    newest = max((record.updated for record in records), default=None)
    return finish(Response(html, mimetype="text/html"), "page", newest or catalog().changed())


@bp.get(RULES["subscribe"])
def site_page() -> Response:
    """Show how to subscribe to the whole site."""
    return _page(Scope())


@bp.get(RULES["section_subscribe"])
def section_page(slug: str) -> Response:
    """Show how to subscribe to one section."""
    return _page(publication().scope(slug))


@bp.get(RULES["member_subscribe"])
def member_page(folder: str, slug: str) -> Response:
    """Show how to subscribe to one tag or author."""
    return _page(publication().member_scope(urlmap.kind_of(folder), slug))
