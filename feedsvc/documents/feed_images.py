"""Each feed entry's image, in the places readers look for it (feeds.py calls in here).

- RSS: `<enclosure url length type>` (feedgen's own; RSS requires the length in bytes).
- Atom: `<link rel="enclosure" href type length>`, written here: feedgen 1.0 drops `rel` and
  `type` of entry links (feedgen issue 135). Written without a namespace, as feedgen writes
  every Atom element, so it lands in the document's default (Atom) namespace, no prefix.
- Both: Media RSS `media:content` (url, medium="image", type, width, height, fileSize) and
  `media:thumbnail` (url, width, height: the image's right-sized thumbnail, else the image
  itself; the enclosure and `media:content` are always the original), directly in the entry
  (no `media:group`), the namespace declared once on the root (the extension's `extend_ns`).
- JSON Feed: `image` and `banner_image`, and the image as an attachment too (RSS's
  enclosure: readers such as `reader` take attachments for enclosures and ignore `image`).
"""

from __future__ import annotations

from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

from feedsvc.documents.entry_images import EntryImage

MEDIA_NS = "http://search.yahoo.com/mrss/"
NAME = "images"  # the extension's name on a FeedGenerator and its entries


class ImagesExtension(BaseExtension):  # type: ignore[misc]
    """Declare the Media RSS namespace on the feed's root."""

    def extend_ns(self) -> dict[str, str]:
        return {"media": MEDIA_NS}


class ImageEntryExtension(BaseEntryExtension):  # type: ignore[misc]
    """Write one entry's image: the Atom enclosure link and the Media RSS elements."""

    image: EntryImage | None = None

    def _media(self, entry: Any) -> Any:
        image = self.image
        if image is None:
            return entry
        width, height = str(image.width), str(image.height)
        etree.SubElement(
            entry,
            f"{{{MEDIA_NS}}}content",
            url=image.url,
            medium="image",
            type=image.media_type,
            fileSize=str(image.length),
            width=width,
            height=height,
        )
        # A small copy when one was drawn: readers show thumbnails in lists, never 5 MB.
        small = image.thumbnail
        if small is not None:
            url, width, height = small.url, str(small.width), str(small.height)
        else:
            url = image.url
        etree.SubElement(entry, f"{{{MEDIA_NS}}}thumbnail", url=url, width=width, height=height)
        return entry

    def extend_atom(self, entry: Any) -> Any:
        if self.image is not None:
            etree.SubElement(
                entry,
                "link",
                rel="enclosure",
                href=self.image.url,
                type=self.image.media_type,
                length=str(self.image.length),
            )
        return self._media(entry)

    def extend_rss(self, item: Any) -> Any:
        return self._media(item)


def _measured(image: EntryImage) -> int:
    """Return an image's length: feeds state it, so their images are always measured."""
    if image.length is None:
        raise ValueError(f"{image.url}: a feed's image must be measured (entry_image measure=True)")
    return image.length


def set_image(fe: Any, image: EntryImage | None, *, rss: bool) -> None:
    """Give a feedgen entry its image (RSS: its enclosure too)."""
    if image is None:
        return
    _measured(image)
    getattr(fe, NAME).image = image
    if rss:
        fe.enclosure(image.url, str(image.length), image.media_type)


def json_fields(image: EntryImage | None) -> dict[str, Any]:
    """Return a JSON Feed item's `image`, `banner_image` (the same picture: a preview card or
    the article's own image) and `attachments` (that image, with its type and size)."""
    if image is None:
        return {}
    size = _measured(image)
    attachment = {"url": image.url, "mime_type": image.media_type, "size_in_bytes": size}
    return {"image": image.url, "banner_image": image.url, "attachments": [attachment]}
