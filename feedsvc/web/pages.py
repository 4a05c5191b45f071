"""HTML pages: the front page, sections, article permalinks and the list of feeds."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, redirect, render_template
from werkzeug.wrappers.response import Response as BaseResponse

from feedsvc.feeds import FORMATS
from feedsvc.web.context import catalog, page_context, publication, settings

bp = Blueprint("pages", __name__)


@bp.app_template_filter("isodate")
def _isodate(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.app_template_filter("humandate")
def _humandate(moment: datetime) -> str:
    return f"{moment.day} {moment.strftime('%B %Y')}"


@bp.get("/")
def index() -> str:
    """Show the newest articles and the sections."""
    records = catalog().latest(settings().feed_size)
    return render_template(
        "index.html", records=records, sections=catalog().sections(), **page_context()
    )


@bp.get("/sections/<slug>/")
def section(slug: str) -> str:
    """Show the newest articles of one section."""
    scope = publication().scope(slug)
    records = catalog().latest(settings().feed_size, section_slug=slug)
    return render_template(
        "section.html",
        scope=scope,
        section=scope.section,
        records=records,
        **page_context(scope),
    )


@bp.get("/articles/<slug>/")
def article(slug: str) -> str | BaseResponse:
    """Show one article; an old slug redirects to the current one."""
    found = catalog().lookup(slug)
    if found.redirect_to is not None:
        return redirect(settings().site.absolute(f"/articles/{found.redirect_to}/"), code=301)
    if found.record is None:
        abort(410)
    scope = publication().scope(found.record.section_slug)
    return render_template("article.html", record=found.record, scope=scope, **page_context(scope))


@bp.get("/feeds/")
def feeds() -> str:
    """List every subscription feed with its URL to copy."""
    site = settings().site
    rows = [
        (scope, [(fmt, site.absolute(scope.feed_path(fmt))) for fmt in FORMATS.values()])
        for scope in publication().scopes()
    ]
    return render_template(
        "feeds.html",
        rows=rows,
        opml=site.absolute("/feeds.opml"),
        feed_size=settings().feed_size,
        **page_context(),
    )
