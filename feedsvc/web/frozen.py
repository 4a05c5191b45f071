"""The app as the static export asks it: a path in, what the server would answer out.

The export never imports Flask: it holds a `WebApp` and asks here, so each file it writes is
the body the served app sends, through the same HTTP edge (one rendering path).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask
from werkzeug.datastructures import Headers

from feedsvc.config.settings import Settings
from feedsvc.web.context import EXPORT_REQUEST

WebApp = Flask  # what the export holds: only this package knows it is a Flask app


@dataclass(frozen=True, slots=True)
class Answer:
    """One response, as the export writes it."""

    status_code: int
    status: str  # "404 NOT FOUND"
    body: bytes
    media_type: str
    content_type: str  # with its charset
    headers: tuple[tuple[str, str], ...]  # those asked for, in the order asked


def settings_of(app: WebApp) -> Settings:
    """Return the settings the app was made with."""
    settings: Settings = app.config["FEEDSVC"]
    return settings


def app_for(settings: Settings) -> WebApp:
    """Return a new app over these settings (an export worker process makes its own)."""
    from feedsvc.web.app import create_app

    return create_app(settings=settings)


class Client:
    """Requests paths from one app, one after another, as a WSGI server would: the app and its
    HTTP edge answer exactly as they answer a server (a test client's request and response
    objects cost as much as rendering an oEmbed document, once per exported file)."""

    def __init__(self, app: WebApp) -> None:
        self._app = app
        self._base: dict[str, Any] = {
            "REQUEST_METHOD": "GET",
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "localhost",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": "feedsvc-export",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            EXPORT_REQUEST: "1",
        }

    def get(self, path: str, headers: Sequence[str] = ()) -> Answer:
        """Return the app's answer to GET `path`, with the named response headers it has."""
        raw, _, query = path.partition("?")
        environ = {
            **self._base,
            # PEP 3333: the path percent-decoded, its bytes as latin-1 characters.
            "PATH_INFO": unquote_to_bytes(raw).decode("latin-1"),
            "QUERY_STRING": query,
            "REQUEST_URI": path,
            "RAW_URI": path,
            "wsgi.input": io.BytesIO(),
        }
        started: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(
            status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            started.append((status, response_headers))
            return _no_write

        result = self._app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, header_list = started[-1]
        found = Headers(header_list)
        content_type = found.get("Content-Type", "")
        return Answer(
            int(status.split(" ", 1)[0]),
            status,
            body,
            content_type.split(";", 1)[0].strip().lower(),
            content_type,
            tuple((name, found[name]) for name in headers if name in found),
        )


def _no_write(_data: bytes) -> object:
    raise RuntimeError("the export's requests take the body from the returned iterable")


def redirect_page(app: WebApp, target: str) -> bytes:
    """Return the page a static host serves for an old slug: it redirects to `target`."""
    return app.jinja_env.get_template("redirect.html").render(target=target).encode("utf-8")


def moved(app: WebApp, old: str, new: str) -> Answer:
    """Return what a static host serves at `old`, which answers 301 to `new` on the server: a
    page that redirects for a page (a folder path), else the app's answer for `new` itself (an
    oEmbed consumer reads JSON or XML, never a page that redirects)."""
    if not old.endswith("/"):
        return Client(app).get(new)
    html = "text/html; charset=utf-8"
    body = redirect_page(app, settings_of(app).site.url + new)
    return Answer(200, "200 OK", body, "text/html", html, ())
