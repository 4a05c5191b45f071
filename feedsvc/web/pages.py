"""HTML pages: the front page, sections (both paged), article permalinks, the list of feeds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template
from flask.blueprints import BlueprintSetupState
from werkzeug.wrappers.response import Response as BaseResponse

from feedsvc import urlmap
from feedsvc.catalog import Record
from feedsvc.catalog.members import wanted
from feedsvc.documents.entry_images import EntryImage, entry_image
from feedsvc.documents.feeds import FORMATS
from feedsvc.documents.listing import Moved, list_page
from feedsvc.documents.scopes import Scope
from feedsvc.support.dates import human_date, iso_seconds
from feedsvc.urlmap import RULES
from feedsvc.web.context import (
    cache_control,
    catalog,
    finish,
    page_context,
    publication,
    settings,
)

bp = Blueprint("pages", __name__)


@bp.record_once
def _url_map_in_templates(state: BlueprintSetupState) -> None:
    # Templates build paths with the one map too: {{ site.absolute(urls.article(slug)) }}.
    state.app.jinja_env.globals["urls"] = urlmap


bp.add_app_template_filter(iso_seconds, "isodate")
bp.add_app_template_filter(human_date, "humandate")


def _page(html: str, last_modified: datetime | None) -> Response:
    return finish(Response(html, mimetype="text/html"), "page", last_modified)


def _newest(records: list[Record]) -> datetime | None:
    return max((record.updated for record in records), default=None)


def _permanent(path: str) -> BaseResponse:
    response = redirect(settings().site.absolute(path), code=301)
    response.headers["Cache-Control"] = cache_control("redirect")
    return response


def _listing(scope: Scope, number: int | None = None) -> BaseResponse:
    """Render the front page (`number` None) or page `number` of a scope's articles."""
    page = list_page(publication(), scope, number)
    if isinstance(page, Moved):
        return _permanent(page.path)
    template = "section.html" if scope.section else "index.html"
    html = render_template(
        template,
        records=page.records,
        scope=scope,
        section=scope.section,
        pager=page,
        sections=catalog().sections() if scope.section is None and page.front else [],
        **page_context(scope),
    )
    return _page(html, _newest(page.records) or catalog().changed())


@bp.get(RULES["front"])
def index() -> BaseResponse:
    """Show the newest articles and the sections."""
    return _listing(Scope())


@bp.get(RULES["front_page"])
def index_page(number: int) -> BaseResponse:
    """Show an older page of articles."""
    return _listing(Scope(), number)


@bp.get(RULES["section"])
def section(slug: str) -> BaseResponse:
    """Show the newest articles of one section."""
    return _listing(publication().scope(slug))


@bp.get(RULES["section_page"])
def section_page(slug: str, number: int) -> BaseResponse:
    """Show an older page of one section."""
    return _listing(publication().scope(slug), number)


def _jsonld(record: Record, url: str, image: EntryImage) -> dict[str, Any]:
    site = settings().site
    organization = {
        "@type": "Organization",
        "name": site.title,
        "url": site.absolute(urlmap.front()),
    }
    return {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": record.title if len(record.title) <= 110 else record.title[:109] + "…",
        "description": record.summary,
        "datePublished": iso_seconds(record.published),
        "dateModified": iso_seconds(record.updated),
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
        "image": [image.url],
        "keywords": list(record.categories),
    }


@bp.get(RULES["member"])
def member(folder: str, slug: str) -> BaseResponse:
    """Show the newest articles of one tag or author."""
    return _listing(publication().member_scope(urlmap.kind_of(folder), slug))


@bp.get(RULES["member_page"])
def member_page(folder: str, slug: str, number: int) -> BaseResponse:
    """Show an older page of one tag or author."""
    return _listing(publication().member_scope(urlmap.kind_of(folder), slug), number)


@bp.get(RULES["article"])
def article(slug: str) -> BaseResponse:
    """Show one article; an old slug redirects to the current one."""
    found = catalog().lookup(slug)
    if found.redirect_to is not None:
        return _permanent(urlmap.article(found.redirect_to))
    if found.record is None:
        abort(410)
    record = found.record
    site = settings().site
    scope = publication().scope(record.section_slug)
    url = site.absolute(record.path)
    image = entry_image(record, settings(), measure=False)
    html = render_template(
        "article.html",
        record=record,
        scope=scope,
        tags=record.categories,
        members=[
            (kind, name, urlmap.section(slug, kind=kind))
            for kind, slug, name in wanted(record.tags, record.author)
        ],
        image=image,
        jsonld=_jsonld(record, url, image),
        **page_context(scope),
    )
    return _page(html, record.updated)


@bp.get(RULES["feeds_page"])
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
        opml=site.absolute(urlmap.OPML),
        feed_size=settings().feed_size,
        **page_context(),
    )
    newest = max((s.section.updated for s in scopes if s.section), default=None)
    return _page(html, newest or catalog().changed())
