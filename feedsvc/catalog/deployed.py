"""The record a deployed site keeps of what it published: ids, dates and slugs that travel.

A fresh machine (a CI runner, a static host's builder, a new server) has no catalog. The
export and every deploy carry this small record, so a build whose catalog lacks an article
adopts that article's id, dates and old slugs from what readers were already shown, before
minting anything.

The record is a URL of the publication (urlmap.RECORD), rendered from the catalog by
`encode`; `decode` reads one back and refuses anything a catalog could not have written.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from feedsvc.catalog.schema import format_time, parse_time
from feedsvc.errors import RecordError

if TYPE_CHECKING:
    from feedsvc.catalog.reader import Catalog

FORMAT = "feedsvc-record"
VERSION = 1
# One row per article, in this order: about 230 bytes an article (23 MB for 100,000).
FIELDS = ("entry_id", "published", "updated", "content_hash", "slug", "old_slugs", "place")
# What a damaged record's message ends with: the two ways on.
FIX = "delete it (or pass --no-adopt) to mint new ids and dates for the articles the catalog lacks"

_MAX_KEY = 255  # a file name
_MAX_ID = 2048
_MAX_DATE = 40
_MAX_OLD_SLUGS = 1000
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+){0,100}")  # what articles.slug_for makes, -N added
_MAX_SLUG = 200
_HASH = re.compile(r"[0-9a-f]{64}")  # Article.content_hash: a SHA-256
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f]")  # whitespace and control characters
_KEY_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")

# Live articles with their old slugs (space-separated: no slug holds one), in one statement:
# one consistent snapshot of the catalog even while the writer commits.
_ROWS = """
SELECT key, entry_id, published, updated, content_hash, slug, seq,
    (SELECT group_concat(s.slug, ' ') FROM slug_aliases AS s WHERE s.key = a.key) AS old_slugs
FROM articles AS a WHERE removed IS NULL ORDER BY key
"""


@dataclass(frozen=True, slots=True)
class Adopted:
    """One article as the deployed site published it (dates in the catalog's text form)."""

    entry_id: str
    published: str
    updated: str
    content_hash: str  # the content the `updated` date belongs to
    slug: str
    old_slugs: tuple[str, ...] = ()
    place: int = 0  # its place on the site (first-publication order)


@dataclass(frozen=True, slots=True)
class DeployedRecord:
    """What one deployed publication published, by article key."""

    publication: str  # the identity its ids were minted from
    articles: Mapping[str, Adopted] = field(default_factory=dict)


# The catalog's own text form (schema.format_time): most dates are in it already.
_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def _normal(text: str) -> str:
    return text if _CANONICAL.fullmatch(text) else format_time(parse_time(text))


def encode(catalog: Catalog) -> bytes:
    """Return the record of what the catalog publishes: its identity and every live article
    (withdrawn ones are no longer published), as deterministic compact JSON."""
    with catalog.errors():
        rows = catalog.connection.execute(_ROWS).fetchall()
    articles = {
        row["key"]: [
            row["entry_id"],
            _normal(row["published"]),
            _normal(row["updated"]),
            row["content_hash"],
            row["slug"],
            sorted(row["old_slugs"].split(" ")) if row["old_slugs"] else [],
            row["seq"],
        ]
        for row in rows
    }
    document = {
        "format": FORMAT,
        "version": VERSION,
        "publication": catalog.identity(),
        "fields": list(FIELDS),
        "articles": articles,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


class _Damaged(Exception):
    """What is wrong with a record, for people, and how to go on (the caller adds where)."""

    def __init__(self, reason: str, fix: str = FIX) -> None:
        super().__init__(f"{reason}: {fix}")


def _text(value: object, what: str, limit: int, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str) or not value:
        raise _Damaged(f"{what} is not a non-empty string")
    if len(value) > limit:
        raise _Damaged(f"{what} is longer than {limit} characters")
    if pattern is not None and not pattern.fullmatch(value):
        raise _Damaged(f"{what} {value[:80]!r} is malformed")
    return value


def _identity(value: object, what: str) -> str:
    """Return an identity or an id minted from one: `tag:...` or `urn:uuid:<uuid>`."""
    text = _text(value, what, _MAX_ID)
    if _UNSAFE.search(text):
        raise _Damaged(f"{what} holds whitespace or control characters")
    if text.startswith("urn:uuid:"):
        try:
            uuid.UUID(text.removeprefix("urn:uuid:"))
        except ValueError:
            raise _Damaged(f"{what} {text[:80]!r} is not a urn:uuid: URI") from None
    elif not text.startswith("tag:") or len(text) == len("tag:"):
        raise _Damaged(f"{what} {text[:80]!r} is neither a tag: nor a urn:uuid: URI")
    return text


def _date(value: object, what: str) -> str:
    text = _text(value, what, _MAX_DATE)
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            raise _Damaged(f"{what} {text!r} has no time zone")
        return _normal(text)
    except (ValueError, OverflowError):
        raise _Damaged(f"{what} {text!r} is not a date") from None


def _key(value: str) -> str:
    _text(value, "an article key", _MAX_KEY)
    if _KEY_UNSAFE.search(value) or value in (".", ".."):
        raise _Damaged(f"the article key {value[:80]!r} is not a file name")
    return value


def _article(key: str, row: object) -> Adopted:
    if not isinstance(row, list) or len(row) != len(FIELDS):
        raise _Damaged(f"article {key!r} is not a row of {len(FIELDS)} fields")
    entry_id, published, updated, content_hash, slug, old_slugs, place = row
    if not isinstance(old_slugs, list) or len(old_slugs) > _MAX_OLD_SLUGS:
        raise _Damaged(f"the old slugs of article {key!r} are not a list of slugs")
    if not isinstance(place, int) or isinstance(place, bool) or not 1 <= place < 2**53:
        raise _Damaged(f"the place of article {key!r} is not a positive whole number")
    return Adopted(
        entry_id=_identity(entry_id, f"the id of article {key!r}"),
        published=_date(published, f"the published date of article {key!r}"),
        updated=_date(updated, f"the updated date of article {key!r}"),
        content_hash=_text(content_hash, f"the content hash of article {key!r}", 64, _HASH),
        slug=_text(slug, f"the slug of article {key!r}", _MAX_SLUG, _SLUG),
        old_slugs=tuple(
            _text(old, f"an old slug of article {key!r}", _MAX_SLUG, _SLUG) for old in old_slugs
        ),
        place=place,
    )


def _unique(articles: Mapping[str, Adopted]) -> None:
    """Refuse what no catalog holds: two articles with one id, one place or one slug."""
    ids: dict[str, str] = {}
    places: dict[int, str] = {}
    slugs: dict[str, str] = {}
    for key, adopted in articles.items():
        if (other := ids.setdefault(adopted.entry_id, key)) != key:
            raise _Damaged(f"articles {other!r} and {key!r} have the same id")
        if (other := places.setdefault(adopted.place, key)) != key:
            raise _Damaged(f"articles {other!r} and {key!r} have the same place")
        for slug in (adopted.slug, *adopted.old_slugs):
            other = slugs.setdefault(slug, key)
            if other != key:
                raise _Damaged(f"articles {other!r} and {key!r} both hold the slug {slug!r}")


def _parse(data: bytes) -> DeployedRecord:
    try:
        document: Any = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _Damaged("is not JSON") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _Damaged("is not a feedsvc deployed record")
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _Damaged("has no version number")
    if version > VERSION:
        raise _Damaged(
            f"was written by a newer feedsvc (version {version}; this one reads {VERSION})",
            "upgrade feedsvc, or pass --no-adopt",
        )
    expected = {"format", "version", "publication", "fields", "articles"}
    if set(document) != expected:
        raise _Damaged(f"holds {sorted(set(document) ^ expected)} beside or instead of its fields")
    if document["fields"] != list(FIELDS):
        raise _Damaged(f"has the fields {document['fields']!r}, not {list(FIELDS)!r}")
    publication = _identity(document["publication"], "its publication id")
    rows = document["articles"]
    if not isinstance(rows, dict):
        raise _Damaged("has no table of articles")
    articles = {_key(key): _article(key, row) for key, row in rows.items()}
    _unique(articles)
    return DeployedRecord(publication, articles)


def decode(data: bytes, where: str = "") -> DeployedRecord:
    """Return the record in `data`, checked whole; raise RecordError naming `where` (its
    location) and how to go on when it is damaged or of an unknown version."""
    try:
        return _parse(data)
    except _Damaged as exc:
        raise RecordError(where or "(unnamed)", str(exc)) from None


def check_publication(record: DeployedRecord, identity: str | None, where: str) -> None:
    """Refuse the record of another publication: its ids were minted from another identity
    than `identity` (the catalog's, or FEEDSVC_PUBLICATION_ID's; None: nothing to compare)."""
    if identity is not None and record.publication != identity:
        raise RecordError(
            where,
            f"belongs to another publication ({record.publication}), not to this one "
            f"({identity}): check where it was read from, or pass --no-adopt to go on without it",
        )
