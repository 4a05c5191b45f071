"""What the documents that show one live article read of it, as digests (fingerprints.py
combines them into every path's digest).

A process keeps each article's digests from its last reading, by the row they came from:
the next reading decodes and digests only the rows that changed. The writer publishes one
change at a time in one process, and decoding and digesting every live row cost it about a
second at 10,000 articles on each change.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from feedsvc.catalog import Catalog
from feedsvc.catalog.records import ARTICLE_COLUMNS, Record, records_from_rows
from feedsvc.documents.cards import card_for
from feedsvc.documents.feed_info import rfc3339


def digest(*parts: object) -> str:
    """Return a short digest of `parts` (their repr: the same values, the same digest)."""
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class Article:
    """What the documents that show one live article read of it."""

    key: str
    entry_id: str
    slug: str
    section: str  # its section's name as this article gives it
    section_slug: str
    seq: int
    section_seq: int
    published: datetime
    updated: datetime
    content_hash: str
    full: str  # everything a feed entry or the permalink page shows
    teaser: str  # what a list page (and a subscribe page's preview) shows
    embed: str
    oembed: str
    card: str  # the preview card's version
    image: str | None = None  # its own image's fingerprinted name (None: the card stands in)


def article(record: Record, seq: int, section_seq: int, site_title: str) -> Article:
    """Return the digests of one live article's record."""
    card = card_for(record, site_title).version
    published = rfc3339(record.published)
    # What feeds, the page and oEmbed say of its image; the card that stands in for none is
    # made of what `full` holds already (title, section, published; the site's title).
    own = record.image
    image = own and (own.name, own.media_type, own.width, own.height, own.length, own.alt)
    # content_hash stands for everything read from the file (title, section, paragraphs, front
    # matter, the image's bytes): hashing it instead of the text keeps this cheap per article.
    full = digest(
        record.entry_id,
        record.slug,
        record.section_slug,
        published,
        rfc3339(record.updated),
        record.content_hash,
        image,
    )
    teaser = digest(record.slug, record.title, record.section, record.section_slug, published)
    return Article(
        key=record.key,
        entry_id=record.entry_id,
        slug=record.slug,
        section=record.section,
        section_slug=record.section_slug,
        seq=seq,
        section_seq=section_seq,
        published=record.published,
        updated=record.updated,
        content_hash=record.content_hash,
        full=full,
        teaser=digest(teaser, record.summary),
        embed=digest(record.title, record.slug, record.section, published, record.summary),
        oembed=digest(record.title, record.slug, card, record.author, image),
        card=card,
        image=own.name if own else None,
    )


# The last reading: the site title it was made with, and each article by key with the row it
# came from (all but the text, which the content hash stands for).
_LAST: tuple[str, dict[str, tuple[tuple[object, ...], Article]]] = ("", {})
_LOCK = threading.Lock()
_TEXT = ARTICLE_COLUMNS.index("paragraphs")  # live_rows selects COLUMNS first
_FEW = 1000  # changed rows held whole at once at most (beyond a quarter of the catalog)


def live_articles(catalog: Catalog, site_title: str) -> list[Article]:
    """Return the digests of every live article, newest first (an undecodable row is left
    out and logged, as everywhere else). Only the rows that differ from the last reading are
    read whole (with their text) and decoded; a first reading reads every row whole."""
    global _LAST
    with _LOCK:
        title, known = _LAST
    if title != site_title:
        known = {}
    found: list[Article] = []
    kept: dict[str, tuple[tuple[object, ...], Article]] = {}
    readings: Iterable[tuple[sqlite3.Row, tuple[object, ...]]]
    whole_reading = not known
    if known:
        with catalog.snapshot():  # the rows, and the changed ones whole: from one state
            rows = [(row, _signature(row)) for row in catalog.live_rows(text=False)]
            changed = [row["key"] for row, sign in rows if _known(known, row["key"], sign) is None]
            # Most rows changed: read them all whole a row at a time, as a first reading does.
            whole_reading = len(changed) > max(_FEW, len(rows) // 4)
            if not whole_reading:
                whole = catalog.whole_rows(changed) if changed else {}
                readings = ((whole.get(row["key"], row), sign) for row, sign in rows)
    if whole_reading:  # a row at a time: a large catalog's text is never held whole
        readings = ((row, _signature(row)) for row in catalog.live_rows())
    for row, signature in readings:
        item = _known(known, row["key"], signature)
        if item is None:
            decoded = next(records_from_rows([row]), None)
            if decoded is None:
                continue
            item = article(decoded[1], row["seq"], row["section_seq"], site_title)
        kept[item.key] = (signature, item)
        found.append(item)
    with _LOCK:
        _LAST = (site_title, kept)
    return found


Reading = tuple[str, dict[str, tuple[tuple[object, ...], Article]]]


def last_reading() -> Reading:
    """Return the last reading: the site title, and each article by key with its row."""
    with _LOCK:
        return _LAST


def adopt(reading: Reading) -> bool:
    """Take `reading` (kept by an earlier process) as the last one, unless this process has
    read the catalog already; return whether it was taken."""
    global _LAST
    with _LOCK:
        if _LAST[1]:
            return False
        _LAST = reading
        return True


def _signature(row: sqlite3.Row) -> tuple[object, ...]:
    """Return the row without its text (which its content hash stands for)."""
    values = tuple(row)
    return values[:_TEXT] + values[_TEXT + 1 :]


def _known(
    known: dict[str, tuple[tuple[object, ...], Article]], key: str, signature: tuple[object, ...]
) -> Article | None:
    mine = known.get(key)
    return mine[1] if mine is not None and mine[0] == signature else None


# Each article page's digest as this process computed it last, by key, with what it was made of.
_PAGES: dict[str, tuple[Article, str | None, str]] = {}


def page_digests(articles: list[Article], section_names: Mapping[str, str | None]) -> list[str]:
    """Return the digest of each article's page (the article as a feed entry shows it, its card
    and its section's shown name), made again only for an article object or section name that
    differs from the last call's."""
    made: dict[str, tuple[Article, str | None, str]] = {}
    found = []
    with _LOCK:
        last = dict(_PAGES)
    for item in articles:
        name = section_names[item.section_slug]
        known = last.get(item.key)
        if known is not None and known[0] is item and known[1] == name:
            made[item.key] = known
        else:
            made[item.key] = (item, name, digest(item.full, item.card, name))
        found.append(made[item.key][2])
    with _LOCK:
        _PAGES.clear()
        _PAGES.update(made)
    return found
