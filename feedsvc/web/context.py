"""Per-request access to settings, the catalog and what every page template needs."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, url_for

from feedsvc.catalog import Catalog, open_catalog
from feedsvc.config import Settings
from feedsvc.feeds import FORMATS
from feedsvc.publication import Publication, Scope


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


def close_catalog(_exc: BaseException | None) -> None:
    """Close the request's catalog connection, if one was opened."""
    opened = g.pop("catalog", None)
    if opened is not None:
        opened.close()


def publication() -> Publication:
    """Return the catalog seen as published documents."""
    return Publication(catalog(), settings())


def feed_links(scope: Scope) -> list[dict[str, str]]:
    """Return the <link rel="alternate"> data of the scope's subscription feeds."""
    site = settings().site
    name = f"{site.title}: {scope.section.name}" if scope.section else site.title
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
    links = feed_links(Scope())
    if section_scope is not None and section_scope.section is not None:
        links += feed_links(section_scope)
    return {
        "site": site,
        "feed_links": links,
        "stylesheet": site.absolute(url_for("static", filename="site.css")),
    }
