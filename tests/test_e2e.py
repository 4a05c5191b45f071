"""End to end: `feedsvc serve` as a real process on a loopback port, read over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers["Content-Type"], response.read()


@pytest.fixture
def server(seeds: Path, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "FEEDSVC_SEEDS_DIR": str(seeds),
        "FEEDSVC_DATABASE": str(tmp_path / "db.sqlite3"),
    }
    env.pop("FEEDSVC_SITE_URL", None)
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("server did not start:\n" + (tmp_path / "server.log").read_text())
            time.sleep(0.1)
    yield base
    process.send_signal(signal.SIGTERM)
    try:
        assert process.wait(timeout=15) == 0
    finally:
        process.kill()
        log.close()


def test_serve_publishes_feeds_and_permalinks(server: str) -> None:
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
