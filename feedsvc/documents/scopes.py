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
from feedsvc.catalog.member_queries import Member
from feedsvc.catalog.members import KINDS
from feedsvc.config.settings import Settings
from feedsvc.documents.entry_images import entry_image
from feedsvc.documents.feed_info import FeedInfo
from feedsvc.documents.feeds import FeedFormat
from feedsvc.documents.icons import LARGE, SMALL, icons_for
from feedsvc.errors import NotFound

PREVIEW_SIZE = 10  # the newest articles a subscribe page shows


@dataclass(frozen=True, slots=True)
class Scope:
    """The whole site (`section` is None), or one section, tag or author (`kind`, with
    `section` its name, slug, count and newest update): a page with feeds beside it."""

    section: Section | None = None
    kind: str = "section"  # or "tag", "author"

    @property
    def slug(self) -> str | None:
        """Return the section's (tag's, author's) slug, or None for the whole site."""
        return self.section.slug if self.section else None

    @property
    def member(self) -> Member | None:
        """Return (kind, slug) for a tag's or an author's scope, else None."""
        return (self.kind, self.section.slug) if self.section and self.kind != "section" else None

    @property
    def section_slug(self) -> str | None:
        """Return the section's slug for a section's scope, else None."""
        return self.section.slug if self.section and self.kind == "section" else None

    @property
    def label(self) -> str | None:
        """Return what the scope is called after the site's title (None for the site)."""
        if self.section is None:
            return None
        return f"by {self.section.name}" if self.kind == "author" else self.section.name

    @property
    def page_path(self) -> str:
        """Return the path of the scope's HTML page."""
        return urlmap.listing(self.slug, kind=self.kind)

    def feed_path(self, fmt: FeedFormat, block: int | None = None) -> str:
        """Return the path of the subscription feed, or of archive block `block`."""
        return urlmap.feed(self.slug, fmt.filename, block, kind=self.kind)


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

    def member_scope(self, kind: str, slug: str) -> Scope:
        """Return the scope of one tag or author (NotFound if it has no article)."""
        return Scope(self.catalog.member(kind, slug), kind)

    def scopes(self) -> list[Scope]:
        """Return the whole site, every section by name, then every tag and every author by
        name."""
        found = [Scope(), *(Scope(section) for section in self.catalog.sections())]
        for kind in KINDS:
            found.extend(Scope(group, kind) for group in self.catalog.members(kind))
        return found

    def preview(self, scope: Scope) -> list[Record]:
        """Return the newest records of a scope, as its subscribe page shows them."""
        return self.catalog.latest(
            PREVIEW_SIZE, section_slug=scope.section_slug, member=scope.member
        )

    def archive_blocks(self, scope: Scope) -> int:
        """Return how many archive blocks the scope has (numbered 1.., oldest first).

        Block k holds the articles ranked (k-1)*N+1 .. k*N in first-ingest order, removed ones
        keeping their places, so a full block never changes. Only the newest block may be
        partial. While every article fits in the subscription feed there are no archives.
        """
        return urlmap.archive_blocks(self.slots(scope), self.settings.feed_size)

    def slots(self, scope: Scope) -> int:
        """Return how many places the scope has used (list pages and archives are cut along
        them)."""
        return self.catalog.slots(section_slug=scope.section_slug, member=scope.member)

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
            records = self.catalog.latest(
                size, section_slug=scope.section_slug, member=scope.member
            )
            tombstones = self.catalog.tombstones(
                section_slug=scope.section_slug, member=scope.member
            )
            links = {"prev_archive_url": scope.feed_path(fmt, blocks) if blocks else None}
        elif 1 <= block <= blocks:
            first, last = urlmap.block_places(block, size)
            records = self.catalog.block(
                first, last, section_slug=scope.section_slug, member=scope.member
            )
            links = {
                "current_url": scope.feed_path(fmt),
                "prev_archive_url": scope.feed_path(fmt, block - 1) if block > 1 else None,
                "next_archive_url": scope.feed_path(fmt, block + 1) if block < blocks else None,
            }
        else:
            raise NotFound("archive block", str(block))
        label = scope.label
        icons = icons_for(self.settings)
        info = FeedInfo(
            id=feed_id(self.catalog.identity(), scope.slug, kind=scope.kind),
            title=f"{site.title}: {label}" if label else site.title,
            subtitle=f"{label} — {site.description}" if label else site.description,
            self_url=site.absolute(scope.feed_path(fmt, block)),
            page_url=site.absolute(scope.page_path),
            updated=self._updated(records, tombstones),
            site=site,
            subscribe_url=site.absolute(urlmap.subscribe(scope.page_path)),
            archive=block is not None,
            hub_url=self.settings.websub_hub,
            tombstones=tuple(tombstones),
            icon_url=icons.url(site.url, f"icon-{SMALL}.png"),
            icon_size=SMALL,
            logo_url=icons.url(site.url, f"icon-{LARGE}.png"),
            images={record.key: entry_image(record, self.settings) for record in records},
            **{name: site.absolute(path) if path else None for name, path in links.items()},
        )
        full = block is not None and block * size <= self.slots(scope)
        return Document(info, records, immutable=full)
