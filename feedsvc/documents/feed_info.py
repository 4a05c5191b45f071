"""What one feed document is (FeedInfo), and the text every format writes alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import escape

from feedsvc.catalog import Record, Tombstone
from feedsvc.config.settings import Site
from feedsvc.documents.entry_images import EntryImage


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """What one feed document is: identity, title, links (all in its own format) and time."""

    id: str
    title: str
    subtitle: str
    self_url: str
    page_url: str
    updated: datetime
    site: Site
    subscribe_url: str | None = None  # the scope's subscribe page, named for people (reader_note)
    archive: bool = False  # an RFC 5005 archive document (fh:archive)
    current_url: str | None = None  # archive documents: the subscription feed
    prev_archive_url: str | None = None  # the next older archive document
    next_archive_url: str | None = None  # the next newer archive document
    hub_url: str | None = None  # a WebSub hub that readers may subscribe through
    tombstones: tuple[Tombstone, ...] = ()  # withdrawn articles (RFC 6721; Atom only)
    icon_url: str | None = None  # a small square icon (Atom icon, RSS image, JSON favicon)
    icon_size: int = 64  # its width and height (RSS allows at most 144)
    logo_url: str | None = None  # a large square icon (Atom logo, JSON Feed icon)
    # Each entry's image by record key (feed_images.py writes it in every format).
    images: Mapping[str, EntryImage] = field(default_factory=dict)

    def history_links(self) -> list[tuple[str, str]]:
        """Return the RFC 5005 links as (rel, href) pairs."""
        links = [
            ("current", self.current_url),
            ("prev-archive", self.prev_archive_url),
            ("next-archive", self.next_archive_url),
        ]
        return [(rel, href) for rel, href in links if href]


def content_html(record: Record, image: EntryImage | None = None) -> str:
    """Return the article body as HTML: one <p> of escaped text per paragraph, after the
    article's own image (readers such as NetNewsWire show the content's first image; the
    preview card, which repeats the title, is never put in the text)."""
    # escape() is markupsafe's C escaper; the f-string keeps its (already escaped) text as is.
    body = "\n".join(f"<p>{escape(text)}</p>" for text in record.paragraphs)
    if image is None or image.card:
        return body
    figure = (
        f'<figure><img src="{escape(image.url)}" alt="{escape(image.alt)}" '
        f'width="{image.width}" height="{image.height}"></figure>'
    )
    return f"{figure}\n{body}"


def rfc3339(moment: datetime) -> str:
    """Return an aware datetime as RFC 3339 text, the way Atom writes it."""
    return moment.isoformat()


def reader_note(subscribe_url: str) -> str:
    """Return what a feed says to a person who opens it in a browser (which shows Atom and RSS
    as raw text): an XML comment at the top, JSON Feed's `user_comment`."""
    return (
        "This is a web feed. To follow it, paste this address into a feed reader, or open "
        f"{subscribe_url} for one-click links to popular readers and a preview."
    )
