"""List pages: a scope's articles in fixed blocks of places, the newest blocks on its front page.

Block n holds the articles at places (n-1)*size+1 .. n*size of the scope: the places the RFC
5005 archives are cut along (first-ingest order; a withdrawn article leaves a hole, it never
shifts the others). So a new article changes the scope's front page and, when the front page
lets go of a block, the page that block gets and the one before it; an edit or a withdrawal
changes the one page that holds the article (and the front page, which shows counts). Pages
numbered newest-first would all shift by one item with every new article.

Framework-free: the web layer renders what `list_page` returns; the static export lists the
same paths and redirects (urlmap.list_paths, urlmap.list_redirects).
"""

from __future__ import annotations

from dataclasses import dataclass

from feedsvc import urlmap
from feedsvc.catalog import Record
from feedsvc.documents.scopes import Publication, Scope
from feedsvc.errors import NotFound


@dataclass(frozen=True, slots=True)
class ListPage:
    """One list page of a scope: its articles, newest first, and its neighbours."""

    path: str
    number: int | None  # None: the scope's front page
    records: list[Record]
    newer: str | None  # rel="prev"
    older: str | None  # rel="next"

    @property
    def front(self) -> bool:
        """Return whether this is the scope's front page."""
        return self.number is None


@dataclass(frozen=True, slots=True)
class Moved:
    """A page number whose block the front page shows now: it answers 301 to `path`."""

    path: str


def list_page(
    publication: Publication, scope: Scope, number: int | None = None
) -> ListPage | Moved:
    """Return the front page (`number` None) or page `number` of a scope, or where a page
    number whose block is on the front page moved; raise NotFound for any other number."""
    size = publication.settings.page_size
    slots = publication.slots(scope)
    front = urlmap.front_block(slots, size)
    blocks = max(1, urlmap.list_blocks(slots, size))

    def path(n: int | None) -> str:
        return scope.page_path if n is None else urlmap.listing(scope.slug, n, kind=scope.kind)

    catalog, member, section_slug = publication.catalog, scope.member, scope.section_slug
    if number is None:
        first, _last = urlmap.block_places(front, size)
        records = catalog.block(first, max(slots, first), section_slug=section_slug, member=member)
        return ListPage(path(None), None, records, None, path(front - 1) if front > 1 else None)
    if not 1 <= number <= blocks:
        raise NotFound("page", str(number))
    if number >= front:
        return Moved(path(None))
    first, last = urlmap.block_places(number, size)
    records = catalog.block(first, last, section_slug=section_slug, member=member)
    newer = path(None if number + 1 == front else number + 1)
    return ListPage(path(number), number, records, newer, path(number - 1) if number > 1 else None)
