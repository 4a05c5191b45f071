"""The HTTP edge as a WSGI middleware, in front of a bare WSGI app (no Flask, no catalog), and
as the production server runs it."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import Client, EnvironBuilder, run_wsgi_app

from feedsvc.catalog import Catalog
from feedsvc.web.edge import AccessLog, HttpEdge, ResponseCache
from tests.conftest import run_ingest

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

BODY = b"<feed>" + b"<entry>news</entry>" * 50 + b"</feed>"


class App:
    """A WSGI app that counts what reaches it."""

    def __init__(self, cache_control: str = "public, max-age=300", status: str = "200 OK") -> None:
        self.cache_control = cache_control
        self.status = status
        self.seen: list[tuple[str, str]] = []

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        self.seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        start_response(
            self.status,
            [
                ("Content-Type", "application/atom+xml"),
                ("Cache-Control", self.cache_control),
                ("Last-Modified", "Fri, 01 Mar 2024 09:30:00 GMT"),
                ("Content-Length", str(len(BODY))),
            ],
        )
        return [BODY]


class Generations:
    """The catalog's state as the edge asks for it."""

    def __init__(self, value: int | None = 1) -> None:
        self.value = value
        self.asked = 0

    def __call__(self) -> int | None:
        self.asked += 1
        return self.value


def _edge(
    app: App,
    generation: Generations | None = None,
    *,
    check_interval: float = 0.0,
    access_log: AccessLog | None = None,
) -> HttpEdge:
    return HttpEdge(
        app,
        generation or Generations(),
        ResponseCache(1 << 20),
        check_interval=check_interval,
        access_log=access_log,
    )


def test_a_warm_request_never_reaches_the_app() -> None:
    app = App()
    client = Client(_edge(app))
    first = client.get("/feeds/atom.xml")
    for _ in range(3):
        again = client.get("/feeds/atom.xml")
        assert again.data == first.data == BODY
        assert again.headers["ETag"] == first.headers["ETag"]
    assert app.seen == [("GET", "/feeds/atom.xml")]
    gz = client.get("/feeds/atom.xml", headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(gz.data) == BODY
    assert app.seen == [("GET", "/feeds/atom.xml")]


def test_the_edge_owns_length_etag_and_vary() -> None:
    response = Client(_edge(App())).get("/feeds/atom.xml", headers={"Accept-Encoding": "br"})
    names = [name for name, _ in response.headers]
    assert names == [
        "Content-Type",
        "Cache-Control",
        "Last-Modified",
        "ETag",
        "Vary",
        "X-Content-Type-Options",
        "Content-Encoding",
        "Content-Length",
    ]
    assert response.headers["Content-Length"] == str(len(response.data))


def test_revalidation_from_the_cache() -> None:
    client = Client(_edge(App()))
    etag = client.get("/x").headers["ETag"]
    not_modified = client.get("/x", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.data == b""
    assert [name for name, _ in not_modified.headers] == [
        "Cache-Control",
        "Last-Modified",
        "ETag",
        "Vary",
    ]
    since = client.get("/x", headers={"If-Modified-Since": "Fri, 01 Mar 2024 09:30:00 GMT"})
    assert since.status_code == 304


def test_query_strings_always_reach_the_app() -> None:
    app = App()
    client = Client(_edge(app))
    client.get("/oembed?url=a")
    client.get("/oembed?url=a")
    assert len(app.seen) == 2


def test_responses_that_are_not_public_200s_pass_through() -> None:
    for app in (App(cache_control="no-store"), App(status="404 NOT FOUND")):
        client = Client(_edge(app))
        first = client.get("/healthz")
        client.get("/healthz")
        assert len(app.seen) == 2
        assert "ETag" not in first.headers
        assert first.headers["X-Content-Type-Options"] == "nosniff"
        assert first.data == BODY


def test_head_on_a_cold_cache_renders_and_keeps_the_get() -> None:
    app = App()
    client = Client(_edge(app))
    head = client.head("/x")
    assert head.data == b""
    assert head.headers["Content-Length"] == str(len(BODY))
    assert client.get("/x").data == BODY
    assert app.seen == [("GET", "/x")]  # the HEAD miss asked for the GET; the GET was kept


def test_other_methods_reach_the_app_with_nosniff() -> None:
    app = App(status="405 METHOD NOT ALLOWED")
    response = Client(_edge(app)).post("/x")
    assert response.status_code == 405
    assert app.seen == [("POST", "/x")]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_nothing_is_kept_while_the_catalog_cannot_be_read() -> None:
    app = App()
    client = Client(_edge(app, Generations(None)))
    client.get("/x")
    client.get("/x")
    assert len(app.seen) == 2


def test_a_new_generation_renders_again() -> None:
    app = App()
    generations = Generations(1)
    client = Client(_edge(app, generations))
    client.get("/x")
    generations.value = 2
    client.get("/x")
    client.get("/x")
    assert len(app.seen) == 2


def test_the_catalog_state_is_asked_at_most_every_interval() -> None:
    generations = Generations(1)
    client = Client(_edge(App(), generations, check_interval=3600.0))
    for _ in range(5):
        client.get("/x")
    assert generations.asked == 1
    every = Generations(1)
    client = Client(_edge(App(), every))
    for _ in range(5):
        client.get("/x")
    assert every.asked == 5


def test_http11_without_host_gets_400_before_the_app() -> None:
    app = App()
    environ = EnvironBuilder(path="/x").get_environ()
    environ["HTTP_HOST"] = ""
    environ["SERVER_PROTOCOL"] = "HTTP/1.1"
    app_iter, status, headers = run_wsgi_app(_edge(app), environ, buffered=True)
    assert status == "400 Bad Request"
    assert headers["Cache-Control"] == "no-store"
    assert b"".join(app_iter).startswith(b"400 Bad Request")
    assert app.seen == []


def test_every_request_is_logged_with_its_status() -> None:
    stream = io.StringIO()
    log = AccessLog(stream)
    client = Client(_edge(App(), access_log=log))
    etag = client.get("/x").headers["ETag"]
    client.get("/x", headers={"If-None-Match": etag})  # the warm path
    client.head("/x")
    client.post("/x")
    log.flush()
    lines = stream.getvalue().splitlines()
    assert [line.split('" ')[1].split()[0] for line in lines] == ["200", "304", "200", "200"]
    assert [line.split('"')[1].split()[0] for line in lines] == ["GET", "GET", "HEAD", "POST"]


class NegotiatingApp:
    """A WSGI app that answers HTML or ActivityStreams JSON by the Accept header, as it says."""

    def __init__(self, vary: str = "Accept") -> None:
        self.vary = vary
        self.seen: list[str | None] = []

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        accept = environ.get("HTTP_ACCEPT")
        self.seen.append(accept)
        wants_json = "application/activity+json" in (accept or "")
        body = (b'{"type": "Article"}' if wants_json else b"<p>article</p>") * 40
        media_type = "application/activity+json" if wants_json else "text/html; charset=utf-8"
        start_response(
            "200 OK",
            [
                ("Content-Type", media_type),
                ("Cache-Control", "public, max-age=60"),
                ("Vary", self.vary),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]


def test_a_response_that_varies_on_accept_is_kept_per_accept_value() -> None:
    app = NegotiatingApp()
    client = Client(_edge(app))  # type: ignore[arg-type]
    json_accept = {"Accept": "application/activity+json"}
    html = client.get("/articles/a/")
    activity = client.get("/articles/a/", headers=json_accept)
    assert html.data.startswith(b"<p>")
    assert activity.data.startswith(b'{"type"')
    assert html.headers["Vary"] == activity.headers["Vary"] == "Accept, Accept-Encoding"
    assert html.headers["ETag"] != activity.headers["ETag"]
    for _ in range(3):  # warm: each answered with what the app rendered for that Accept
        assert client.get("/articles/a/").data == html.data
        assert client.get("/articles/a/", headers=json_accept).data == activity.data
        gz = client.get("/articles/a/", headers={**json_accept, "Accept-Encoding": "gzip"})
        assert gzip.decompress(gz.data) == activity.data
    assert app.seen == [None, "application/activity+json"]
    other = client.get("/articles/a/", headers={"Accept": "text/html"})  # another value: rendered
    assert other.data == html.data
    assert app.seen[-1] == "text/html"
    revalidated = client.get(
        "/articles/a/", headers={**json_accept, "If-None-Match": activity.headers["ETag"]}
    )
    assert revalidated.status_code == 304
    assert (
        client.get("/articles/a/", headers={"If-None-Match": activity.headers["ETag"]}).status_code
        == 200
    )
    assert len(app.seen) == 3


def test_vary_star_is_never_answered_from_the_cache() -> None:
    app = NegotiatingApp(vary="*")
    client = Client(_edge(app))  # type: ignore[arg-type]
    for _ in range(3):
        response = client.get("/x")
        assert response.headers["Vary"] == "*, Accept-Encoding"
    assert len(app.seen) == 3


def test_warm_answers_are_the_cold_ones_byte_for_byte() -> None:
    for accept_encoding in (None, "gzip", "br", "gzip, deflate, br", "identity"):
        headers = {"Accept-Encoding": accept_encoding} if accept_encoding else {}
        app = App()
        client = Client(_edge(app))
        cold = client.get("/x", headers=headers)
        warm = client.get("/x", headers=headers)
        assert app.seen == [("GET", "/x")]
        assert warm.data == cold.data
        assert list(warm.headers) == list(cold.headers)
        for method in ("HEAD", "GET"):
            fresh = Client(_edge(App()))
            cold_304 = fresh.open(
                "/x", method=method, headers={**headers, "If-None-Match": cold.headers["ETag"]}
            )
            warm_304 = client.open(
                "/x", method=method, headers={**headers, "If-None-Match": cold.headers["ETag"]}
            )
            assert cold_304.status_code == warm_304.status_code == 304
            assert list(warm_304.headers) == list(cold_304.headers)
        head = client.head("/x", headers=headers)
        assert head.data == b""
        assert list(head.headers) == list(cold.headers)
        assert app.seen == [("GET", "/x")]


def test_the_warm_path_keeps_the_400_for_a_missing_host() -> None:
    app = App()
    client = Client(_edge(app))
    client.get("/x")  # now cached
    environ = EnvironBuilder(path="/x").get_environ()
    environ["HTTP_HOST"] = ""
    environ["SERVER_PROTOCOL"] = "HTTP/1.1"
    _, status, _ = run_wsgi_app(client.application, environ, buffered=True)
    assert status == "400 Bad Request"
    environ["SERVER_PROTOCOL"] = "HTTP/1.0"  # HTTP/1.0 needs no Host
    _, status, _ = run_wsgi_app(client.application, environ, buffered=True)
    assert status == "200 OK"


def test_the_server_target_is_the_edge_of_the_app(
    seeds: Path, database: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What granian loads (`feedsvc serve`, the benchmarks): the edge itself, no Flask.__call__."""
    from feedsvc.service import server

    run_ingest(catalog, seeds)
    monkeypatch.setenv("FEEDSVC_SEEDS_DIR", str(seeds))
    monkeypatch.setenv("FEEDSVC_DATABASE", str(database))
    module, _, name = server.TARGET.partition(":")
    assert module == server.__name__
    application = getattr(server, name)()
    assert isinstance(application, HttpEdge)
    client = Client(application)
    first = client.get("/feeds/atom.xml", headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200
    assert gzip.decompress(first.data).startswith(b"<?xml")
    again = client.get(
        "/feeds/atom.xml",
        headers={"If-None-Match": first.headers["ETag"], "Accept-Encoding": "gzip"},
    )
    assert again.status_code == 304
    monkeypatch.setenv("FEEDSVC_TRUST_PROXY", "1")
    behind = getattr(server, name)()
    assert isinstance(behind, ProxyFix)
    assert isinstance(behind.app, HttpEdge)
