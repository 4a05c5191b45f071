"""Behind a real caching proxy: nginx, configured by `feedsvc nginx-conf`, in front of the
real server. A repeated request is a cache HIT; after the content changes and max-age passes,
nginx revalidates and serves the new version."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedsvc.cli import cli
from tests.conftest import free_port, start_nginx, start_server, stop_server, write_article

pytestmark = [pytest.mark.e2e, pytest.mark.external]


def fetch(url: str, encoding: str = "") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": encoding} if encoding else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


@pytest.fixture
def stack(seeds: Path, tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    server, upstream = start_server(
        seeds, tmp_path, env={"FEEDSVC_FEED_MAX_AGE": "1", "FEEDSVC_PAGE_MAX_AGE": "1"}
    )
    port = free_port()
    conf = CliRunner().invoke(
        cli,
        [
            "nginx-conf",
            "--upstream",
            upstream.removeprefix("http://"),
            "--listen",
            f"127.0.0.1:{port}",
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
    )
    assert conf.exit_code == 0, conf.output
    proxy = start_nginx(tmp_path, conf.output, port)
    try:
        yield (
            f"http://127.0.0.1:{port}",
            tmp_path / "served.sqlite3",
            next(tmp_path.glob("server-*.log")),
        )
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
        assert stop_server(server) == 0


@pytest.mark.slow
def test_repeat_is_a_hit_and_a_change_is_revalidated(
    stack: tuple[str, Path, Path], seeds: Path
) -> None:
    base, database, server_log = stack
    url = f"{base}/feeds/atom.xml"
    status, headers, first = fetch(url)
    assert (status, headers["X-Cache-Status"]) == (200, "MISS")
    status, headers, again = fetch(url)
    assert (status, headers["X-Cache-Status"], again) == (200, "HIT", first)
    # Per encoding: gzip is its own cache entry, filled from feedsvc's precompressed body.
    assert fetch(url, "gzip")[1]["X-Cache-Status"] == "MISS"
    assert fetch(url, "gzip")[1]["X-Cache-Status"] == "HIT"

    # max-age is 1 s: once it passes, nginx revalidates (with stale-while-revalidate, in the
    # background while it answers STALE) and feedsvc answers its conditional request with 304.
    revalidated = '"GET /feeds/atom.xml HTTP/1.1" 304'
    deadline = time.monotonic() + 15
    statuses = set()
    while revalidated not in server_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.3)
        status, headers, body = fetch(url)
        assert (status, body) == (200, first)
        statuses.add(headers["X-Cache-Status"])
    assert revalidated in server_log.read_text()
    assert statuses & {"STALE", "REVALIDATED", "UPDATING"}, statuses

    # New content: the writer ingests; after max-age nginx serves the new version.
    write_article(seeds, "003_breaking", "Science", "Breaking through the proxy", "Fresh.")
    result = CliRunner().invoke(
        cli, ["--seeds-dir", str(seeds), "--database", str(database), "ingest"]
    )
    assert result.exit_code == 0, result.output
    deadline = time.monotonic() + 15
    body = first
    while b"Breaking through the proxy" not in body and time.monotonic() < deadline:
        time.sleep(0.3)
        body = fetch(url)[2]
    assert b"Breaking through the proxy" in body
