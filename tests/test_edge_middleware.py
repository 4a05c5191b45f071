"""The HTTP edge as a WSGI middleware, in front of a bare WSGI app (no Flask, no catalog)."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.test import Client, EnvironBuilder, run_wsgi_app

from feedsvc.web.edge import AccessLog, HttpEdge, ResponseCache

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
    client = Client(_edge(App(), access_log=AccessLog(stream)))
    etag = client.get("/x").headers["ETag"]
    client.get("/x", headers={"If-None-Match": etag})
    lines = stream.getvalue().splitlines()
    assert [line.split('" ')[1].split()[0] for line in lines] == ["200", "304"]
