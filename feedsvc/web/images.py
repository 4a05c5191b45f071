"""Articles' own images: fingerprinted and immutable under /images/, while an article that is
published shows them."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response

from feedsvc.articles.images import MEDIA_TYPES, recover, store_dir, stored
from feedsvc.catalog.images import live_image
from feedsvc.errors import NotFound
from feedsvc.urlmap import RULES
from feedsvc.web.context import catalog, finish, settings

bp = Blueprint("images", __name__)


@bp.get(RULES["image"])
def image(name: str) -> Response:
    """Serve one article image by its fingerprinted name (immutable)."""
    found = live_image(catalog(), name)
    if found is None:
        raise NotFound("image", name)
    store = store_dir(settings().database)
    body = stored(store, name) or recover(store, name, settings().seeds_dir, found.source)
    if body is None:
        raise NotFound("image", name)
    response = Response(body, mimetype=MEDIA_TYPES[Path(name).suffix])
    return finish(response, "immutable")
