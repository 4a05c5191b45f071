"""Optional YAML front matter at the top of an article file (pure).

---
date: 2024-03-01T09:30:00Z     # overrides the first-seen date (published)
updated: 2024-03-02            # overrides the updated date
author: Jane Doe
tags: [Syria, Diplomacy]       # or "Syria, Diplomacy"
summary: One line for feeds and previews.
image: photos/harbour.jpg      # a .jpg, .png or .webp file, relative to the articles folder
image_alt: Boats in the harbour at dawn
---
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import yaml

from feedsvc.errors import ArticleError

# Four-digit years in every format; the last day left free for the seconds ingest adds to
# break ties between articles given the same second (room for 86,400 of them).
EARLIEST = datetime(1000, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
# What every key at its longest needs, with room to spare (tags 20 x 60, summary 1000, ...).
MAX_FRONT_MATTER_CHARS = 16_384
KEYS = ("date", "updated", "author", "tags", "summary", "image", "image_alt")
MAX_TAGS, MAX_TAG_CHARS, MAX_AUTHOR_CHARS, MAX_SUMMARY_CHARS = 20, 60, 120, 1000
MAX_IMAGE_CHARS, MAX_ALT_CHARS = 255, 300


@dataclass(frozen=True, slots=True)
class FrontMatter:
    """The fields a front-matter block may give; None (or empty) when absent."""

    date: datetime | None = None
    updated: datetime | None = None
    author: str | None = None
    tags: tuple[str, ...] = ()
    summary: str | None = None
    # Checked when the folder reads the article: a bad image never rejects the article.
    image: str | None = None
    image_alt: str | None = None

    def canonical(self) -> dict[str, Any]:
        """Return the given fields as JSON-able values, for the content hash."""
        fields: dict[str, Any] = {
            "date": self.date.isoformat() if self.date else None,
            "updated": self.updated.isoformat() if self.updated else None,
            "author": self.author,
            "tags": list(self.tags),
            "summary": self.summary,
            "image": self.image,
            "image_alt": self.image_alt,
        }
        return {name: value for name, value in fields.items() if value not in (None, [])}


def _when(source: str, name: str, value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0, 0))
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ArticleError(
                source, "front-matter", f"front matter {name!r}: {value!r} is not a date"
            ) from None
    else:
        raise ArticleError(source, "front-matter", f"front matter {name!r} is not a date")
    # A date without a zone is read as UTC.
    try:
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        moment = EARLIEST - timedelta(days=1)  # a zone pushed it past year 1 or 9999
    if not EARLIEST <= moment <= LATEST:
        raise ArticleError(
            source,
            "front-matter",
            f"front matter {name!r}: {value!s} is outside the years 1000 to 9999, which every "
            "format a date reaches can carry (Atom, RSS, JSON Feed, sitemaps, HTTP)",
        )
    return moment


def _text(source: str, name: str, value: Any, limit: int) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ArticleError(source, "front-matter", f"front matter {name!r} must be text")
    text = " ".join(str(value).split())
    if not text or len(text) > limit:
        raise ArticleError(
            source, "front-matter", f"front matter {name!r} must be 1 to {limit} characters"
        )
    return text


def _tags(source: str, value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ArticleError(source, "front-matter", "front matter 'tags' must be a list")
    tags: dict[str, None] = {}  # in order, each once; a list's `in` made this quadratic
    for item in items:
        tags[_text(source, "tags", item, MAX_TAG_CHARS)] = None
        if len(tags) > MAX_TAGS:
            raise ArticleError(source, "front-matter", f"more than {MAX_TAGS} tags")
    return tuple(tags)


def split_front_matter(text: str, *, source: str) -> tuple[FrontMatter, str]:
    """Return the front matter of `text` (normalised newlines) and the text after it."""
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        return FrontMatter(), text
    end = next((n for n, line in enumerate(lines[1:], 1) if line.rstrip() == "---"), None)
    if end is None:
        raise ArticleError(source, "front-matter", "front matter opened with '---' is never closed")
    block = "\n".join(lines[1:end])
    if len(block) > MAX_FRONT_MATTER_CHARS:  # YAML parses in pure Python: bound its work
        raise ArticleError(
            source,
            "front-matter",
            f"front matter is longer than {MAX_FRONT_MATTER_CHARS:,} characters",
        )
    try:
        data = yaml.safe_load(block) if block.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" on line {mark.line + 2}" if mark is not None else ""
        raise ArticleError(
            source, "front-matter", f"front matter is not valid YAML{where}"
        ) from None
    except (ValueError, OverflowError) as exc:
        # YAML reads 2024-13-01 as a timestamp, then the date it builds does not exist.
        raise ArticleError(
            source, "front-matter", f"front matter holds a bad value: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise ArticleError(source, "front-matter", "front matter must be 'name: value' lines")
    unknown = sorted(str(key) for key in data if key not in KEYS)
    if unknown:
        raise ArticleError(
            source,
            "front-matter",
            f"unknown front matter {', '.join(unknown)} (known: {', '.join(KEYS)})",
        )
    front = FrontMatter(
        date=_when(source, "date", data["date"]) if data.get("date") is not None else None,
        updated=_when(source, "updated", data["updated"])
        if data.get("updated") is not None
        else None,
        author=_text(source, "author", data["author"], MAX_AUTHOR_CHARS)
        if data.get("author") is not None
        else None,
        tags=_tags(source, data["tags"]) if data.get("tags") is not None else (),
        summary=_text(source, "summary", data["summary"], MAX_SUMMARY_CHARS)
        if data.get("summary") is not None
        else None,
        image=_text(source, "image", data["image"], MAX_IMAGE_CHARS)
        if data.get("image") is not None
        else None,
        image_alt=_text(source, "image_alt", data["image_alt"], MAX_ALT_CHARS)
        if data.get("image_alt") is not None
        else None,
    )
    return front, "\n".join(lines[end + 1 :])
