"""The Flask edge: HTML pages and feed documents over HTTP. Only this package imports Flask."""

from __future__ import annotations

from flask import Flask, Response, current_app, render_template
from werkzeug.exceptions import HTTPException

from feedsvc.errors import CatalogError, NotFound
from feedsvc.web import context, pages, syndication


def _error_page(code: int, title: str, message: str) -> Response:
    body = render_template(
        "error.html", code=code, title=title, message=message, **context.page_context()
    )
    return Response(body, status=code, mimetype="text/html")


def _not_found(exc: NotFound) -> Response:
    return _error_page(404, "Not found", f"There is no {exc.what} here.")


def _http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    if code == 410:
        return _error_page(410, "Gone", "This article has been withdrawn.")
    return _error_page(code, exc.name, exc.description or exc.name)


def _catalog_error(exc: CatalogError) -> Response:
    current_app.logger.error("%s", exc)
    return _error_page(503, "Service unavailable", "The catalog cannot be read right now.")


def init_app(app: Flask) -> None:
    """Register the routes and map every error to a response, once."""
    app.register_blueprint(pages.bp)
    app.register_blueprint(syndication.bp)
    app.teardown_appcontext(context.close_catalog)
    app.register_error_handler(NotFound, _not_found)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CatalogError, _catalog_error)
