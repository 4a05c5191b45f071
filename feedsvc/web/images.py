"""Articles' own images: fingerprinted and immutable under /images/, while an article that is
published shows them."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response

from feedsvc.catalog.images import live_image
from feedsvc.errors import NotFound
from feedsvc.images import MEDIA_TYPES, matches, store_dir, stored
from feedsvc.urlmap import RULES
from feedsvc.web.context import catalog, finish, settings

bp = Blueprint("images", __name__)


def _source(name: str, source: str) -> bytes | None:
    """Return the image's bytes from the articles folder when they are still the ones the
    name was made from (a catalog copied without its image store)."""
    path = settings().seeds_dir / source
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data if matches(data, name) else None


@bp.get(RULES["image"])
def image(name: str) -> Response:
    """Serve one article image by its fingerprinted name (immutable)."""
    found = live_image(catalog(), name)
    if found is None:
        raise NotFound("image", name)
    body = stored(store_dir(settings().database), name) or _source(name, found.source)
    if body is None:
        raise NotFound("image", name)
    response = Response(body, mimetype=MEDIA_TYPES[Path(name).suffix])
    return finish(response, "immutable")
