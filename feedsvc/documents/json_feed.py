"""JSON Feed 1.1 from catalog records (feedgen writes none): pure, bytes out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from feedsvc.catalog import Record
from feedsvc.documents import feed_images
from feedsvc.documents.feed_info import FeedInfo, content_html, reader_note, rfc3339

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


def build_json(info: FeedInfo, records: Sequence[Record]) -> bytes:
    """Return a JSON Feed 1.1 document of `records` (given newest first)."""
    author = {"name": info.site.author}
    document: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": info.title,
        "home_page_url": info.page_url,
        "feed_url": info.self_url,
        "description": info.subtitle,
        "authors": [author],
        "language": info.site.language,
    }
    if info.subscribe_url:
        document["user_comment"] = reader_note(info.subscribe_url)
    if info.logo_url:
        document["icon"] = info.logo_url
    if info.icon_url:
        document["favicon"] = info.icon_url
    if info.prev_archive_url:
        document["next_url"] = info.prev_archive_url  # JSON Feed pages towards older items
    if info.hub_url:
        document["hubs"] = [{"type": "WebSub", "url": info.hub_url}]
    document["items"] = [
        {
            "id": record.entry_id,
            "url": info.site.absolute(record.path),
            "title": record.title,
            "content_html": content_html(record, info.images.get(record.key)),
            "summary": record.summary,
            "date_published": rfc3339(record.published),
            "date_modified": rfc3339(record.updated),
            "authors": [{"name": record.author}] if record.author else [author],
            "tags": list(record.categories),
            "language": info.site.language,
            **feed_images.json_fields(info.images.get(record.key)),
        }
        for record in records
    ]
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
