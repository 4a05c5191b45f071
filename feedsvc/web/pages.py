"""HTML pages: the front page, sections, article permalinks and the list of feeds."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, redirect, render_template
from werkzeug.wrappers.response import Response as BaseResponse

from feedsvc.catalog import Record
from feedsvc.feeds import FORMATS
from feedsvc.web.context import catalog, finish, page_context, publication, settings

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


@bp.get("/")
def index() -> Response:
    """Show the newest articles and the sections."""
    records = catalog().latest(settings().feed_size)
    html = render_template(
        "index.html", records=records, sections=catalog().sections(), **page_context()
    )
    return _page(html, _newest(records) or catalog().changed())


@bp.get("/sections/<slug>/")
def section(slug: str) -> Response:
    """Show the newest articles of one section."""
    scope = publication().scope(slug)
    records = catalog().latest(settings().feed_size, section_slug=slug)
    html = render_template(
        "section.html",
        scope=scope,
        section=scope.section,
        records=records,
        **page_context(scope),
    )
    return _page(html, _newest(records))


@bp.get("/articles/<slug>/")
def article(slug: str) -> BaseResponse:
    """Show one article; an old slug redirects to the current one."""
    found = catalog().lookup(slug)
    if found.redirect_to is not None:
        response = redirect(settings().site.absolute(f"/articles/{found.redirect_to}/"), code=301)
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response
    if found.record is None:
        abort(410)
    scope = publication().scope(found.record.section_slug)
    html = render_template("article.html", record=found.record, scope=scope, **page_context(scope))
    return _page(html, found.record.updated)


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
