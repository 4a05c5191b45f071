"""The comparison apps, served by the same granian settings as feedsvc.

- hello_app: a hello-world Flask app, the server's own ceiling for a Flask view;
- naive_app: what most tutorials do, Flask building the feed with feedgen on every request
  (the same records and the same builder as feedsvc's /feeds/atom.xml, without any cache);
- ceiling_app: a bare WSGI callable replaying feedsvc's own answers, the most feedsvc could
  reach on granian.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flask import Flask, Response

from feedsvc.catalog import open_catalog
from feedsvc.config.settings import load_settings
from feedsvc.documents.scopes import Publication, Scope


def hello_app() -> Flask:
    """Return a Flask app answering 'Hello, World!'."""
    app = Flask(__name__)

    @app.get("/")
    def hello() -> str:
        return "Hello, World!"

    return app


def naive_app() -> Flask:
    """Return a Flask app that queries the catalog and runs feedgen on every request."""
    from feedsvc.documents.feeds import ATOM

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


def ceiling_app() -> Callable[..., Iterable[bytes]]:
    """Return a bare WSGI callable answering each request with the bytes and headers feedsvc
    answered it with the first time: the least any Python app can do per request on granian,
    so its figures are the ceiling of feedsvc's own (no access log, no checks at all)."""
    from feedsvc.service.server import create_server

    server = create_server()
    answers: dict[tuple[Any, ...], tuple[str, list[tuple[str, str]], bytes]] = {}

    def ceiling(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        key = (
            environ["REQUEST_METHOD"],
            environ["PATH_INFO"],
            environ.get("HTTP_ACCEPT_ENCODING"),
            environ.get("HTTP_IF_NONE_MATCH"),
        )
        found = answers.get(key)
        if found is None:
            seen: list[tuple[str, list[tuple[str, str]]]] = []

            def record(status: str, headers: list[tuple[str, str]], *_: Any) -> Any:
                seen.append((status, headers))
                return None

            body = b"".join(server(environ, record))
            found = answers[key] = (seen[0][0], seen[0][1], body)
        start_response(found[0], found[1])
        return [found[2]]

    return ceiling
