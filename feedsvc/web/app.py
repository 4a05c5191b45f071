"""The app factory: settings, blueprints, the catalog watch and the HTTP edge, once per process."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from flask import Flask

from feedsvc.catalog import CatalogWatch
from feedsvc.config.settings import Settings, load_settings
from feedsvc.errors import CatalogError
from feedsvc.health import CATALOG, read_state

__all__ = ["create_app"]


def create_app(
    test_config: Mapping[str, Any] | None = None, *, settings: Settings | None = None
) -> Flask:
    """Create the web app: defaults, then FEEDSVC_* environment variables, then `test_config`
    (or exactly the `settings` given)."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    from feedsvc import web
    from feedsvc.web.edge import AccessLog, HttpEdge, ResponseCache

    if settings is None:
        settings = load_settings(os.environ, test_config)
    from feedsvc.documents.icons import icons_for

    icons_for(settings)  # drawn once per process, now: an unusable icon file stops the start
    app = web.SiteFlask("feedsvc", static_folder=None, template_folder="web/templates")
    app.config["FEEDSVC"] = settings
    web.init_app(app)
    served = read_state(settings.runtime, CATALOG) or {}
    watch = CatalogWatch(settings.database, eager=True, catalog_id=served.get("catalog_id"))
    app.extensions["feedsvc.catalog"] = watch

    def generation() -> int | None:
        try:
            return watch.generation()
        except CatalogError:
            return None  # nothing is cached; the app answers 503 with the reason

    edge = HttpEdge(
        app.wsgi_app,
        generation,
        ResponseCache(settings.cache_mb * 1024 * 1024),
        check_interval=settings.state_check_ms / 1000,
        access_log=AccessLog(sys.stdout) if settings.access_log else None,
    )
    app.extensions["feedsvc.edge"] = edge
    app.wsgi_app = edge  # type: ignore[method-assign]
    if settings.trust_proxy:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1
        )
    return app
