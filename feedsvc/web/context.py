"""Per-request access to settings, the catalog, and what every response needs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, current_app, request

from feedsvc.catalog import Catalog, CatalogWatch
from feedsvc.config.settings import Settings
from feedsvc.documents import headers
from feedsvc.documents.feeds import FORMATS
from feedsvc.documents.icons import TOUCH, icons_for
from feedsvc.documents.scopes import Publication, Scope
from feedsvc.web.asset_files import asset_url

# What a 200 document is, for `finish`; feedsvc/documents/headers.py holds every kind and its value.
Kind = headers.DocumentKind


# The WSGI environ key marking the static export's own requests (web/frozen.py sets it).
EXPORT_REQUEST = "feedsvc.export"


def for_export() -> bool:
    """Return whether the static export asks: a static host answers every query of a path with
    the one file written for it, so the export may get what a live request without a query may
    not."""
    return bool(request.environ.get(EXPORT_REQUEST))


def settings() -> Settings:
    """Return the app's settings."""
    value: Settings = current_app.config["FEEDSVC"]
    return value


def catalog() -> Catalog:
    """Return this worker thread's read-only catalog connection."""
    watch: CatalogWatch = current_app.extensions["feedsvc.catalog"]
    return watch.catalog()


def publication() -> Publication:
    """Return the catalog seen as published documents."""
    return Publication(catalog(), settings())


def cache_control(kind: headers.Kind) -> str:
    """Return the Cache-Control value for a kind of response (documents/headers.py decides)."""
    return headers.HeaderPolicy.of(settings()).cache_control(kind)


def finish(response: Response, kind: Kind, last_modified: datetime | None = None) -> Response:
    """Mark a 200 response cacheable (the HTTP edge adds ETag, compression and 304s)."""
    response.headers["Cache-Control"] = cache_control(kind)
    if last_modified is not None:
        response.last_modified = last_modified
    return response


def feed_links(scope: Scope) -> list[dict[str, str]]:
    """Return the <link rel="alternate"> data of the scope's subscription feeds."""
    site = settings().site
    name = f"{site.title}: {scope.label}" if scope.label else site.title
    return [
        {
            "href": site.absolute(scope.feed_path(fmt)),
            "type": fmt.media_type,
            "title": f"{name} ({fmt.title})",
            "label": fmt.title,
        }
        for fmt in FORMATS.values()
    ]


def page_context(section_scope: Scope | None = None) -> dict[str, Any]:
    """Return what the base template needs: the site, feed links, the stylesheet URL."""
    site = settings().site
    icons = icons_for(settings())
    links = feed_links(Scope())
    if section_scope is not None and section_scope.section is not None:
        links += feed_links(section_scope)
    return {
        "site": site,
        "feed_links": links,
        "stylesheet": asset_url(site, "site.css"),
        "icon": icons.url(site.url, "icon.svg"),
        "icon_png": icons.url(site.url, "icon-32.png"),
        "touch_icon": icons.url(site.url, f"icon-{TOUCH}.png"),
    }
