"""Static assets served under fingerprinted names, cacheable for a year."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, abort
from werkzeug.security import safe_join

from feedsvc.config import Site

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
_FINGERPRINTED = re.compile(r"^(?P<stem>[\w.-]+)\.(?P<digest>[0-9a-f]{12})(?P<ext>\.\w+)$")
_MEDIA_TYPES = {
    ".css": "text/css",
    ".xsl": "application/xslt+xml",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}

bp = Blueprint("assets", __name__)


@lru_cache(maxsize=64)
def _read(name: str) -> tuple[bytes, str] | None:
    joined = safe_join(str(STATIC_DIR), name)
    if joined is None or not Path(joined).is_file():
        return None
    body = Path(joined).read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:12]


def asset_url(site: Site, name: str) -> str:
    """Return the absolute, fingerprinted URL of a bundled asset."""
    found = _read(name)
    if found is None:
        raise LookupError(f"no bundled asset {name!r}")
    stem, dot, ext = name.rpartition(".")
    return site.absolute(f"/static/{stem}.{found[1]}{dot}{ext}")


@bp.get("/static/<path:name>")
def asset(name: str) -> Response:
    """Serve a bundled asset; a fingerprinted name is immutable, a plain one lives an hour."""
    from feedsvc.web.context import finish

    match = _FINGERPRINTED.match(name)
    plain = match["stem"] + match["ext"] if match else name
    found = _read(plain)
    if found is None or (match is not None and found[1] != match["digest"]):
        abort(404)
    media_type = _MEDIA_TYPES.get(Path(plain).suffix, "application/octet-stream")
    return finish(Response(found[0], mimetype=media_type), "immutable" if match else "asset")
