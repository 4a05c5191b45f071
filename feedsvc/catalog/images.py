"""The catalog's questions about articles' own images (the image URL and the export ask)."""

from __future__ import annotations

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


def live_image_names(catalog: Catalog) -> list[str]:
    """Return the fingerprinted names of every live article's image, sorted, once each."""
    with catalog.errors():
        rows = catalog.connection.execute(
            "SELECT DISTINCT image FROM articles WHERE image IS NOT NULL AND removed IS NULL "
            "ORDER BY image"
        ).fetchall()
    return [row[0] for row in rows]
