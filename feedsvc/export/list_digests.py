"""What each list page of a scope is made from (feedsvc.export.fingerprints digests it).

List pages are fixed blocks of places (feedsvc.documents.listing): a page's parts name only its
own block's teasers and whether its newer neighbour is the front page, so a new article
changes the parts of the front page and of at most two numbered pages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from feedsvc import urlmap


def list_parts(
    kind: str,
    slug: str | None,
    name: str | None,
    front_extra: object,
    teasers: Iterable[tuple[int, str]],
    slots: int,
    page_size: int,
) -> Iterator[tuple[str, tuple[object, ...]]]:
    """Yield (path, parts) of a scope's front page, numbered pages and page numbers that
    redirect to the front page.

    `teasers` are (place, teaser digest) of its live articles, newest first; `front_extra` is
    what only the front page shows (the site's sections with their counts, a scope's count).
    """
    front = urlmap.front_block(slots, page_size)
    blocks: dict[int, list[str]] = defaultdict(list)  # block -> teasers, newest first
    for place, teaser in teasers:
        blocks[min(front, (place - 1) // page_size + 1)].append(teaser)
    yield urlmap.listing(slug, kind=kind), ("front", name, front_extra, front, blocks[front])
    for number in range(1, front):  # its number, name and links (is the newer one the front?)
        parts = (number, number + 1 == front, name, blocks.get(number, []))
        yield urlmap.listing(slug, number, kind=kind), parts
    for old, new in urlmap.list_redirects(urlmap.ScopeCounts(slug, 0, slots, kind), page_size):
        yield old, ("redirect", new)
