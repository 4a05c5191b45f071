"""Continuous publishing: `feedsvc watch --deploy` exports and deploys each change to a real
S3 API (moto's standalone server over HTTP, loopback) and pings hubs only once the bytes are
in the bucket."""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import write_article
from tests.deploy.test_deploy import _aws_env, bucket, s3_server  # noqa: F401 - the S3 fixtures

pytestmark = pytest.mark.e2e


class CheckingHub:
    """A WebSub hub on loopback that, for each ping, looks in the bucket for an object."""

    def __init__(self, client: object, bucket_name: str) -> None:
        self.pings: list[tuple[str, bool]] = []
        self.wanted: str | None = None
        self.earlier = 0
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                topic = parse_qs(body)["hub.url"][0]
                present = False
                if hub.wanted is not None:
                    try:
                        client.head_object(Bucket=bucket_name, Key=hub.wanted)  # type: ignore[attr-defined]
                        present = True
                    except ClientError:
                        present = False
                if hub.wanted is not None:  # a ping for the change under test
                    hub.pings.append((topic, present))
                else:
                    hub.earlier += 1
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hub"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _exists(client: object, bucket_name: str, key: str) -> bool:
    try:
        client.head_object(Bucket=bucket_name, Key=key)  # type: ignore[attr-defined]
    except ClientError:
        return False
    return True


@pytest.fixture
def watcher_env(tmp_path: Path, seeds: Path, s3_server: str) -> dict[str, str]:  # noqa: F811
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")},
        "FEEDSVC_SEEDS_DIR": str(seeds),
        "FEEDSVC_DATABASE": str(tmp_path / "db.sqlite3"),
        "FEEDSVC_EXPORT_DIR": str(tmp_path / "site"),
        "FEEDSVC_RUN_DIR": str(tmp_path / "run"),
        "FEEDSVC_S3_ENDPOINT": s3_server,
        "FEEDSVC_SITE_URL": "https://news.example.org",
    }


@pytest.mark.slow
def test_a_new_file_reaches_the_bucket_and_hubs_are_pinged_after(
    tmp_path: Path,
    seeds: Path,
    s3_server: str,  # noqa: F811
    bucket: str,  # noqa: F811
    watcher_env: dict[str, str],
) -> None:
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    hub = CheckingHub(client, bucket)
    log = tmp_path / "watch.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "watch", "--deploy", f"s3://{bucket}"],
            env={**watcher_env, "FEEDSVC_WEBSUB_HUB": hub.url},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not _exists(client, bucket, "feeds/atom.xml") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _exists(client, bucket, "feeds/atom.xml"), log.read_text()
        # The first deploy's pings (one per feed that changed: their number grows with the
        # sections, tags and authors) must all be in before the change under test is made,
        # or a late one would count as the change's: wait until they stop for a second.
        count, quiet_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            if hub.earlier != count:
                count, quiet_since = hub.earlier, time.monotonic()
            elif count >= 9 and time.monotonic() - quiet_since > 1.0:
                break
            time.sleep(0.05)
        key = "articles/fresh-from-the-newsroom/index.html"
        hub.wanted = key
        started = time.monotonic()
        write_article(seeds, "090_fresh", "Science", "Fresh from the newsroom", "Body.")
        while not _exists(client, bucket, key) and time.monotonic() - started < 30:
            time.sleep(0.05)
        arrived = time.monotonic() - started
        print(f"file written -> object in the bucket: {arrived:.2f} s")  # noqa: T201
        assert _exists(client, bucket, key), log.read_text()
        while len(hub.pings) < 6 and time.monotonic() - started < 30:
            time.sleep(0.05)
        topics = [topic for topic, _present in hub.pings]
        assert "https://news.example.org/feeds/atom.xml" in topics
        assert "https://news.example.org/sections/science/rss.xml" in topics
        assert all(present for _topic, present in hub.pings), hub.pings  # never before
        body = client.get_object(Bucket=bucket, Key="feeds/atom.xml")["Body"].read()
        assert b"Fresh from the newsroom" in body
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0, log.read_text()
        hub.close()
    text = log.read_text()
    assert "published to s3://" in text
