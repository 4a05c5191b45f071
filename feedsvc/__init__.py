"""feedsvc: publish a folder of plain-text articles as feeds and HTML permalinks."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from feedsvc.config import load_settings

__all__ = ["create_app"]


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the web app: defaults, then FEEDSVC_* environment variables, then `test_config`."""
    from feedsvc import web

    settings = load_settings(os.environ, test_config)
    app = Flask(__name__)
    app.config["FEEDSVC"] = settings
    app.json.sort_keys = False  # type: ignore[attr-defined]
    web.init_app(app)
    return app
