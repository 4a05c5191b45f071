"""The publication's icons: fingerprinted and immutable under /icons/, plus the two names
browsers and devices ask for without being told (/favicon.ico, /apple-touch-icon.png)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort

from feedsvc.documents.icons import MEDIA_TYPES, TOUCH, icons_for
from feedsvc.urlmap import RULES
from feedsvc.web.context import finish, settings

bp = Blueprint("icons", __name__)


@bp.get(RULES["icon"])
def icon(name: str) -> Response:
    """Serve one icon by its fingerprinted name (immutable)."""
    body = icons_for(settings()).files.get(name)
    if body is None:
        abort(404)
    return finish(Response(body, mimetype=MEDIA_TYPES[Path(name).suffix]), "immutable")


@bp.get(RULES["favicon"])
def favicon() -> Response:
    """Serve favicon.ico (32 and 64 pixels); a plain name lives an hour."""
    return finish(Response(icons_for(settings()).favicon, mimetype=MEDIA_TYPES[".ico"]), "asset")


@bp.get(RULES["apple_touch_icon"])
def apple_touch_icon() -> Response:
    """Serve the 180-pixel icon iOS asks for; a plain name lives an hour."""
    icons = icons_for(settings())
    body = icons.files[icons.png_name(TOUCH)]
    return finish(Response(body, mimetype=MEDIA_TYPES[".png"]), "asset")
