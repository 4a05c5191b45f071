"""GET /healthz: whether publishing works, for load balancers and monitoring (never cached,
never exported)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app

from feedsvc.catalog import CatalogWatch
from feedsvc.health import health
from feedsvc.urlmap import RULES
from feedsvc.web.context import cache_control, settings

bp = Blueprint("health", __name__)


@bp.get(RULES["health"])
def healthz() -> Response:
    """Answer 200 while publishing works, 503 when it stopped or fell behind; JSON either way."""
    watch: CatalogWatch = current_app.extensions["feedsvc.catalog"]
    document = health(settings(), watch.state())
    response = Response(
        json.dumps(document, indent=2) + "\n",
        status=200 if document["status"] == "ok" else 503,
        mimetype="application/json",
    )
    response.headers["Cache-Control"] = cache_control("no-store")
    return response
