"""The comparison apps, served by the same granian settings as feedsvc.

- hello_app: a hello-world Flask app, the server's own ceiling for a Flask view;
- naive_app: what most tutorials do, Flask building the feed with feedgen on every request
  (the same records and the same builder as feedsvc's /feeds/atom.xml, without any cache).
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

from feedsvc.catalog import open_catalog
from feedsvc.config import load_settings
from feedsvc.publication import Publication, Scope


def hello_app() -> Flask:
    """Return a Flask app answering 'Hello, World!'."""
    app = Flask(__name__)

    @app.get("/")
    def hello() -> str:
        return "Hello, World!"

    return app


def naive_app() -> Flask:
    """Return a Flask app that queries the catalog and runs feedgen on every request."""
    from feedsvc.feeds import ATOM

    app = Flask(__name__)
    settings = load_settings(os.environ)

    @app.get("/feeds/atom.xml")
    def feed() -> Response:
        catalog = open_catalog(Path(settings.database), readonly=True)
        try:
            document = Publication(catalog, settings).feed(Scope(), ATOM)
            body = ATOM.build(document.info, document.records)
        finally:
            catalog.close()
        return Response(body, mimetype=ATOM.media_type)

    return app
