"""The Flask edge: HTML pages and feed documents over HTTP. Only this package imports Flask."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Request, Response, current_app, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed
from werkzeug.routing import MapAdapter

from feedsvc import urlmap
from feedsvc.documents import headers
from feedsvc.errors import CatalogError, NotFound
from feedsvc.health import note_server_error
from feedsvc.web import (
    assets,
    context,
    embeds,
    fediverse_tags,
    health,
    icons,
    images,
    pages,
    record,
    subscribe,
    syndication,
)

# Paths of machine-readable documents: their errors are plain text, not HTML pages.
_DOCUMENT_SUFFIXES = (".xml", ".json", ".opml", ".txt", ".css", ".png", ".jpg", ".webp")


class SiteFlask(Flask):
    """A Flask app whose own absolute URLs (slash redirects, `url_for(_external=True)`) start
    with the site URL, never with the request's Host, scheme or script name."""

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        """Bind the URL map to the site URL; the request gives only method, path and query."""
        site = urlsplit(self.config["FEEDSVC"].site.url)
        # Flask's own binding keeps its checks (TRUSTED_HOSTS, malformed Host: 400) and decodes
        # the path and query as Werkzeug does; then only the routing inputs are taken from it.
        bound = super().create_url_adapter(request) if request is not None else None
        return self.url_map.bind(
            site.netloc,
            script_name=site.path or "/",
            url_scheme=site.scheme,
            default_method=bound.default_method if bound else "GET",
            path_info=bound.path_info if bound else None,
            query_args=bound.query_args if bound else None,
        )


def _error(code: int, title: str, message: str) -> Response:
    if request.path.endswith(_DOCUMENT_SUFFIXES) or request.path == urlmap.OEMBED:
        response = Response(f"{code} {title}: {message}\n", status=code, mimetype="text/plain")
    else:
        try:
            body = render_template(
                "error.html", code=code, title=title, message=message, **context.page_context()
            )
        except Exception:
            body = f"<!doctype html><title>{code} {title}</title><h1>{title}</h1>"
        response = Response(body, status=code, mimetype="text/html")
    response.headers["Cache-Control"] = context.cache_control(headers.error_kind(code))
    return response


def _not_found(exc: NotFound) -> Response:
    return _error(404, "Not found", f"There is no {exc.what} here.")


def _http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    if code in (400, 405):
        # request.remote_addr is the client's own address only behind a trusted proxy
        # (FEEDSVC_TRUST_PROXY); otherwise it is the peer's.
        current_app.logger.info(
            "%s %s %s from %s", code, request.method, request.path[:200], request.remote_addr
        )
    if code == 410:
        return _error(410, "Gone", "This article has been withdrawn.")
    if code == 404:
        return _error(404, "Not found", "There is nothing at this address.")
    response = _error(code, exc.name, exc.description or exc.name)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def _catalog_error(exc: CatalogError) -> Response:
    current_app.logger.error("%s", exc)
    return _error(503, "Service unavailable", "The catalog cannot be read right now.")


def _internal_error(exc: InternalServerError) -> Response:
    current_app.logger.error("internal error", exc_info=exc.original_exception)
    note_server_error(context.settings().runtime, 500, request.path)  # shows in /healthz
    return _error(500, "Internal error", "Something went wrong on our side.")


def _security_headers(response: Response) -> Response:
    """Give HTML a strict policy (no script at all, styles and images from the site only) unless
    it brings its own, and every response what feedsvc/documents/headers.py sends everywhere."""
    if response.mimetype == "text/html" and "Content-Security-Policy" not in response.headers:
        for name, value in headers.html_security(context.settings().site.origin):
            response.headers[name] = value
    for name, value in headers.EVERY_RESPONSE:
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Register the routes and map every error to a response, once."""
    app.register_blueprint(pages.bp)
    app.register_blueprint(syndication.bp)
    app.register_blueprint(subscribe.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(assets.bp)
    app.register_blueprint(icons.bp)
    app.register_blueprint(images.bp)
    app.register_blueprint(embeds.bp)
    app.register_blueprint(fediverse_tags.bp)
    app.register_blueprint(record.bp)
    if app.config["FEEDSVC"].fediverse:  # its endpoints, and the cryptography they load
        from feedsvc.web import fediverse

        app.register_blueprint(fediverse.bp)
    app.register_error_handler(NotFound, _not_found)
    app.register_error_handler(InternalServerError, _internal_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CatalogError, _catalog_error)
    app.after_request(_security_headers)
