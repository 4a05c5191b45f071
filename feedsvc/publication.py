"""What is published where: feed scopes, RFC 5005 archive blocks and their paths.

Framework-free: the web layer asks this module which records make a document and how it
links to its neighbours; the static export reads the same list of paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feedsvc import urlmap
from feedsvc.catalog import Catalog, Record, Section, Tombstone
from feedsvc.catalog.identity import feed_id
from feedsvc.config import Settings
from feedsvc.errors import NotFound
from feedsvc.feeds import FeedFormat, FeedInfo
from feedsvc.icons import LARGE, SMALL, icons_for

STYLESHEET_PATH = urlmap.static("feed.xsl")


@dataclass(frozen=True, slots=True)
class Scope:
    """The whole site (`section` is None) or one section: a page with feeds beside it."""

    section: Section | None = None

    @property
    def slug(self) -> str | None:
        """Return the section slug, or None for the whole site."""
        return self.section.slug if self.section else None

    @property
    def page_path(self) -> str:
        """Return the path of the scope's HTML page."""
        return urlmap.listing(self.slug)

    def feed_path(self, fmt: FeedFormat, block: int | None = None) -> str:
        """Return the path of the subscription feed, or of archive block `block`."""
        return urlmap.feed(self.slug, fmt.filename, block)


@dataclass(frozen=True, slots=True)
class Document:
    """One feed document: what it says about itself and its records, newest first."""

    info: FeedInfo
    records: list[Record]
    immutable: bool  # a full archive block: which articles it holds never changes


class Publication:
    """The catalog seen as a set of published documents."""

    def __init__(self, catalog: Catalog, settings: Settings) -> None:
        self.catalog = catalog
        self.settings = settings

    def scope(self, section_slug: str | None = None) -> Scope:
        """Return the scope of the whole site or of one section (NotFound if it has none)."""
        if section_slug is None:
            return Scope()
        return Scope(self.catalog.section(section_slug))

    def scopes(self) -> list[Scope]:
        """Return the whole site, then every section by name."""
        return [Scope(), *(Scope(section) for section in self.catalog.sections())]

    def archive_blocks(self, scope: Scope) -> int:
        """Return how many archive blocks the scope has (numbered 1.., oldest first).

        Block k holds the articles ranked (k-1)*N+1 .. k*N in first-ingest order, removed ones
        keeping their places, so a full block never changes. Only the newest block may be
        partial. While every article fits in the subscription feed there are no archives.
        """
        return urlmap.archive_blocks(
            self.catalog.slots(section_slug=scope.slug), self.settings.feed_size
        )

    def _updated(self, records: list[Record], tombstones: list[Tombstone]) -> datetime:
        times = [record.updated for record in records] + [t.removed for t in tombstones]
        return max(times, default=None) or self.catalog.changed()

    def feed(self, scope: Scope, fmt: FeedFormat, block: int | None = None) -> Document:
        """Return the subscription feed of `scope`, or its archive block `block`."""
        site = self.settings.site
        size = self.settings.feed_size
        blocks = self.archive_blocks(scope)
        tombstones: list[Tombstone] = []
        if block is None:
            records = self.catalog.latest(size, section_slug=scope.slug)
            tombstones = self.catalog.tombstones(section_slug=scope.slug)
            links = {"prev_archive_url": scope.feed_path(fmt, blocks) if blocks else None}
        elif 1 <= block <= blocks:
            first, last = urlmap.block_places(block, size)
            records = self.catalog.block(first, last, section_slug=scope.slug)
            links = {
                "current_url": scope.feed_path(fmt),
                "prev_archive_url": scope.feed_path(fmt, block - 1) if block > 1 else None,
                "next_archive_url": scope.feed_path(fmt, block + 1) if block < blocks else None,
            }
        else:
            raise NotFound("archive block", str(block))
        section = scope.section
        icons = icons_for(self.settings)
        info = FeedInfo(
            id=feed_id(self.catalog.identity(), scope.slug),
            title=f"{site.title}: {section.name}" if section else site.title,
            subtitle=site.description
            if section is None
            else f"{section.name} — {site.description}",
            self_url=site.absolute(scope.feed_path(fmt, block)),
            page_url=site.absolute(scope.page_path),
            updated=self._updated(records, tombstones),
            site=site,
            stylesheet_url=site.absolute(STYLESHEET_PATH) if fmt.styled else None,
            archive=block is not None,
            hub_url=self.settings.websub_hub,
            tombstones=tuple(tombstones),
            icon_url=icons.url(site.url, f"icon-{SMALL}.png"),
            icon_size=SMALL,
            logo_url=icons.url(site.url, f"icon-{LARGE}.png"),
            **{name: site.absolute(path) if path else None for name, path in links.items()},
        )
        full = block is not None and block * size <= self.catalog.slots(section_slug=scope.slug)
        return Document(info, records, immutable=full)
