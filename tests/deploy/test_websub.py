"""WebSub publishing against a real HTTP receiver on loopback that records what hubs get."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from lxml import etree

from feedsvc.catalog import Catalog
from feedsvc.cli import cli
from feedsvc.deploy.websub import HubNotifier
from feedsvc.web.app import create_app
from tests.conftest import SITE_URL, run_ingest, start_server, stop_server, write_article

ATOM = "{http://www.w3.org/2005/Atom}"


class Hub:
    """A loopback receiver of publish pings; it can fail the first N of them."""

    def __init__(self, fail_first: int = 0) -> None:
        self.pings: list[dict[str, list[str]]] = []
        self.fail_first = fail_first
        self.attempts = 0
        self.gate: threading.Event | None = None
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode()
                hub.attempts += 1
                if hub.gate is not None:
                    hub.gate.wait(10)
                if hub.attempts <= hub.fail_first:
                    self.send_response(503)
                else:
                    hub.pings.append(parse_qs(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hub"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def topics(self) -> list[str]:
        return sorted(url for ping in self.pings for url in ping["hub.url"])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hub() -> Iterator[Hub]:
    receiver = Hub()
    yield receiver
    receiver.close()


def test_feeds_advertise_the_hub(catalog: Catalog, seeds: Path, database: Path) -> None:
    run_ingest(catalog, seeds)
    hub_url = "https://hub.example.net/"
    client: FlaskClient = create_app(
        {"SEEDS_DIR": seeds, "DATABASE": database, "SITE_URL": SITE_URL, "WEBSUB_HUB": hub_url}
    ).test_client()
    atom = client.get("/feeds/atom.xml")
    assert f'<{hub_url}>; rel="hub"' in atom.headers["Link"]
    root = etree.fromstring(atom.data)
    assert [link.get("href") for link in root.findall(f"{ATOM}link[@rel='hub']")] == [hub_url]
    rss = etree.fromstring(client.get("/sections/science/rss.xml").data)
    assert [link.get("href") for link in rss.findall(f"channel/{ATOM}link[@rel='hub']")] == [
        hub_url
    ]
    assert json.loads(client.get("/feeds/feed.json").data)["hubs"] == [
        {"type": "WebSub", "url": hub_url}
    ]
    plain = create_app({"SEEDS_DIR": seeds, "DATABASE": database}).test_client()
    assert "hub" not in plain.get("/feeds/atom.xml").headers["Link"]


@pytest.mark.slow
def test_ingest_pings_the_hub_for_each_changed_feed(
    runner: CliRunner, seeds: Path, database: Path, hub: Hub
) -> None:
    args = [
        "--seeds-dir",
        str(seeds),
        "--database",
        str(database),
        "--site-url",
        SITE_URL,
        "ingest",
    ]
    result = runner.invoke(cli, args, env={"FEEDSVC_WEBSUB_HUB": hub.url})
    assert result.exit_code == 0, result.output
    assert all(ping["hub.mode"] == ["publish"] for ping in hub.pings)
    expected = sorted(
        f"{SITE_URL}{folder}{name}"
        for folder in (
            "/feeds/",
            "/sections/business/",
            "/sections/science/",
            "/sections/world-news/",
        )
        for name in ("atom.xml", "rss.xml", "feed.json")
    )
    assert hub.topics() == expected
    assert "websub: 12 pings sent, 0 failed" in result.output
    hub.pings.clear()
    write_article(seeds, "002_comet", "Science", "A comet returns", "Edited.")
    runner.invoke(cli, args, env={"FEEDSVC_WEBSUB_HUB": hub.url})
    assert hub.topics() == sorted(
        f"{SITE_URL}{folder}{name}"
        for folder in ("/feeds/", "/sections/science/")
        for name in ("atom.xml", "rss.xml", "feed.json")
    )
    hub.pings.clear()
    runner.invoke(cli, args, env={"FEEDSVC_WEBSUB_HUB": hub.url})
    assert hub.pings == []  # nothing changed, nobody is bothered


def test_notifier_retries_then_gives_up() -> None:
    flaky = Hub(fail_first=2)
    try:
        notifier = HubNotifier(flaky.url, timeout=2, attempts=3, backoff=0.05).start()
        notifier.publish(["https://news.example.org/feeds/atom.xml"])
        assert notifier.drain(10)
        assert (notifier.sent, notifier.failed, flaky.attempts) == (1, 0, 3)
        flaky.fail_first = 100
        notifier.publish(["https://news.example.org/feeds/rss.xml"])
        assert notifier.drain(10)
        assert notifier.failed == 1
        notifier.stop()
    finally:
        flaky.close()


def test_a_slow_or_dead_hub_never_blocks_the_caller() -> None:
    slow = Hub()
    slow.gate = threading.Event()
    try:
        notifier = HubNotifier(slow.url, timeout=10, attempts=1).start()
        notifier.publish(["https://news.example.org/feeds/atom.xml"])
        deadline = time.monotonic() + 10
        while slow.attempts == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        # The hub holds the first ping open; publishing more still returns at once.
        notifier.publish(["https://news.example.org/feeds/rss.xml"])
        assert notifier.sent == 0
        slow.gate.set()
        assert notifier.drain(20)
        assert notifier.sent == 2
        notifier.stop()
    finally:
        slow.close()
    dead = HubNotifier("http://127.0.0.1:9/", timeout=1, attempts=2, backoff=0.05).start()
    dead.publish(["https://news.example.org/feeds/atom.xml"] * 3)
    assert dead.drain(30)
    assert dead.failed == 3
    dead.stop()


@pytest.mark.slow
@pytest.mark.e2e
def test_live_server_pings_the_hub_after_a_change(seeds: Path, tmp_path: Path, hub: Hub) -> None:
    process, base = start_server(seeds, tmp_path, env={"FEEDSVC_WEBSUB_HUB": hub.url})
    try:
        write_article(seeds, "070_new", "Science", "Hub news", "Tell the hub.")
        deadline = time.monotonic() + 15
        while (
            f"{base}/sections/science/atom.xml" not in hub.topics() and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert f"{base}/feeds/atom.xml" in hub.topics()
        assert f"{base}/sections/science/atom.xml" in hub.topics()
    finally:
        assert stop_server(process) == 0
