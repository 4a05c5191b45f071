"""HTTP done right at the edge: validators, 304s, HEAD, compression, caching, CORS, Link and
security headers, error bodies, and a list of hostile requests that must never give a 500."""

from __future__ import annotations

import gzip
import logging
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import brotli
import pytest
from flask import Flask, template_rendered
from flask.testing import FlaskClient
from lxml import html

from feedsvc.catalog import Catalog, CatalogWatch
from feedsvc.web.app import create_app
from feedsvc.web.response_cache import ResponseCache
from tests.conftest import SITE_URL, T0, run_ingest, write_article

SEED_SLUG = "iranian-top-diplomat-meets-syrian-counterpart-pm-in-damascus"
ROUTES = [
    "/",
    f"/articles/{SEED_SLUG}/",
    "/sections/science/",
    "/feeds/",
    "/feeds/atom.xml",
    "/feeds/rss.xml",
    "/feeds/feed.json",
    "/sections/science/rss.xml",
    "/feeds.opml",
    "/sitemap.xml",
    "/robots.txt",
    "/static/site.css",
    "/subscribe/",
]


def test_etag_is_strong_and_derived_from_the_bytes(app: Flask, seeds: Path, database: Path) -> None:
    first = app.test_client().get("/feeds/atom.xml")
    etag = first.headers["ETag"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    other = create_app(
        {"SEEDS_DIR": seeds, "DATABASE": database, "SITE_URL": SITE_URL, "SITE_TITLE": "Test News"}
    )
    assert other.test_client().get("/feeds/atom.xml").headers["ETag"] == etag
    changed = create_app({"SEEDS_DIR": seeds, "DATABASE": database, "SITE_URL": SITE_URL})
    assert changed.test_client().get("/feeds/atom.xml").headers["ETag"] != etag


def test_last_modified_is_the_newest_update_shown(client: FlaskClient, catalog: Catalog) -> None:
    newest = max(r.updated for r in catalog.latest(10))
    for path in ("/feeds/atom.xml", "/", "/feeds/feed.json"):
        stamp = parsedate_to_datetime(client.get(path).headers["Last-Modified"])
        assert stamp == newest.replace(microsecond=0)
    record = catalog.lookup(SEED_SLUG).record
    assert record is not None
    page = client.get(f"/articles/{SEED_SLUG}/")
    assert parsedate_to_datetime(page.headers["Last-Modified"]) == record.updated.replace(
        microsecond=0
    )


@pytest.mark.parametrize("path", ROUTES)
def test_every_route_revalidates_with_304(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    etag = response.headers["ETag"]
    for header in (etag, f"W/{etag}", f'"nope", {etag}', "*", f'W/"x",W/{etag}'):
        again = client.get(path, headers={"If-None-Match": header})
        assert again.status_code == 304, header
        assert again.data == b""
        assert again.headers["ETag"] == etag
        assert again.headers["Cache-Control"] == response.headers["Cache-Control"]
        assert again.headers.get("Vary") == response.headers.get("Vary")
        assert "Content-Length" not in again.headers or again.headers["Content-Length"] == "0"
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize("path", ROUTES)
def test_head_sends_the_get_headers_and_no_body(app: Flask, path: str) -> None:
    # A fresh app each time: HEAD on a cold cache must not store an empty body.
    client = app.test_client()
    head = client.head(path)
    get = client.get(path)
    assert head.status_code == get.status_code == 200
    assert head.data == b""
    for name in ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Cache-Control"):
        assert head.headers.get(name) == get.headers.get(name), name
    assert int(get.headers["Content-Length"]) == len(get.data) > 0


def test_if_modified_since(client: FlaskClient) -> None:
    last = client.get("/feeds/rss.xml").headers["Last-Modified"]
    moment = parsedate_to_datetime(last)
    assert client.get("/feeds/rss.xml", headers={"If-Modified-Since": last}).status_code == 304
    later = format_datetime(moment.replace(year=moment.year + 1), usegmt=True)
    assert client.get("/feeds/rss.xml", headers={"If-Modified-Since": later}).status_code == 304
    earlier = format_datetime(moment.replace(year=moment.year - 1), usegmt=True)
    assert client.get("/feeds/rss.xml", headers={"If-Modified-Since": earlier}).status_code == 200
    for nonsense in ("yesterday", "Mon, 99 Foo 2024 99:99:99 GMT", "0", "x" * 5000):
        assert (
            client.get("/feeds/rss.xml", headers={"If-Modified-Since": nonsense}).status_code == 200
        )


def test_if_none_match_wins_over_if_modified_since(client: FlaskClient) -> None:
    response = client.get("/feeds/atom.xml")
    headers = {"If-None-Match": '"stale"', "If-Modified-Since": response.headers["Last-Modified"]}
    assert client.get("/feeds/atom.xml", headers=headers).status_code == 200
    headers["If-None-Match"] = response.headers["ETag"]
    headers["If-Modified-Since"] = "Thu, 01 Jan 1970 00:00:00 GMT"
    assert client.get("/feeds/atom.xml", headers=headers).status_code == 304


def test_gzip_and_brotli_bodies_with_distinct_etags(client: FlaskClient) -> None:
    plain = client.get("/feeds/atom.xml")
    gz = client.get("/feeds/atom.xml", headers={"Accept-Encoding": "gzip"})
    br = client.get("/feeds/atom.xml", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert plain.headers.get("Content-Encoding") is None
    assert gz.headers["Content-Encoding"] == "gzip"
    assert br.headers["Content-Encoding"] == "br"
    assert gzip.decompress(gz.data) == plain.data
    assert brotli.decompress(br.data) == plain.data
    assert len(br.data) < len(gz.data) < len(plain.data)
    assert len({plain.headers["ETag"], gz.headers["ETag"], br.headers["ETag"]}) == 3
    assert {r.headers["Vary"] for r in (plain, gz, br)} == {"Accept-Encoding"}
    assert int(gz.headers["Content-Length"]) == len(gz.data)
    revalidated = client.get(
        "/feeds/atom.xml", headers={"Accept-Encoding": "gzip", "If-None-Match": gz.headers["ETag"]}
    )
    assert revalidated.status_code == 304
    assert revalidated.headers["ETag"] == gz.headers["ETag"]


def test_compressed_bodies_are_made_once_per_version(app: Flask) -> None:
    client = app.test_client()
    client.get("/feeds/atom.xml", headers={"Accept-Encoding": "gzip"})
    cache: ResponseCache = app.extensions["feedsvc.edge"].cache
    entry = cache.get("/feeds/atom.xml", app.extensions["feedsvc.catalog"].generation())
    assert entry is not None
    made = entry.encoded["gzip"]
    for _ in range(3):
        response = client.get("/feeds/atom.xml", headers={"Accept-Encoding": "gzip"})
        assert response.data == made.body
    assert entry.encoded["gzip"] is made  # the same compressed body, not a new one
    assert set(entry.encoded) == {"gzip"}


def test_cache_control_per_kind(app: Flask, catalog: Catalog, seeds: Path, database: Path) -> None:
    client = app.test_client()
    feed = client.get("/feeds/atom.xml").headers["Cache-Control"]
    assert feed == "public, max-age=300, stale-while-revalidate=300, stale-if-error=86400"
    assert client.get("/").headers["Cache-Control"].startswith("public, max-age=60,")
    css_url = html.fromstring(client.get("/").data).xpath("//link[@rel='stylesheet']/@href")[0]
    assert css_url.startswith(f"{SITE_URL}/static/site.")
    assert css_url != f"{SITE_URL}/static/site.css"
    css = client.get(css_url.removeprefix(SITE_URL))
    assert css.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert css.content_type == "text/css; charset=utf-8"
    assert client.get("/static/site.0123456789ab.css").status_code == 404
    assert client.get("/static/site.css").headers["Cache-Control"] == "public, max-age=3600"
    short = create_app(
        {"SEEDS_DIR": seeds, "DATABASE": database, "FEED_SIZE": 1, "FEED_MAX_AGE": 1}
    )
    short_client = short.test_client()
    assert (
        short_client.get("/feeds/rss.xml").headers["Cache-Control"].startswith("public, max-age=1,")
    )
    # Three articles in blocks of one: blocks 1-3 are full and immutable.
    assert short_client.get("/feeds/archive/1/rss.xml").headers["Cache-Control"] == (
        "public, max-age=31536000, immutable"
    )


def test_warm_request_runs_no_template_no_feedgen_and_no_sql(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedgen.feed import FeedGenerator

    client = app.test_client()
    for path in ROUTES:
        client.get(path)  # warm
    built: list[str] = []
    real = FeedGenerator.atom_str
    monkeypatch.setattr(
        FeedGenerator, "atom_str", lambda self, **kw: built.append("atom") or real(self, **kw)
    )
    statements: list[str] = []
    watch: CatalogWatch = app.extensions["feedsvc.catalog"]
    watch.catalog()._db.set_trace_callback(statements.append)
    rendered: list[str] = []

    def record(sender: object, template: object, **extra: object) -> None:
        rendered.append(str(template))

    template_rendered.connect(record, app)
    try:
        for path in ROUTES:
            assert client.get(path).status_code == 200
    finally:
        template_rendered.disconnect(record, app)
        watch.catalog()._db.set_trace_callback(None)
    assert built == []
    assert rendered == []
    assert set(statements) == {"PRAGMA data_version"}


def test_a_new_catalog_state_reaches_warm_workers(
    app: Flask, catalog: Catalog, seeds: Path
) -> None:
    client = app.test_client()
    before = client.get("/feeds/atom.xml")
    write_article(seeds, "003_new", "Science", "Brand new story", "Fresh.")
    run_ingest(catalog, seeds, now=T0.replace(hour=11))
    after = client.get("/feeds/atom.xml", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert b"Brand new story" in after.data
    assert after.headers["Last-Modified"] != before.headers["Last-Modified"]


def test_cors_on_feeds_opml_and_json_only(client: FlaskClient) -> None:
    for path in (
        "/feeds/atom.xml",
        "/feeds/feed.json",
        "/feeds.opml",
        "/sections/science/feed.json",
        "/feeds/archive/1/atom.xml",
    ):
        response = client.get(path)
        if response.status_code == 404:
            continue  # no archives in the small fixture
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Origin" not in client.get("/").headers
    preflight = client.options(
        "/feeds/feed.json",
        headers={
            "Origin": "https://reader.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]
    assert preflight.data == b""


def test_link_headers_on_feeds(client: FlaskClient) -> None:
    link = client.get("/sections/science/rss.xml").headers["Link"]
    assert f'<{SITE_URL}/sections/science/rss.xml>; rel="self"; type="application/rss+xml"' in link
    assert f'<{SITE_URL}/sections/science/>; rel="alternate"; type="text/html"' in link


@pytest.mark.parametrize(
    "path", ["/", f"/articles/{SEED_SLUG}/", "/feeds/", "/sections/science/", "/nowhere/"]
)
def test_security_headers_on_html(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src" not in csp
    assert "default-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    page = html.fromstring(response.data)
    # Only data blocks (JSON-LD), which never run and which CSP does not govern.
    assert {s.get("type") for s in page.xpath("//script")} <= {"application/ld+json"}
    assert page.xpath("//@style") == []


def test_error_bodies_html_for_pages_text_for_documents(
    client: FlaskClient, catalog: Catalog, seeds: Path
) -> None:
    page = client.get("/articles/missing/")
    assert (page.status_code, page.mimetype) == (404, "text/html")
    for path in (
        "/feeds/missing.xml",
        "/sections/none/atom.xml",
        "/sections/science/archive/9/feed.json",
    ):
        response = client.get(path)
        assert (response.status_code, response.mimetype) == (404, "text/plain"), path
        assert response.get_data(as_text=True).startswith("404 Not found")
    (seeds / "002_comet.txt").unlink()
    run_ingest(catalog, seeds, now=T0.replace(hour=12))
    gone = client.get("/articles/a-comet-returns/")
    assert (gone.status_code, gone.mimetype) == (410, "text/html")


def test_405_lists_allowed_methods(client: FlaskClient) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH", "PROPFIND", "FOO"):
        response = client.open("/feeds/atom.xml", method=method)
        assert response.status_code == 405, method
        assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


HOSTILE_PATHS = [
    "/" + "a" * 10_000,
    "/articles/" + "b" * 5000 + "/",
    "/articles/%00/",
    "/articles/x%00y/",
    "/feeds/%00.xml",
    "/articles/../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/static/../pyproject.toml",
    "/static/%2e%2e/__init__.py",
    "/static/..%2f..%2fpyproject.toml",
    "/articles/%ff%fe/",
    "/articles/%E2%80%AE%E2%80%8B/",
    "/sections/%F0%9F%92%A9/atom.xml",
    "/sections/%C0%AF/",
    "/feeds/archive/99999999999999999999999999/atom.xml",
    "/feeds/archive/-1/atom.xml",
    "/feeds/archive/0/atom.xml",
    "/feeds/archive/01/atom.xml",
    "/sitemaps/0.xml",
    "/sitemaps/99999999999999999999.xml",
    "/feeds/atom.xml?page=-1&x=%00",
    "//feeds//atom.xml",
    "/feeds/atom.xml/",
]


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_hostile_paths_never_give_a_500(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (200, 301, 308, 400, 404, 410), (path, response.status_code)
    assert b"Traceback" not in response.data


@pytest.mark.parametrize(
    "headers",
    [
        {"If-None-Match": "a" * 100_000},
        {"If-None-Match": " " * 100_000},  # quadratic for a regex starting with \s*
        {"If-None-Match": "W/" + " \t" * 50_000 + '"x"'},
        {"If-None-Match": '"unterminated'},
        {"If-None-Match": "W/"},
        {"If-None-Match": ",,,,"},
        {"If-None-Match": "\x00\x01"},
        {"If-Modified-Since": "Mon, 99 Foo 2024 99:99:99 GMT"},
        {"If-Modified-Since": "Sat, 01 Jan 99999 00:00:00 GMT"},
        {"If-Modified-Since": "-1"},
        {"Accept-Encoding": "gzip;q=" + "9" * 1000},
        {"Accept-Encoding": "x" * 100_000},
        {"Host": "evil.example"},
        {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "gopher"},
    ],
)
def test_hostile_headers_never_give_a_500(client: FlaskClient, headers: dict[str, str]) -> None:
    for path in ("/feeds/atom.xml", "/"):
        response = client.get(path, headers=headers)
        assert response.status_code == 200
        assert b"evil.example" not in response.data


def test_trust_proxy_setting(
    seeds: Path, database: Path, catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    run_ingest(catalog, seeds)
    forwarded = {"X-Forwarded-For": "203.0.113.7"}
    caplog.set_level(logging.INFO)
    plain = create_app({"SEEDS_DIR": seeds, "DATABASE": database})
    plain.test_client().post("/feeds/atom.xml", headers=forwarded)
    trusting = create_app({"SEEDS_DIR": seeds, "DATABASE": database, "TRUST_PROXY": "1"})
    trusting.test_client().post("/feeds/atom.xml", headers=forwarded)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("405 POST")]
    assert lines == [
        "405 POST /feeds/atom.xml from 127.0.0.1",
        "405 POST /feeds/atom.xml from 203.0.113.7",
    ]


EVIL_HOST = {
    "Host": "evil.example",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Proto": "gopher",
    "X-Forwarded-Prefix": "/evil",
}


@pytest.mark.parametrize("trust_proxy", ["0", "1"])
@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/feeds", "/feeds/"),
        ("/sections/science", "/sections/science/"),
        ("/feeds?x=1&y=%20z", "/feeds/?x=1&y=%20z"),
    ],
)
def test_slash_redirects_point_at_the_site_url_not_the_host_header(
    seeds: Path, database: Path, catalog: Catalog, trust_proxy: str, path: str, location: str
) -> None:
    run_ingest(catalog, seeds)
    settings = {"SEEDS_DIR": seeds, "DATABASE": database, "SITE_URL": SITE_URL}
    client = create_app({**settings, "TRUST_PROXY": trust_proxy}).test_client()
    for method in ("GET", "HEAD"):
        response = client.open(path, method=method, headers=EVIL_HOST)
        assert response.status_code == 308
        assert response.headers["Location"] == SITE_URL + location


def test_urls_built_by_flask_keep_the_site_path_prefix(
    seeds: Path, database: Path, catalog: Catalog
) -> None:
    from flask import url_for

    run_ingest(catalog, seeds)
    site = "https://example.org/news"
    app = create_app({"SEEDS_DIR": seeds, "DATABASE": database, "SITE_URL": site + "/"})
    response = app.test_client().get("/sections/science?page=2", headers=EVIL_HOST)
    assert response.headers["Location"] == f"{site}/sections/science/?page=2"
    with app.test_request_context("/", headers=EVIL_HOST):
        assert url_for("pages.feeds", _external=True) == f"{site}/feeds/"
        assert url_for("pages.feeds") == "/news/feeds/"
    with app.app_context():  # outside a request too
        assert url_for("pages.feeds", _external=True) == f"{site}/feeds/"


def _tags(count: int, width: int = 12) -> list[str]:
    return [f'"{n:0{width}}"' for n in range(count)]


def test_if_none_match_honours_long_lists(client: FlaskClient) -> None:
    etag = client.get("/feeds/atom.xml").headers["ETag"]
    for before in (150, 999):
        for tag in (etag, f"W/{etag}"):
            header = ", ".join([*_tags(before), tag])
            assert client.get("/feeds/atom.xml", headers={"If-None-Match": header}).status_code == (
                304
            ), (before, tag)
    # Beyond the bounds the rest is ignored: the 1,001st tag, or tags past 64 KiB.
    header = ", ".join([*_tags(1000), etag])
    assert client.get("/feeds/atom.xml", headers={"If-None-Match": header}).status_code == 200
    header = ", ".join([*_tags(900, width=80), etag])
    assert len(header) > 65_536
    assert client.get("/feeds/atom.xml", headers={"If-None-Match": header}).status_code == 200


def _without_host(
    app: Flask, protocol: str, method: str = "GET", host: str | None = None
) -> tuple[str, dict[str, str], bytes]:
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    environ = EnvironBuilder(path="/feeds/atom.xml", method=method).get_environ()
    del environ["HTTP_HOST"]
    if host is not None:
        environ["HTTP_HOST"] = host
    environ["SERVER_PROTOCOL"] = protocol
    app_iter, status, headers = run_wsgi_app(app, environ, buffered=True)
    return status, dict(headers), b"".join(app_iter)


def test_http11_request_without_host_gets_400(app: Flask) -> None:
    app.test_client().get("/feeds/atom.xml")  # warm: the answer must not come from the cache
    status, headers, body = _without_host(app, "HTTP/1.1")
    assert status == "400 Bad Request"
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert body.startswith(b"400 Bad Request:")
    assert headers["Content-Length"] == str(len(body))
    status, headers, body = _without_host(app, "HTTP/1.1", "HEAD")
    assert (status[:3], body) == ("400", b"")
    assert _without_host(app, "HTTP/1.1", "POST")[0][:3] == "400"
    assert _without_host(app, "HTTP/1.1", host="")[0][:3] == "400"  # granian's missing Host
    for protocol in ("HTTP/1.0", "HTTP/1"):  # HTTP/1.0 needs no Host; granian says "HTTP/1"
        assert _without_host(app, protocol)[0][:3] == "200"
        assert _without_host(app, protocol, host="")[0][:3] == "200"


def _raw(port: int, request: bytes) -> tuple[bytes, bytes]:
    import socket

    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return head, body


@pytest.mark.slow
@pytest.mark.e2e
def test_real_server_answers_400_to_http11_without_host(seeds: Path, tmp_path: Path) -> None:
    from tests.conftest import start_server, stop_server

    process, base = start_server(seeds, tmp_path, workers=1)
    port = int(base.rsplit(":", 1)[1])
    try:
        head, body = _raw(port, b"GET /feeds/atom.xml HTTP/1.1\r\nConnection: close\r\n\r\n")
        old_head, _ = _raw(port, b"GET /feeds/atom.xml HTTP/1.0\r\n\r\n")
    finally:
        code = stop_server(process)
    assert code == 0
    # granian lets the request through (it passes the missing Host as ''): feedsvc answers.
    assert head.startswith(b"HTTP/1.1 400 "), head
    assert b"\r\ncache-control: no-store" in head.lower()
    assert body.startswith(b"400 Bad Request:"), body[:200]
    assert old_head.startswith((b"HTTP/1.0 200 ", b"HTTP/1.1 200 ")), old_head


@pytest.mark.slow
@pytest.mark.parametrize("accept_encoding", [None, "gzip", "br", "gzip, deflate, br", "identity"])
def test_warm_answers_are_the_cold_ones(app: Flask, accept_encoding: str | None) -> None:
    """The warm path (answered before Flask) sends what the first, rendered answer sent."""
    headers = {"Accept-Encoding": accept_encoding} if accept_encoding else {}
    client = app.test_client()
    for path in ROUTES:
        cold = client.get(path, headers=headers)
        warm = client.get(path, headers=headers)
        assert warm.status_code == cold.status_code == 200, path
        assert warm.data == cold.data, path
        assert list(warm.headers) == list(cold.headers), path
        head = client.head(path, headers=headers)
        assert head.data == b""
        assert list(head.headers) == list(cold.headers), path
        for validators in (
            {"If-None-Match": cold.headers["ETag"]},
            {"If-Modified-Since": cold.headers.get("Last-Modified", "")},
        ):
            if not next(iter(validators.values())):
                continue
            fresh = create_app(settings=app.config["FEEDSVC"]).test_client()
            fresh_304 = fresh.get(path, headers={**headers, **validators})  # rendered, then 304
            warm_304 = client.get(path, headers={**headers, **validators})
            assert warm_304.status_code == fresh_304.status_code == 304, path
            assert list(warm_304.headers) == list(fresh_304.headers), path


def test_a_view_that_varies_on_accept_is_cached_per_accept(app: Flask) -> None:
    """A route negotiating on Accept (as ActivityPub pages do) says Vary: Accept; the edge then
    answers each request only with what the app rendered for the same Accept value."""
    from flask import Response, request

    from feedsvc.web import context

    calls: list[str | None] = []

    @app.get("/negotiated/")
    def negotiated() -> Response:
        accept = request.headers.get("Accept")
        calls.append(accept)
        activity = "application/activity+json" in (accept or "")
        body = '{"type": "Note"}' if activity else "<p>Note</p>"
        mimetype = "application/activity+json" if activity else "text/html"
        response = Response(body * 30, mimetype=mimetype)
        response.vary.add("Accept")
        return context.finish(response, "page")

    client = app.test_client()
    activity = {"Accept": "application/activity+json"}
    html = client.get("/negotiated/")
    json_doc = client.get("/negotiated/", headers=activity)
    assert html.mimetype == "text/html"
    assert json_doc.mimetype == "application/activity+json"
    assert html.headers["Vary"] == json_doc.headers["Vary"] == "Accept, Accept-Encoding"
    for _ in range(2):
        assert client.get("/negotiated/").data == html.data
        assert client.get("/negotiated/", headers=activity).data == json_doc.data
        again = client.get(
            "/negotiated/", headers={**activity, "If-None-Match": json_doc.headers["ETag"]}
        )
        assert again.status_code == 304
        assert (
            client.get(
                "/negotiated/", headers={"If-None-Match": json_doc.headers["ETag"]}
            ).status_code
            == 200
        )
    assert calls == [None, "application/activity+json"]


def test_post_and_other_methods_always_reach_the_app(app: Flask) -> None:
    """Only GET and HEAD are answered from the cache; a POST to a cached URL reaches Flask."""
    from flask import request

    posted: list[bytes] = []

    @app.route("/inbox/", methods=["GET", "POST"])
    def inbox() -> tuple[str, int, dict[str, str]]:
        if request.method == "POST":
            posted.append(request.get_data())
            return "accepted", 202, {}
        return "inbox", 200, {"Cache-Control": "public, max-age=60"}

    client = app.test_client()
    assert client.get("/inbox/").status_code == 200
    assert client.get("/inbox/").status_code == 200  # now cached
    for n in range(2):
        response = client.post("/inbox/", data=f"activity {n}")
        assert response.status_code == 202
        assert response.data == b"accepted"
    assert posted == [b"activity 0", b"activity 1"]
