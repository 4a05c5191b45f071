"""Deploy: the export sent to a real S3 API over HTTP on loopback (moto's standalone server)
and to a plain folder, with the server's headers, only what changed, in the order of
publication, deletions last and bounded, and errors that say what is wrong in one line."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import click
import pytest
from botocore.config import Config
from click.testing import CliRunner, Result
from flask import Flask
from moto.server import ThreadedMotoServer

from feedsvc.cli import cli
from feedsvc.deploy import deploy
from feedsvc.deploy.plan import read_redirects
from feedsvc.deploy.state import BOOKKEEPING
from feedsvc.export import manifest
from feedsvc.export.names import DEPLOY_FILES, file_name
from feedsvc.urlmap.publication import stage_of
from feedsvc.web.app import create_app
from tests.conftest import SITE_URL, free_port, write_article
from tests.corpus import write_corpus

FEEDSVC = "from feedsvc.cli import main; main()"


def _cli() -> click.Group:
    return cli


# --- a real S3 API on loopback, and a proxy in front of it that records and injects faults


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Test credentials only, no shared files, no instance metadata: loopback and nothing else."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name == "FEEDSVC_S3_ENDPOINT":
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def _client(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}))


@pytest.fixture
def bucket(s3_server: str) -> str:
    name = f"site-{uuid.uuid4().hex[:12]}"
    _client(s3_server).create_bucket(Bucket=name)
    return name


class Proxy:
    """A loopback HTTP proxy in front of the S3 server: records every request, and can slow
    down object PUTs or answer them 503 after a number of them."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.removeprefix("http://")
        self.requests: list[tuple[str, str]] = []
        self.fail_after: int | None = None
        self.delay = 0.0
        self.puts = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are written apart

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                site_put = self.command == "PUT" and not self.path.split("?")[0].endswith(
                    BOOKKEEPING
                )
                with proxy.lock:
                    proxy.requests.append((self.command, self.path))
                    if site_put:
                        proxy.puts += 1
                    failing = (
                        site_put and proxy.fail_after is not None and proxy.puts > proxy.fail_after
                    )
                if site_put and proxy.delay:
                    time.sleep(proxy.delay)
                if failing:
                    error = b"<Error><Code>ServiceUnavailable</Code><Message>down</Message></Error>"
                    self._answer(503, [("Content-Type", "application/xml")], error)
                    return
                connection = http.client.HTTPConnection(proxy.upstream, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "expect"}
                connection.request(self.command, self.path, body, headers)
                answer = connection.getresponse()
                data = answer.read()
                kept = [
                    (k, v)
                    for k, v in answer.getheaders()
                    if k.lower() not in ("transfer-encoding", "connection", "content-length")
                ]
                connection.close()
                self._answer(answer.status, kept, data, length=answer.getheader("Content-Length"))

            def _answer(
                self,
                status: int,
                headers: list[tuple[str, str]],
                data: bytes,
                length: str | None = None,
            ) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                head = self.command == "HEAD"
                self.send_header("Content-Length", length if head and length else str(len(data)))
                self.end_headers()
                if not head:
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        return Handler

    def site_puts(self, bucket: str) -> list[str]:
        """Return the keys of the objects PUT so far, in order, the deploy state aside."""
        keys = []
        for method, path in self.requests:
            key = path.split("?")[0].removeprefix(f"/{bucket}/")
            if method == "PUT" and not key.endswith(BOOKKEEPING):
                keys.append(urllib.request.unquote(key))
        return keys

    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p in self.requests if m in ("PUT", "POST", "DELETE")]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(s3_server: str) -> Iterator[Proxy]:
    running = Proxy(s3_server)
    yield running
    running.close()


# --- a publication built by the real `feedsvc build`


class Site:
    """A seeds folder, its catalog and its export in OUT, built and deployed by the CLI."""

    def __init__(self, root: Path, articles: int) -> None:
        self.seeds = root / "seeds"
        self.database = root / "instance" / "catalog.sqlite3"
        self.out = root / "public"
        write_corpus(self.seeds, articles)
        self.runner = CliRunner()
        self.env = {
            "FEEDSVC_SEEDS_DIR": str(self.seeds),
            "FEEDSVC_DATABASE": str(self.database),
            "FEEDSVC_SITE_URL": SITE_URL,
            "FEEDSVC_FEED_SIZE": "10",
            "FEEDSVC_PAGE_SIZE": "10",
            "FEEDSVC_EXPORT_DIR": str(self.out),
            "FEEDSVC_RUN_DIR": str(root / "run"),
        }

    def build(self, *args: str) -> None:
        result = self.runner.invoke(
            cli, ["build", str(self.out), "--jobs", "1", *args], env=self.env
        )
        assert result.exit_code == 0, result.output

    def deploy(self, *args: str, code: int = 0, build: bool = False) -> Result:
        """Run the deploy step alone (these tests build the export themselves), or with
        `build=True` as `feedsvc deploy` runs by default: ingest and build first."""
        flags = [] if build else ["--no-build"]
        result = self.runner.invoke(_cli(), ["deploy", *flags, *args], env=self.env)
        assert result.exit_code == code, result.output
        return result

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run `feedsvc deploy` in its own process (what a user runs)."""
        return subprocess.run(
            [sys.executable, "-c", FEEDSVC, "deploy", "--no-build", *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def app(self) -> Flask:
        return create_app(
            {
                "SEEDS_DIR": self.seeds,
                "DATABASE": self.database,
                "SITE_URL": SITE_URL,
                "FEED_SIZE": 10,
                "PAGE_SIZE": 10,
            }
        )

    def files(self) -> dict[str, manifest.Entry]:
        """Return the manifest's entries of what a bucket holds (no siblings, no deploy files)."""
        loaded = manifest.load(self.out)
        assert loaded is not None, "feedsvc build wrote no manifest"
        return {
            name: entry
            for name, entry in loaded.files.items()
            if entry.source is None and name not in DEPLOY_FILES
        }


@pytest.fixture
def site(tmp_path: Path) -> Site:
    built = Site(tmp_path, 45)
    built.build()
    return built


def bucket_objects(endpoint: str, bucket: str, prefix: str = "") -> dict[str, str]:
    """Return {key below prefix: ETag} of every object in a bucket (the deploy state aside)."""
    found = {}
    pages = (
        _client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    )
    for page in pages:
        for item in page.get("Contents", ()):
            key = item["Key"].removeprefix(prefix)
            if key not in BOOKKEEPING:
                found[key] = item["ETag"].strip('"')
    return found


def path_of(key: str) -> str:
    """Return the URL path an export file answers."""
    return "/" + key.removesuffix("index.html")


# --- tests


@pytest.mark.slow
def test_every_object_has_the_headers_the_server_sends(
    site: Site, s3_server: str, bucket: str
) -> None:
    # A renamed article: its old slug becomes a redirect.
    write_article(site.seeds, "00003_story", "World News", "A brand new headline", "Text.")
    site.build()
    result = site.deploy(f"s3://{bucket}/news", "--endpoint-url", s3_server)
    assert "0 unchanged" in result.output
    files = site.files()
    objects = bucket_objects(s3_server, bucket, "news/")
    assert set(objects) == set(files)
    client = _client(s3_server)
    app = site.app().test_client()
    redirects = []
    for key, entry in files.items():
        assert objects[key] == entry.md5, key  # the ETag of a single-part upload is its MD5
        head = client.head_object(Bucket=bucket, Key="news/" + key)
        with app.get(path_of(key)) as served:
            assert head["CacheControl"] == served.headers["Cache-Control"], key
            assert head.get("ContentLanguage") == served.headers.get("Content-Language"), key
            if served.status_code == 301:
                redirects.append(key)
                assert head["WebsiteRedirectLocation"] == served.headers["Location"]
                # Without website hosting: a page that redirects, or at an old document's
                # path the current document (an oEmbed consumer reads no page).
                target = app.get(served.headers["Location"].removeprefix(SITE_URL))
                html = "text/html; charset=utf-8"
                wanted = html if key.endswith("index.html") else target.headers["Content-Type"]
                assert head["ContentType"] == wanted, key
                continue
            assert served.status_code == 200, key
            assert head["ContentType"] == served.headers["Content-Type"], key
            assert "WebsiteRedirectLocation" not in head
            body = client.get_object(Bucket=bucket, Key="news/" + key)["Body"].read()
            assert body == served.get_data(), key
    # The old slug's page, embed card and oEmbed documents (sites keep all of them).
    moved = [key.split("/", 2)[2] for key in redirects if key.startswith("articles/")]
    assert sorted(moved) == ["embed/index.html", "index.html", "oembed.json", "oembed.xml"]
    kinds = {entry.content_type for entry in files.values()}
    assert {"application/atom+xml; charset=utf-8", "application/feed+json", "image/png"} <= kinds


@pytest.mark.slow
def test_old_slugs_redirect_to_the_new_url(site: Site, s3_server: str, bucket: str) -> None:
    (old_key,) = (k for k in site.files() if re.fullmatch(r"articles/story-5-[^/]+/index.html", k))
    write_article(site.seeds, "00005_story", "Business", "Renamed for good", "Text.")
    site.build()
    site.deploy(f"s3://{bucket}", "--endpoint-url", s3_server)
    head = _client(s3_server).head_object(Bucket=bucket, Key=old_key)
    assert head["WebsiteRedirectLocation"] == f"{SITE_URL}/articles/renamed-for-good/"
    assert head["CacheControl"] == "public, max-age=86400"
    # Without website hosting (the REST endpoint, or a CDN in front of it) the object is the
    # export's redirect page.
    body = _client(s3_server).get_object(Bucket=bucket, Key=old_key)["Body"].read()
    assert f'url={SITE_URL}/articles/renamed-for-good/"'.encode() in body
    # The old slug's embed card and oEmbed documents redirect too; its preview card is gone
    # (a static host cannot name every old version: the served app redirects those).
    old_folder = old_key.removesuffix("index.html")
    kept = sorted(k for k in bucket_objects(s3_server, bucket) if k.startswith(old_folder))
    names = ("embed/index.html", "index.html", "oembed.json", "oembed.xml")
    assert kept == [old_folder + name for name in names]
    for name in names:
        head = _client(s3_server).head_object(Bucket=bucket, Key=old_folder + name)
        new = f"{SITE_URL}/articles/renamed-for-good/{name.removesuffix('index.html')}"
        assert head["WebsiteRedirectLocation"] == new


@pytest.mark.slow
def test_a_second_deploy_sends_nothing(site: Site, proxy: Proxy, bucket: str) -> None:
    first = site.deploy(f"s3://{bucket}/news", "--endpoint-url", proxy.url)
    assert re.search(r"sent \d+ objects", first.output)
    proxy.requests.clear()
    again = site.deploy(f"s3://{bucket}/news", "--endpoint-url", proxy.url)
    assert "sent 0 objects (0 redirects), deleted 0" in again.output
    assert proxy.writes() == []  # seen on the wire: not one PUT, POST or DELETE
    assert not [path for _method, path in proxy.requests if "list-type=2" in path]
    # A change of headers alone (a new Cache-Control policy) is sent again, bytes unchanged.
    site.env["FEEDSVC_FEED_MAX_AGE"] = "600"
    site.build()
    proxy.requests.clear()
    site.deploy(f"s3://{bucket}/news", "--endpoint-url", proxy.url)
    resent = set(proxy.site_puts(bucket))
    feeds = {
        k
        for k, e in site.files().items()
        if "max-age=600" in dict(e.headers).get("Cache-Control", "")  # redirects: none
    }
    assert resent == {"news/" + k for k in feeds}
    head = _client(proxy.url).head_object(Bucket=bucket, Key="news/feeds/atom.xml")
    assert head["CacheControl"].startswith("public, max-age=600,")


@pytest.mark.slow
def test_an_edit_sends_only_the_objects_it_changed(site: Site, proxy: Proxy, bucket: str) -> None:
    site.deploy(f"s3://{bucket}", "--endpoint-url", proxy.url)
    before = site.files()
    path = site.seeds / "00044_story.txt"  # the newest: in the subscription feeds
    path.write_text(
        path.read_text(encoding="utf-8") + "\n\nA correction was added.", encoding="utf-8"
    )
    site.build()
    after = site.files()
    changed = {k for k, e in after.items() if k not in before or before[k].md5 != e.md5}
    proxy.requests.clear()
    result = site.deploy(f"s3://{bucket}", "--endpoint-url", proxy.url)
    sent = proxy.site_puts(bucket)
    assert sorted(sent) == sorted(changed)
    assert 0 < len(sent) < len(after) // 5, (len(sent), len(after))
    assert f"sent {len(changed)} objects" in result.output
    assert any(k.startswith("articles/") and k.endswith("/index.html") for k in sent)
    assert "feeds/atom.xml" in sent
    assert set(bucket_objects(proxy.url, bucket)) == set(after)


@pytest.mark.slow
def test_continuous_publishing_may_trust_the_last_deploys_record(
    site: Site, proxy: Proxy, bucket: str
) -> None:
    target = f"s3://{bucket}"
    first = deploy(site.out, target, endpoint_url=proxy.url, share=False)  # no record: lists
    assert first.verified
    assert first.sent == len(site.files())
    path = site.seeds / "00044_story.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n\nUpdated.", encoding="utf-8")
    before = site.files()
    site.build()
    changed = {k for k, e in site.files().items() if k not in before or before[k].md5 != e.md5}
    proxy.requests.clear()
    report = deploy(site.out, target, endpoint_url=proxy.url, share=False)
    assert {change.key for change in report.changes} == changed
    assert not [path for method, path in proxy.requests if "list-type=2" in path]  # no listing
    # What another hand changed is seen only by a deploy that checks the bucket.
    _client(proxy.url).delete_object(Bucket=bucket, Key="feeds.opml")
    assert deploy(site.out, target, endpoint_url=proxy.url, share=False).sent == 0
    repaired = deploy(site.out, target, endpoint_url=proxy.url, verify=True)
    assert [c.key for c in repaired.changes] == ["feeds.opml"]


@pytest.mark.slow
def test_objects_are_sent_in_the_order_of_publication(
    site: Site, proxy: Proxy, bucket: str
) -> None:
    site.deploy(f"s3://{bucket}", "--endpoint-url", proxy.url)
    files, moved = site.files(), read_redirects(site.out)
    order = [stage_of(files[k].path, redirect=k in moved) for k in proxy.site_puts(bucket)]
    assert order == sorted(order)
    # Removing an article: its objects are deleted after every other change was sent.
    (site.seeds / "00020_story.txt").unlink()
    for n in (30, 31):
        write_article(site.seeds, f"1{n}_new", "Sport", f"Sport story {n}", "Goal.")
    site.build()
    proxy.requests.clear()
    site.deploy(f"s3://{bucket}", "--endpoint-url", proxy.url)
    writes = proxy.writes()
    deletes = [
        i for i, (method, path) in enumerate(writes) if method == "POST" or method == "DELETE"
    ]
    object_puts = [
        i
        for i, (m, p) in enumerate(writes)
        if m == "PUT" and not p.split("?")[0].endswith(BOOKKEEPING)
    ]
    assert deletes
    assert object_puts
    assert max(object_puts) < min(deletes)
    files, moved = site.files(), read_redirects(site.out)
    order = [stage_of(files[k].path, redirect=k in moved) for k in proxy.site_puts(bucket)]
    assert order == sorted(order)
    stages = [stage_of(p) for p in ("/static/site.css", "/articles/x/card.1.png", "/articles/x/")]
    stages += [stage_of("/feeds/archive/1/atom.xml"), stage_of("/articles/x/", redirect=True)]
    stages += [stage_of(p) for p in ("/sections/sport/", "/feeds/atom.xml", "/feeds/")]
    stages += [stage_of(p) for p in ("/sitemap.xml", "/feeds.opml", "/robots.txt")]
    assert stages == sorted(stages)
    assert len(set(stages)) == len(stages)


SITE_LINK = re.compile(re.escape(SITE_URL) + r"(/[^\"'<>\s?#]*)")
# A tombstone names the URL of a removed article on purpose (the server answers it 410).
TOMBSTONE = re.compile(r"<at:deleted-entry\b.*?</at:deleted-entry>", re.DOTALL)


def assert_feeds_link_only_to_objects_there(endpoint: str, bucket: str) -> int:
    """Check every feed, OPML and sitemap in the bucket; return how many links were checked."""
    objects = bucket_objects(endpoint, bucket)
    client = _client(endpoint)
    checked = 0
    for key in objects:
        if not key.endswith(("atom.xml", "rss.xml", "feed.json", ".opml")) and "sitemap" not in key:
            continue
        text = client.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        if key.endswith(".json"):
            text = json.dumps(json.loads(text))  # unescape "\/"
        text = TOMBSTONE.sub("", text)
        for path in SITE_LINK.findall(text):
            assert file_name(path) in objects, f"{key} links to {path}, which is not there"
            checked += 1
    return checked


@pytest.mark.slow
def test_a_deploy_failing_midway_never_leaves_a_feed_linking_to_a_missing_object(
    site: Site, proxy: Proxy, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.deploy(f"s3://{bucket}", "--endpoint-url", proxy.url)
    assert assert_feeds_link_only_to_objects_there(proxy.url, bucket) > 100
    for n in range(8):  # new articles, one in a new section, and a rename
        section = "Sport" if n == 0 else "Science"
        write_article(site.seeds, f"2{n:04d}_new", section, f"Fresh story {n}", "Body.")
    write_article(site.seeds, "00001_story", "Business", "A new name for story one", "Text.")
    (site.seeds / "00002_story.txt").unlink()
    site.build()
    before = set(bucket_objects(proxy.url, bucket))
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # fail at once, not after retries
    for fail_after in (3, 25, 60):
        proxy.fail_after = proxy.puts + fail_after
        result = site.run(f"s3://{bucket}", "--endpoint-url", proxy.url)
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().splitlines() == [
            f"feedsvc: deploy to s3://{bucket}: ServiceUnavailable: down"
        ]
        assert before <= set(bucket_objects(proxy.url, bucket))  # nothing deleted yet
        assert assert_feeds_link_only_to_objects_there(proxy.url, bucket) > 100
    proxy.fail_after = None
    site.deploy(f"s3://{bucket}", "--endpoint-url", proxy.url)
    files = site.files()
    assert bucket_objects(proxy.url, bucket) == {k: e.md5 for k, e in files.items()}
    assert assert_feeds_link_only_to_objects_there(proxy.url, bucket) > 100


@pytest.mark.slow
@pytest.mark.e2e
def test_a_killed_deploy_is_completed_by_running_it_again(
    site: Site, proxy: Proxy, bucket: str
) -> None:
    files = site.files()
    proxy.delay = 0.05  # slow enough to be killed half-way
    process = subprocess.Popen(
        [sys.executable, "-c", FEEDSVC, "deploy", f"s3://{bucket}", "--endpoint-url", proxy.url],
        env={**os.environ, **site.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while proxy.puts < len(files) // 3:
            assert process.poll() is None, "the deploy ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
    proxy.delay = 0
    partial = bucket_objects(proxy.url, bucket)
    assert 0 < len(partial) < len(files)
    assert assert_feeds_link_only_to_objects_there(proxy.url, bucket) >= 0
    proxy.requests.clear()
    site.deploy(f"s3://{bucket}", "--endpoint-url", proxy.url)
    assert bucket_objects(proxy.url, bucket) == {k: e.md5 for k, e in files.items()}
    # What the killed deploy finished in its earlier stages was not sent again.
    assert len(proxy.site_puts(bucket)) < len(files)
    proxy.requests.clear()
    assert "sent 0 objects" in site.deploy(f"s3://{bucket}", "--endpoint-url", proxy.url).output
    assert proxy.writes() == []


@pytest.mark.slow
def test_deletions_above_the_limit_are_refused(site: Site, proxy: Proxy, bucket: str) -> None:
    site.deploy(f"s3://{bucket}", "--endpoint-url", proxy.url)
    for key in ("00011_story", "00012_story", "00013_story"):
        (site.seeds / f"{key}.txt").unlink()
    site.build()
    before = bucket_objects(proxy.url, bucket)
    proxy.requests.clear()
    result = site.run(f"s3://{bucket}", "--endpoint-url", proxy.url, "--max-deletes", "5")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert re.fullmatch(
        rf"feedsvc: deploy to s3://{bucket}: would delete (\d+) objects, more than --max-deletes 5;"
        r" nothing was sent \(check the target and the export, or allow it with --max-deletes \1\)",
        line,
    ), line
    assert proxy.writes() == []
    assert bucket_objects(proxy.url, bucket) == before
    dry = site.deploy(
        f"s3://{bucket}", "--endpoint-url", proxy.url, "--dry-run", "--max-deletes", "5"
    )
    assert "a deploy would refuse" in dry.output
    site.deploy(f"s3://{bucket}", "--endpoint-url", proxy.url, "--max-deletes", "100")
    assert set(bucket_objects(proxy.url, bucket)) == set(site.files())


@pytest.mark.slow
def test_dry_run_lists_what_would_change_and_changes_nothing(
    site: Site, proxy: Proxy, bucket: str
) -> None:
    result = site.deploy(f"s3://{bucket}/p", "--endpoint-url", proxy.url, "--dry-run")
    total, moved = len(site.files()), len(read_redirects(site.out))  # page numbers
    assert (
        f"dry run: s3://{bucket}/p would get {total} objects ({moved} redirects), delete 0"
        in result.output
    )
    lines = result.output.splitlines()
    assert lines[1].startswith("  put static/")  # assets come first
    assert f"  … and {total - moved - 20} more to put" in lines
    assert proxy.writes() == []
    assert bucket_objects(proxy.url, bucket) == {}


@pytest.mark.slow
def test_wrong_credentials_exit_2_with_one_line(site: Site, s3_server: str, bucket: str) -> None:
    def authenticate_after(requests: bytes) -> None:
        url = f"{s3_server}/moto-api/reset-auth"
        headers = {"Content-Type": "text/plain"}
        request = urllib.request.Request(url, data=requests, headers=headers, method="POST")
        urllib.request.urlopen(request, timeout=10).close()

    authenticate_after(b"0")  # moto checks every signature from now on
    try:
        result = site.run(f"s3://{bucket}", "--endpoint-url", s3_server)
    finally:
        authenticate_after(b"inf")
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"feedsvc: deploy to s3://{bucket}: the credentials were refused (")
    assert "InvalidAccessKeyId" in line


@pytest.mark.slow
def test_a_missing_bucket_exits_2_with_one_line(site: Site, s3_server: str) -> None:
    result = site.run("s3://no-such-bucket-here/news", "--endpoint-url", s3_server)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "feedsvc: deploy to s3://no-such-bucket-here/news: no such bucket"
    ]


@pytest.mark.slow
def test_an_unreachable_endpoint_exits_2_at_once(site: Site) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    result = site.run("s3://bucket", "--endpoint-url", endpoint, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"feedsvc: deploy to s3://bucket: cannot reach {endpoint}: could not connect"
    ]
    print(f"unreachable endpoint: exit 2 after {time.monotonic() - started:.1f} s")  # noqa: T201


@pytest.mark.slow
def test_the_endpoint_can_come_from_the_environment(
    site: Site, s3_server: str, bucket: str
) -> None:
    site.env["FEEDSVC_S3_ENDPOINT"] = s3_server
    result = site.deploy(f"s3://{bucket}")
    assert f"sent {len(site.files())} objects" in result.output


@pytest.mark.slow
def test_a_target_must_be_a_bucket_or_a_folder(site: Site) -> None:
    for target, reason in (
        ("ftp://host/x", "is neither s3://BUCKET[/PREFIX] nor a folder"),
        ("s3://", "is not s3://BUCKET or s3://BUCKET/PREFIX"),
        ("s3://bucket/../x", "is not s3://BUCKET or s3://BUCKET/PREFIX"),
    ):
        result = site.deploy(target, code=2)
        assert f"feedsvc: deploy to {target}: {reason}" in result.output
    site.env["FEEDSVC_EXPORT_DIR"] = str(site.out.parent / "nothing-here")
    result = site.deploy(str(site.out.parent / "folder"), code=2)
    assert "holds no export with a manifest (run `feedsvc build" in result.output


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    found = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            status = Path(dirpath, name).stat()
            found[Path(dirpath, name).relative_to(root).as_posix()] = (
                status.st_ino,
                status.st_mtime_ns,
            )
    return found


@pytest.mark.slow
def test_a_folder_target_gets_the_same_plan(site: Site, tmp_path: Path) -> None:
    site.build("--gzip")
    folder = tmp_path / "www"
    (folder / ".well-known").mkdir(parents=True)
    (folder / ".well-known" / "acme").write_text("token")
    (folder / "stale.html").write_text("left from before")
    (folder / ".index.html.feedsvc-part-1-2").write_text("a killed deploy's temporary file")
    result = site.deploy(str(folder))
    assert "deleted 1," in result.output
    exported = {k for k in _tree(site.out) if k != manifest.NAME}
    copied = set(_tree(folder)) - {*BOOKKEEPING, ".well-known/acme"}
    assert copied == exported  # the precompressed siblings and _nginx.conf too
    assert any(k.endswith(".xml.gz") for k in copied)
    for key in exported - {"_nginx.conf"}:
        assert (folder / key).read_bytes() == (site.out / key).read_bytes(), key
    conf = (folder / "_nginx.conf").read_text()
    assert f"    root {folder.resolve()};" in conf
    assert str(site.out) not in conf
    assert (folder / ".well-known" / "acme").read_text() == "token"
    before = _tree(folder)
    again = site.deploy(str(folder))
    assert "sent 0 objects (0 redirects), deleted 0" in again.output
    assert _tree(folder) == before  # not one file rewritten
    # An edit rewrites only the files whose bytes changed; a removal deletes its files.
    path = site.seeds / "00010_story.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n\nA correction.", encoding="utf-8")
    slug_folder = next(
        k.removesuffix("index.html")
        for k in site.files()
        if k.startswith("articles/story-20-") and k.endswith("/index.html") and "/embed/" not in k
    )
    (site.seeds / "00020_story.txt").unlink()
    old_export = {k: (site.out / k).read_bytes() for k in exported}
    site.build("--gzip")
    result = site.deploy(str(folder))
    after = _tree(folder)
    rewritten = {k for k in after if k in before and after[k] != before[k]}
    changed = {
        k
        for k in _tree(site.out)
        if k in old_export and k != manifest.NAME and (site.out / k).read_bytes() != old_export[k]
    }
    assert rewritten - set(BOOKKEEPING) == changed
    assert not (folder / slug_folder).exists()  # files deleted, folders left empty removed
    assert set(after) - {*BOOKKEEPING, ".well-known/acme"} == set(_tree(site.out)) - {manifest.NAME}


@pytest.mark.slow
def test_a_folder_target_cannot_be_the_export(site: Site) -> None:
    for target in (site.out, site.out / "sub", site.out.parent):
        result = site.deploy(str(target), code=2)
        assert "the export folder" in result.output


@pytest.mark.slow
def test_deploy_brings_the_export_up_to_date_first(site: Site, s3_server: str, bucket: str) -> None:
    site.build()
    site.deploy(f"s3://{bucket}", "--endpoint-url", s3_server)
    write_article(site.seeds, "zz_late", "Science", "Written before the deploy", "Body.")
    result = site.deploy(f"s3://{bucket}", "--endpoint-url", s3_server, build=True)
    assert "URLs rendered (incremental build)" in result.output
    key = "articles/written-before-the-deploy/index.html"
    body = _client(s3_server).get_object(Bucket=bucket, Key=key)["Body"].read()
    assert b"Written before the deploy" in body
