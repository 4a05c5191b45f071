"""End to end: `feedsvc serve` as a real process on a loopback port, read over HTTP."""

from __future__ import annotations

import feedparser
import pytest

from .conftest import get

pytestmark = pytest.mark.e2e


def test_serve_publishes_feeds_and_permalinks(live_server: str) -> None:
    server = live_server
    for path, media_type in (
        ("/feeds/atom.xml", "application/atom+xml"),
        ("/feeds/rss.xml", "application/rss+xml"),
    ):
        status, content_type, body = get(server + path)
        assert (status, content_type) == (200, f"{media_type}; charset=utf-8")
        parsed = feedparser.parse(body)
        assert not parsed.bozo
        assert len(parsed.entries) == 3
        for entry in parsed.entries:
            assert entry.link.startswith(server + "/articles/")
            status, content_type, page = get(entry.link)
            assert (status, content_type) == (200, "text/html; charset=utf-8")
            assert entry.title.encode() in page.replace(b"&amp;", b"&").replace(
                b"&lt;", b"<"
            ).replace(b"&gt;", b">").replace(b"&#34;", b'"')
    status, _, front = get(server + "/")
    assert status == 200
    assert b"Iranian Top Diplomat" in front
