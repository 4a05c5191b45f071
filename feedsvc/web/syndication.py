"""Machine-readable documents: feeds and their archives, OPML, sitemaps, robots.txt."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, request

from feedsvc import urlmap
from feedsvc.documents.feeds import FORMATS, FeedFormat
from feedsvc.documents.headers import CORS, CORS_PREFLIGHT
from feedsvc.documents.opml import Subscription, build_opml
from feedsvc.documents.scopes import Scope
from feedsvc.documents.sitemap import build_index, build_robots, build_urlset
from feedsvc.errors import NotFound
from feedsvc.urlmap import RULES
from feedsvc.web.context import Kind, catalog, finish, publication, settings

bp = Blueprint("syndication", __name__)


@bp.after_request
def _cors(response: Response) -> Response:
    """Let pages on any origin read feeds, OPML and sitemaps; answer preflight requests."""
    for name, value in CORS:
        response.headers[name] = value
    if request.method == "OPTIONS":
        response.status_code = 204
        response.headers.update(CORS_PREFLIGHT)
        response.set_data(b"")
        del response.headers["Content-Type"]
    return response


def _format(filename: str) -> FeedFormat:
    fmt = FORMATS.get(filename)
    if fmt is None:
        raise NotFound("feed", filename)
    return fmt


def _feed_response(scope: Scope, filename: str, block: int | None) -> Response:
    fmt = _format(filename)
    document = publication().feed(scope, fmt, block)
    info = document.info
    response = Response(fmt.build(info, document.records), mimetype=fmt.media_type)
    links = [(info.self_url, "self", fmt.media_type), (info.page_url, "alternate", "text/html")]
    links += [(href, rel, fmt.media_type) for rel, href in info.history_links()]
    header = [f'<{href}>; rel="{rel}"; type="{media_type}"' for href, rel, media_type in links]
    if info.hub_url:
        header.append(f'<{info.hub_url}>; rel="hub"')
    response.headers["Link"] = ", ".join(header)
    kind: Kind = "immutable" if document.immutable else "feed"
    return finish(response, kind, info.updated)


@bp.get(RULES["site_feed"])
def site_feed(filename: str) -> Response:
    """Serve a whole-site subscription feed."""
    return _feed_response(Scope(), filename, None)


@bp.get(RULES["site_archive"])
def site_archive(block: int, filename: str) -> Response:
    """Serve a whole-site RFC 5005 archive block."""
    return _feed_response(Scope(), filename, block)


@bp.get(RULES["section_feed"])
def section_feed(slug: str, filename: str) -> Response:
    """Serve a section's subscription feed."""
    _format(filename)
    return _feed_response(publication().scope(slug), filename, None)


@bp.get(RULES["section_archive"])
def section_archive(slug: str, block: int, filename: str) -> Response:
    """Serve a section's RFC 5005 archive block."""
    _format(filename)
    return _feed_response(publication().scope(slug), filename, block)


@bp.get(RULES["member_feed"])
def member_feed(folder: str, slug: str, filename: str) -> Response:
    """Serve a tag's or an author's subscription feed."""
    scope = publication().member_scope(urlmap.kind_of(folder), slug)
    return _feed_response(scope, filename, None)


@bp.get(RULES["member_archive"])
def member_archive(folder: str, slug: str, block: int, filename: str) -> Response:
    """Serve one archive block of a tag's or an author's feed."""
    scope = publication().member_scope(urlmap.kind_of(folder), slug)
    return _feed_response(scope, filename, block)


@bp.get(RULES["opml"])
def opml() -> Response:
    """Serve an OPML 2.0 list of every feed, grouped by format."""
    site = settings().site
    scopes = publication().scopes()
    groups = [
        (
            f"{fmt.title} feeds",
            [
                Subscription(
                    text=f"{site.title}: {scope.label}" if scope.label else site.title,
                    xml_url=site.absolute(scope.feed_path(fmt)),
                    html_url=site.absolute(scope.page_path),
                )
                for scope in scopes
            ],
        )
        for fmt in FORMATS.values()
    ]
    modified = max((s.section.updated for s in scopes if s.section), default=None)
    modified = modified or catalog().changed()
    body = build_opml(f"{site.title} feeds", groups, modified)
    return finish(Response(body, mimetype="text/x-opml"), "feed", modified)


def _sitemap_head() -> list[tuple[str, datetime]]:
    """Return the front page, then the section, tag and author pages, with their lastmod."""
    site = settings().site
    scopes = [scope for scope in publication().scopes() if scope.section is not None]
    changed = max((s.section.updated for s in scopes if s.section), default=None)
    return [
        (site.absolute(urlmap.front()), changed or catalog().changed()),
        *((site.absolute(s.page_path), s.section.updated) for s in scopes if s.section),
    ]


def _sitemap_part(head: list[tuple[str, datetime]], number: int) -> list[tuple[str, datetime]]:
    """Return entries number*PART_SIZE.. of [front, sections, articles oldest first], read from
    the catalog a part at a time (a worker never holds every article's URL)."""
    site = settings().site
    first, last = urlmap.sitemap_part_bounds(number)
    entries = head[first:last]
    offset = max(0, first - len(head))
    limit = last - first - len(entries)
    entries += [(site.absolute(path), stamp) for path, stamp in catalog().stamps(offset, limit)]
    return entries


def _part_newest(head: list[tuple[str, datetime]], number: int) -> datetime:
    """Return the newest lastmod of sitemap part `number` (what _sitemap_part lists), asking
    the catalog for its articles' newest update instead of reading each of them."""
    first, last = urlmap.sitemap_part_bounds(number)
    entries = head[first:last]
    offset = max(0, first - len(head))
    stamps = [stamp for _, stamp in entries]
    articles = catalog().newest_stamp(offset, last - first - len(entries))
    if articles is not None:
        stamps.append(articles)
    return max(stamps)


@bp.get(RULES["sitemap"])
def sitemap() -> Response:
    """Serve the sitemap, or a sitemap index when there are more URLs than one part holds."""
    head = _sitemap_head()
    parts = urlmap.sitemap_parts(len(head) + catalog().count())
    if not parts:
        entries = _sitemap_part(head, 1)
        newest = max(stamp for _, stamp in entries)
        body = build_urlset(entries)
    else:
        site = settings().site
        index = []
        for number in range(1, parts + 1):
            index.append((site.absolute(urlmap.sitemap_part(number)), _part_newest(head, number)))
        newest = max(stamp for _, stamp in index)
        body = build_index(index)
    return finish(Response(body, mimetype="application/xml"), "feed", newest)


@bp.get(RULES["sitemap_part"])
def sitemap_part(number: int) -> Response:
    """Serve one part of a sitemap index."""
    head = _sitemap_head()
    if number > urlmap.sitemap_parts(len(head) + catalog().count()):
        raise NotFound("sitemap", str(number))
    entries = _sitemap_part(head, number)
    newest = max(stamp for _, stamp in entries)
    return finish(Response(build_urlset(entries), mimetype="application/xml"), "feed", newest)


@bp.get(RULES["robots"])
def robots() -> Response:
    """Serve robots.txt naming the sitemap."""
    body = build_robots(settings().site.absolute(urlmap.SITEMAP))
    return finish(Response(body, mimetype="text/plain"), "feed")
