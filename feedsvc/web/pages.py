"""HTML pages: the front page, sections (both paged), article permalinks, the list of feeds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template
from werkzeug.wrappers.response import Response as BaseResponse

from feedsvc.catalog import Record
from feedsvc.feeds import FORMATS
from feedsvc.publication import Scope
from feedsvc.web.context import catalog, finish, page_context, publication, settings
from feedsvc.web.embeds import card_path

bp = Blueprint("pages", __name__)


@bp.app_template_filter("isodate")
def _isodate(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.app_template_filter("humandate")
def _humandate(moment: datetime) -> str:
    return f"{moment.day} {moment.strftime('%B %Y')}"


def _page(html: str, last_modified: datetime | None) -> Response:
    return finish(Response(html, mimetype="text/html"), "page", last_modified)


def _newest(records: list[Record]) -> datetime | None:
    return max((record.updated for record in records), default=None)


def _permanent(path: str) -> BaseResponse:
    response = redirect(settings().site.absolute(path), code=301)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _listing(scope: Scope, number: int) -> Response:
    """Render page `number` of a scope's articles, newest first."""
    size = settings().page_size
    total = catalog().count(section_slug=scope.slug)
    pages = max(1, -(-total // size))
    if not 1 <= number <= pages:
        abort(404)
    records = catalog().latest(size, (number - 1) * size, section_slug=scope.slug)

    def page_path(n: int) -> str:
        return scope.page_path if n == 1 else f"{scope.page_path}page/{n}/"

    pager: dict[str, Any] = {
        "number": number,
        "pages": pages,
        "prev": page_path(number - 1) if number > 1 else None,
        "next": page_path(number + 1) if number < pages else None,
        "path": page_path(number),
    }
    template = "section.html" if scope.section else "index.html"
    html = render_template(
        template,
        records=records,
        scope=scope,
        section=scope.section,
        pager=pager,
        sections=catalog().sections() if scope.section is None else [],
        **page_context(scope),
    )
    return _page(html, _newest(records) or catalog().changed())


@bp.get("/")
def index() -> Response:
    """Show the newest articles and the sections."""
    return _listing(Scope(), 1)


@bp.get("/page/<int:number>/")
def index_page(number: int) -> BaseResponse:
    """Show an older page of articles."""
    return _permanent("/") if number == 1 else _listing(Scope(), number)


@bp.get("/sections/<slug>/")
def section(slug: str) -> Response:
    """Show the newest articles of one section."""
    return _listing(publication().scope(slug), 1)


@bp.get("/sections/<slug>/page/<int:number>/")
def section_page(slug: str, number: int) -> BaseResponse:
    """Show an older page of one section."""
    scope = publication().scope(slug)
    return _permanent(scope.page_path) if number == 1 else _listing(scope, number)


def _jsonld(record: Record, url: str, image: str) -> dict[str, Any]:
    site = settings().site
    organization = {"@type": "Organization", "name": site.title, "url": site.absolute("/")}
    return {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": record.title if len(record.title) <= 110 else record.title[:109] + "…",
        "description": record.summary,
        "datePublished": _isodate(record.published),
        "dateModified": _isodate(record.updated),
        "author": [
            {"@type": "Person", "name": record.author}
            if record.author
            else {"@type": "Organization", "name": site.author}
        ],
        "publisher": organization,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "articleSection": record.section,
        "inLanguage": site.language,
        "url": url,
        "wordCount": sum(len(paragraph.split()) for paragraph in record.paragraphs),
        "image": [image],
        "keywords": list(record.categories),
    }


@bp.get("/articles/<slug>/")
def article(slug: str) -> BaseResponse:
    """Show one article; an old slug redirects to the current one."""
    found = catalog().lookup(slug)
    if found.redirect_to is not None:
        return _permanent(f"/articles/{found.redirect_to}/")
    if found.record is None:
        abort(410)
    record = found.record
    site = settings().site
    scope = publication().scope(record.section_slug)
    url = site.absolute(record.path)
    card_url = site.absolute(card_path(record))
    html = render_template(
        "article.html",
        record=record,
        scope=scope,
        tags=record.categories,
        card_url=card_url,
        card_alt=f"{record.title} — {record.section}, {_humandate(record.published)}",
        jsonld=_jsonld(record, url, card_url),
        **page_context(scope),
    )
    return _page(html, record.updated)


@bp.get("/feeds/")
def feeds() -> Response:
    """List every subscription feed with its URL to copy."""
    site = settings().site
    scopes = publication().scopes()
    rows = [
        (scope, [(fmt, site.absolute(scope.feed_path(fmt))) for fmt in FORMATS.values()])
        for scope in scopes
    ]
    html = render_template(
        "feeds.html",
        rows=rows,
        opml=site.absolute("/feeds.opml"),
        feed_size=settings().feed_size,
        **page_context(),
    )
    newest = max((s.section.updated for s in scopes if s.section), default=None)
    return _page(html, newest or catalog().changed())
