"""Typed, immutable records the catalog hands to the rest of feedsvc."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from feedsvc import urlmap
from feedsvc.articles.text_format import ArticleImage, bounded_summary
from feedsvc.catalog.schema import parse_time

log = logging.getLogger(__name__)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Filed:
    """An article's key, place and content, in the types the catalog reads and writes alike."""

    key: str
    slug: str
    section: str
    section_slug: str
    title: str
    paragraphs: tuple[str, ...]
    content_hash: str


@dataclass(frozen=True, slots=True)
class Record(Filed):
    """One published article as the catalog holds it."""

    entry_id: str
    published: datetime
    updated: datetime
    summary: str  # the one summary shown everywhere: articles.bounded_summary
    author: str | None = None  # the front matter's; None means the site's author
    tags: tuple[str, ...] = ()  # from front matter, beyond the section
    image: ArticleImage | None = None  # its own image; None: its preview card stands in

    @property
    def path(self) -> str:
        """Return the site path of the permalink page."""
        return urlmap.article(self.slug)

    @property
    def categories(self) -> tuple[str, ...]:
        """Return the section, then the tags that differ from it."""
        return (self.section, *(tag for tag in self.tags if tag != self.section))


@dataclass(frozen=True, slots=True)
class Section:
    """One section with how many articles it has and when it last changed."""

    name: str
    slug: str
    count: int
    updated: datetime


@dataclass(frozen=True, slots=True)
class Lookup:
    """What a slug leads to: a live article, a redirect to its current slug, or (neither) a
    withdrawn article."""

    record: Record | None = None
    redirect_to: str | None = None


@dataclass(frozen=True, slots=True)
class Tombstone:
    """A withdrawn article, for RFC 6721 deleted-entry elements."""

    entry_id: str
    removed: datetime
    path: str


# The columns of an article row a Record is read from: the one list of them. The writer
# writes the same ones (entry_id only when the article is added) and the file signature.
ARTICLE_COLUMNS = (
    "key",
    "entry_id",
    "slug",
    "section",
    "section_slug",
    "title",
    "paragraphs",
    "content_hash",
    "published",
    "updated",
    "author",
    "tags",
    "summary",
    "image",  # the image's fingerprinted name (indexed: the image URL looks it up)
    "image_info",  # the rest of ArticleImage, as JSON
)
COLUMNS = ", ".join(ARTICLE_COLUMNS)


# What a row that cannot be decoded raises (bad dates, JSON, columns): its article is left out.
UNDECODABLE = (ValueError, TypeError, KeyError, AttributeError)
_told: set[tuple[str, str]] = set()  # (key, reason) already logged by this process


def records_from_rows(rows: Iterable[sqlite3.Row]) -> Iterator[tuple[sqlite3.Row, Record]]:
    """Yield each row with its Record, leaving out (and logging once) a row that cannot be
    decoded: one damaged article never takes a list page or a feed down with it."""
    for row in rows:
        try:
            yield row, record_from_row(row)
        except UNDECODABLE as exc:
            told = (str(row["key"]), f"{type(exc).__name__}: {exc}")
            if told not in _told:
                _told.add(told)
                log.error(
                    "article %s is left out of every page and feed: its catalog row cannot be "
                    "read (%s); edit or re-save its file so the writer stores it again, or "
                    "`feedsvc restore` a backup",
                    *told,
                )


def undecodable(rows: Iterable[sqlite3.Row]) -> list[tuple[str, str]]:
    """Return (key, reason) of the rows that cannot be decoded."""
    found = []
    for row in rows:
        try:
            record_from_row(row)
        except UNDECODABLE as exc:
            found.append((str(row["key"]), f"{type(exc).__name__}: {exc}"))
    return found


def record_from_row(row: sqlite3.Row) -> Record:
    """Return the Record of an `articles` row selected with COLUMNS."""
    paragraphs = tuple(row["paragraphs"].split("\n"))
    return Record(
        key=row["key"],
        entry_id=row["entry_id"],
        slug=row["slug"],
        section=row["section"],
        section_slug=row["section_slug"],
        title=row["title"],
        paragraphs=paragraphs,
        content_hash=row["content_hash"],
        published=parse_time(row["published"]),
        updated=parse_time(row["updated"]),
        summary=bounded_summary(row["summary"], paragraphs),
        author=row["author"],
        tags=tuple(json.loads(row["tags"])),
        image=image_from_columns(row["image"], row["image_info"]),
    )


def image_columns(image: ArticleImage | None) -> tuple[str | None, str | None]:
    """Return the `image` and `image_info` column values of an article's image."""
    if image is None:
        return None, None
    info = {
        "media_type": image.media_type,
        "width": image.width,
        "height": image.height,
        "length": image.length,
        "alt": image.alt,
        "source": image.source,
    }
    return image.name, json.dumps(info, ensure_ascii=False, sort_keys=True)


def image_from_columns(name: str | None, info: str | None) -> ArticleImage | None:
    """Return the ArticleImage stored in the `image` and `image_info` columns."""
    if name is None or info is None:
        return None
    return ArticleImage(name=name, **json.loads(info))


def tombstone_from_row(row: sqlite3.Row) -> Tombstone:
    """Return the Tombstone of an `articles` row with its entry_id, removed and slug."""
    return Tombstone(row["entry_id"], parse_time(row["removed"]), urlmap.article(row["slug"]))


def times(rows: Iterable[sqlite3.Row], column: str) -> Iterator[tuple[sqlite3.Row, datetime]]:
    """Yield each row with its time in `column`, leaving out a row whose time cannot be read
    (records_from_rows logs it)."""
    for row in rows:
        try:
            moment = parse_time(row[column])
        except UNDECODABLE:
            continue
        yield row, moment


def newest(text: str, rows: Callable[[], Iterable[sqlite3.Row]]) -> datetime:
    """Return the time `text` (an aggregate's max), or, when it is a damaged value, the
    newest readable `updated` of `rows()` (the epoch when none is)."""
    try:
        return parse_time(text)
    except UNDECODABLE:
        return max((moment for _row, moment in times(rows(), "updated")), default=EPOCH)
