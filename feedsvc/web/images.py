"""Articles' own images and their right-sized copies: fingerprinted and immutable under
/images/, while an article that is published shows them."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response

from feedsvc.articles.derivatives import derivative_bytes, original_stem
from feedsvc.articles.images import MEDIA_TYPES, recover, store_dir, stored
from feedsvc.catalog.images import live_image, live_image_of_stem
from feedsvc.errors import NotFound
from feedsvc.urlmap import RULES
from feedsvc.web.context import catalog, finish, settings

bp = Blueprint("images", __name__)


@bp.get(RULES["image"])
def image(name: str) -> Response:
    """Serve one article image, or a copy drawn of it, by its fingerprinted name (immutable)."""
    stem = original_stem(name)
    found = live_image(catalog(), name) if stem is None else live_image_of_stem(catalog(), stem)
    if found is None:
        raise NotFound("image", name)
    store, seeds_dir = store_dir(settings().database), settings().seeds_dir

    def original() -> bytes | None:
        assert found is not None
        return stored(store, found.name) or recover(store, found.name, seeds_dir, found.source)

    body = original() if stem is None else derivative_bytes(store, name, found.name, original)
    if body is None:
        raise NotFound("image", name)
    response = Response(body, mimetype=MEDIA_TYPES[Path(name).suffix])
    return finish(response, "immutable")
