"""The app as the static export asks it: a path in, what the server would answer out.

The export never imports Flask: it holds a `WebApp` and asks here, so each file it writes is
the body the served app sends, through the same HTTP edge (one rendering path).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import Flask

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
    """Requests paths from one app, one after another."""

    def __init__(self, app: WebApp) -> None:
        self._client = app.test_client()
        self._client.environ_base[EXPORT_REQUEST] = "1"

    def get(self, path: str, headers: Sequence[str] = ()) -> Answer:
        """Return the app's answer to GET `path`, with the named response headers it has."""
        with self._client.get(path) as response:
            return Answer(
                response.status_code,
                response.status,
                response.get_data(),
                response.mimetype or "",
                response.content_type or "",
                tuple(
                    (name, response.headers[name]) for name in headers if name in response.headers
                ),
            )


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
