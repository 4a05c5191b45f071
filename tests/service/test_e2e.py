"""End to end: `feedsvc serve` as a real process on a loopback port, read over HTTP."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner

from feedsvc.cli import cli
from tests.conftest import get, wait_for_log

pytestmark = pytest.mark.e2e


@pytest.mark.slow
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


@pytest.mark.slow
def test_serve_speaks_http_properly(live_server: str, tmp_path: Path) -> None:
    import gzip
    import urllib.error

    _status, _, plain = get(live_server + "/feeds/rss.xml")
    request = urllib.request.Request(
        live_server + "/feeds/rss.xml", headers={"Accept-Encoding": "gzip"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        etag = response.headers["ETag"]
        assert gzip.decompress(response.read()) == plain
    conditional = urllib.request.Request(
        live_server + "/feeds/rss.xml", headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(conditional, timeout=10)
    assert caught.value.code == 304
    caught.value.close()
    line = '"GET /feeds/rss.xml HTTP/1.1" 304'
    assert line in wait_for_log(next(tmp_path.glob("server-*.log")), line)  # the access log


def test_serve_help_lists_production_options(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["serve", "--help"])
    for option in ("--host", "--port", "--workers", "--reload"):
        assert option in result.output
