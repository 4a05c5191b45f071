"""A real `feedsvc serve` writes its access log; `feedsvc stats` reads it back."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from feedsvc.fediverse.store import store_file
from tests.conftest import start_server, stop_server
from tests.stats import logs

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_stats_reads_what_feedsvc_serve_logged(seeds: Path, tmp_path: Path) -> None:
    process, base = start_server(seeds, tmp_path, env={"FEEDSVC_ACCESS_LOG": "1"})
    port = int(base.rsplit(":", 1)[1])
    polls = [
        ("/feeds/atom.xml", logs.FEEDLY.format(n=50, id="f1")),
        ("/feeds/atom.xml", logs.FEEDLY.format(n=49, id="f1")),
        ("/feeds/atom.xml", logs.NEWSBOAT),
        ("/feeds/atom.xml", logs.NEWSBOAT),
        ("/feeds/atom.xml", logs.NETNEWSWIRE),
        ("/feeds/atom.xml", logs.GOOGLEBOT),
        ("/feeds/rss.xml", logs.INOREADER.format(n=7)),
        ("/feeds/feed.json", logs.THUNDERBIRD),
        ("/", logs.CHROME),
        ("/feeds/atom.xml", logs.FEEDLY.format(n=999999999, id="f1")),
    ]
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        etag = None
        for path, agent in polls:
            # Forwarded addresses are not believed without FEEDSVC_TRUST_PROXY.
            headers = {"User-Agent": agent, "X-Forwarded-For": "198.51.100.1"}
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            etag = response.getheader("ETag") if path == "/feeds/feed.json" else etag
        assert etag is not None
        headers = {"User-Agent": logs.THUNDERBIRD, "If-None-Match": etag}
        connection.request("GET", "/feeds/feed.json", headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 304
        connection.close()
    finally:
        assert stop_server(process) == 0
    log = tmp_path / f"server-{port}.log"
    database = tmp_path / "served.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "--database", str(database), "stats", "--json", str(log)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True,
    )
    report = json.loads(done.stdout)
    assert len(report["days"]) == 1
    feeds = report["feeds"]
    assert feeds["/feeds/atom.xml"]["services"] == {"Feedly": 50}
    assert feeds["/feeds/atom.xml"]["apps"] == {"NetNewsWire": 1, "newsboat": 1}
    assert feeds["/feeds/rss.xml"]["subscribers"] == 7
    assert feeds["/feeds/feed.json"]["apps"] == {"Thunderbird": 1}  # a 200 and a 304: one
    assert report["total"] == 50 + 2 + 7 + 1
    assert report["ignored"]["search engine and social crawlers"] == 1
    assert report["ignored"]["not a subscription feed"] == 1
    assert report["skipped"]["an absurd subscriber count (over 1,000,000)"] == 1
    # The server's own messages (granian's, the writer's) share the stream: skipped, said.
    assert report["skipped"]["not an access log line"] >= 2
    assert report["lines"]["counted"] == 8
    assert "Traceback" not in done.stderr
    assert "198.51.100.1" not in done.stdout
    assert not store_file(database).exists()  # stats reads the federation store, never makes one
