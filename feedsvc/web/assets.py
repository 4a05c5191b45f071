"""Static assets served under fingerprinted names, cacheable for a year."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort

from feedsvc.urlmap import RULES
from feedsvc.web.asset_files import FINGERPRINTED, read_asset
from feedsvc.web.context import finish

_MEDIA_TYPES = {
    ".css": "text/css",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}

bp = Blueprint("assets", __name__)


@bp.get(RULES["static"])
def asset(name: str) -> Response:
    """Serve a bundled asset; a fingerprinted name is immutable, a plain one lives an hour."""
    match = FINGERPRINTED.match(name)
    plain = match["stem"] + match["ext"] if match else name
    found = read_asset(plain)
    if found is None or (match is not None and found[1] != match["digest"]):
        abort(404)
    media_type = _MEDIA_TYPES.get(Path(plain).suffix, "application/octet-stream")
    return finish(Response(found[0], mimetype=media_type), "immutable" if match else "asset")
