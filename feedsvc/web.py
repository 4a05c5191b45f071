"""The Flask edge: HTML pages and feeds over HTTP. The only module that imports Flask."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Flask, Response, abort, current_app, g, redirect, render_template
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers.response import Response as BaseResponse

from feedsvc.catalog import Catalog, Record, open_catalog
from feedsvc.config import Settings
from feedsvc.errors import CatalogError, NotFound
from feedsvc.feeds import FORMATS, FeedInfo

bp = Blueprint("site", __name__)


def settings() -> Settings:
    """Return the app's settings."""
    value: Settings = current_app.config["FEEDSVC"]
    return value


def catalog() -> Catalog:
    """Return this request's read-only catalog connection (opened on first use)."""
    if "catalog" not in g:
        g.catalog = open_catalog(settings().database, readonly=True)
    value: Catalog = g.catalog
    return value


def _close_catalog(_exc: BaseException | None) -> None:
    opened = g.pop("catalog", None)
    if opened is not None:
        opened.close()


def _feed_links() -> list[dict[str, str]]:
    site = settings().site
    return [
        {
            "href": site.absolute(f"/feeds/{fmt.filename}"),
            "type": fmt.media_type,
            "title": f"{site.title} ({fmt.title})",
            "label": fmt.title,
        }
        for fmt in FORMATS.values()
    ]


@bp.app_template_filter("isodate")
def _isodate(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.app_template_filter("humandate")
def _humandate(moment: datetime) -> str:
    return f"{moment.day} {moment.strftime('%B %Y')}"


def _render(template: str, **context: object) -> str:
    site = settings().site
    return render_template(template, site=site, feed_links=_feed_links(), **context)


@bp.get("/")
def index() -> str:
    """Show the newest articles."""
    records = catalog().latest(settings().feed_size)
    return _render("index.html", records=records)


@bp.get("/articles/<slug>/")
def article(slug: str) -> str | BaseResponse:
    """Show one article; an old slug redirects to the current one."""
    found = catalog().lookup(slug)
    if found.redirect_to is not None:
        return redirect(settings().site.absolute(f"/articles/{found.redirect_to}/"), code=301)
    if found.record is None:
        abort(410)
    return _render("article.html", record=found.record)


def _updated(records: list[Record]) -> datetime:
    return max((record.updated for record in records), default=None) or catalog().changed()


@bp.get("/feeds/<filename>")
def site_feed(filename: str) -> Response:
    """Serve a whole-site feed."""
    fmt = FORMATS.get(filename)
    if fmt is None:
        raise NotFound("feed", filename)
    site = settings().site
    records = catalog().latest(settings().feed_size)
    info = FeedInfo(
        id=f"tag:{catalog().tag_base()}:feed",
        title=site.title,
        subtitle=site.description,
        self_url=site.absolute(f"/feeds/{fmt.filename}"),
        page_url=site.absolute("/"),
        updated=_updated(records),
        site=site,
    )
    return Response(fmt.build(info, records), mimetype=fmt.media_type)


def _error_page(code: int, title: str, message: str) -> Response:
    body = render_template(
        "error.html",
        site=settings().site,
        feed_links=_feed_links(),
        code=code,
        title=title,
        message=message,
    )
    return Response(body, status=code, mimetype="text/html")


def _not_found(exc: NotFound) -> Response:
    return _error_page(404, "Not found", f"There is no {exc.what} here.")


def _http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    if code == 410:
        return _error_page(410, "Gone", "This article has been withdrawn.")
    return _error_page(code, exc.name, exc.description or exc.name)


def _catalog_error(exc: CatalogError) -> Response:
    current_app.logger.error("%s", exc)
    return _error_page(503, "Service unavailable", "The catalog cannot be read right now.")


def init_app(app: Flask) -> None:
    """Register the routes and map every error to a page, once."""
    app.register_blueprint(bp)
    app.teardown_appcontext(_close_catalog)
    app.register_error_handler(NotFound, _not_found)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CatalogError, _catalog_error)
