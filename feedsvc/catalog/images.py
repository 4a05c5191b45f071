"""The catalog's questions about articles' own images (the image URL and the export ask)."""

from __future__ import annotations

import functools

from feedsvc.articles.derivatives import derivatives
from feedsvc.articles.images import PUBLISHED, store_dir, stored
from feedsvc.articles.text_format import ArticleImage
from feedsvc.catalog.reader import Catalog
from feedsvc.catalog.records import image_from_columns


def live_image(catalog: Catalog, name: str) -> ArticleImage | None:
    """Return the image a live article shows under the fingerprinted `name`, or None (a
    withdrawn article's image is no longer served)."""
    with catalog.errors():
        row = catalog.connection.execute(
            "SELECT image, image_info FROM articles WHERE image = ? AND removed IS NULL "
            "ORDER BY key LIMIT 1",
            (name,),
        ).fetchone()
    return None if row is None else image_from_columns(row[0], row[1])


def live_image_of_stem(catalog: Catalog, stem: str) -> ArticleImage | None:
    """Return the live image whose fingerprinted name starts with the digest `stem` (what a
    derivative's name names), or None."""
    for ext, _media_type in sorted(PUBLISHED.values()):
        found = live_image(catalog, f"{stem}.{ext}")
        if found is not None:
            return found
    return None


def live_image_names(catalog: Catalog) -> list[str]:
    """Return the fingerprinted names of every live article's image and of its right-sized
    copies (kept beside the catalog; drawn now when they were not), sorted, once each."""
    with catalog.errors():
        rows = catalog.connection.execute(
            "SELECT DISTINCT image FROM articles WHERE image IS NOT NULL AND removed IS NULL "
            "ORDER BY image"
        ).fetchall()
    return sorted({copy for (name,) in rows for copy in image_files(catalog, name)})


def image_files(catalog: Catalog, name: str) -> tuple[str, ...]:
    """Return the fingerprinted names published of one image: the original and its right-sized
    copies (kept beside the catalog; drawn now when they were not). Each is named by what its
    bytes are made of, so a name is also the digest of its bytes."""
    store = store_dir(catalog.path)
    found = derivatives(store, name, functools.partial(stored, store, name))
    return (name, *(found.names if found else ()))
