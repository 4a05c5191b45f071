"""The HTTP edge in front of Flask: a WSGI middleware that answers from the response cache and
finishes cacheable responses.

Every cacheable 200 response the app renders (it says so with a `public` Cache-Control) gets a
strong ETag from its bytes, `Vary: Accept-Encoding`, a gzip and a brotli body made once per
version (representation.py), and answers `If-None-Match` / `If-Modified-Since` with 304
(conditional.py). Responses to query-less GET and HEAD requests are kept per worker
(response_cache.py), keyed by path, the values of the request headers the app's own Vary names
(Accept, say) and the catalog's generation, and answered from here without reaching Flask: the
cache holds what the app rendered, a miss falls through to the app, so there is one rendering
path. What is cacheable is decided in one place, `_serve`: a 200 with a `public` Cache-Control
to a query-less GET or HEAD; the warm path in `__call__` only answers what `_serve` kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from time import monotonic, perf_counter, time
from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import Headers, ResponseCacheControl
from werkzeug.http import parse_cache_control_header
from werkzeug.test import run_wsgi_app

from feedsvc.documents.headers import CACHE_CONTROL, with_nosniff
from feedsvc.web.access_log import AccessLog
from feedsvc.web.conditional import not_modified
from feedsvc.web.representation import Representation, representation
from feedsvc.web.response_cache import ResponseCache

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["AccessLog", "HttpEdge", "ResponseCache"]


class HttpEdge:
    """WSGI middleware answering from the response cache and finishing cacheable responses."""

    def __init__(
        self,
        app: WSGIApplication,
        generation: Callable[[], int | None],
        cache: ResponseCache,
        *,
        check_interval: float = 0.0,
        access_log: AccessLog | None = None,
    ) -> None:
        self.access_log = access_log
        self.app = app
        self.generation = generation
        self.cache = cache
        # The catalog's state is asked at most this often (seconds): each question is a call
        # into SQLite that releases the GIL. 0 asks on every request.
        self.check_interval = check_interval
        self._known: int | None = None
        self._checked = -1e9

    def _state(self) -> int | None:
        now = monotonic()
        if now - self._checked >= self.check_interval or self._known is None:
            self._known = self.generation()
            self._checked = now
        return self._known

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = perf_counter()
        method = environ.get("REQUEST_METHOD")
        # The warm path: a query-less GET or HEAD (with a Host, when HTTP/1.1 requires one) whose
        # representation is in the cache at the catalog's current state, rendered for a request
        # with the same values of the headers it varies on, and whose Accept-Encoding value has
        # chosen its variant before. Everything else takes the whole path (_serve).
        if (
            (method == "GET" or method == "HEAD")
            and not environ.get("QUERY_STRING")
            and (environ.get("HTTP_HOST") or environ.get("SERVER_PROTOCOL") != "HTTP/1.1")
        ):
            generation = self._state()
            path = environ.get("PATH_INFO", "")
            entry = None if generation is None else self.cache.get(path, generation, environ)
            if entry is not None:
                variant = entry.chosen.get(environ.get("HTTP_ACCEPT_ENCODING"))
                if variant is not None:
                    body: list[bytes]
                    if (
                        "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ
                    ) and (
                        environ.get("HTTP_IF_NONE_MATCH") == variant.etag
                        or not_modified(environ, variant.etag, entry.last_modified)
                    ):
                        start_response("304 Not Modified", variant.not_modified_headers)
                        status, body, sent = "304", [], 0
                    else:
                        start_response("200 OK", variant.ok_headers)
                        if method == "HEAD":
                            status, body, sent = "200", [], 0
                        else:
                            status, body, sent = "200", [variant.body], len(variant.body)
                    log = self.access_log
                    if log is not None:
                        log.record(
                            (
                                time(),
                                environ.get("REMOTE_ADDR", ""),
                                method,
                                path,
                                "",
                                environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                                status,
                                sent,
                                environ.get("HTTP_REFERER", ""),
                                environ.get("HTTP_USER_AGENT", ""),
                                perf_counter() - started,
                            )
                        )
                    return body
            asked = True
        else:
            asked = False
        log = self.access_log
        if log is None:
            return self._serve(environ, start_response, asked=asked)
        statuses: list[str] = []
        lengths: list[int] = []

        def logged(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            statuses.append(status)
            # The body's bytes as nginx's $body_bytes_sent (none to a HEAD), from the
            # Content-Length the answer says (a streamed one without it logs 0).
            length = next((v for k, v in headers if k.lower() == "content-length"), "0")
            lengths.append(int(length) if length.isdigit() and method != "HEAD" else 0)
            return start_response(status, headers, exc_info)

        result = self._serve(environ, logged, asked=asked)
        log.write(
            environ,
            statuses[-1] if statuses else "500",
            lengths[-1] if lengths else 0,
            perf_counter() - started,
        )
        return result

    def _serve(
        self, environ: WSGIEnvironment, start_response: StartResponse, *, asked: bool = False
    ) -> Iterable[bytes]:
        """Answer from the cache or through the app; keep what is cacheable. `asked`: the
        catalog's state was just asked for this request."""
        method = environ.get("REQUEST_METHOD", "GET")
        # RFC 9112 §3.2: a MUST, which granian leaves to the app (it passes a missing Host as '').
        if not environ.get("HTTP_HOST") and environ.get("SERVER_PROTOCOL") == "HTTP/1.1":
            return _no_host(method, start_response)
        if method not in ("GET", "HEAD"):
            return self._plain(environ, start_response)
        key = environ.get("PATH_INFO", "")
        storable = not environ.get("QUERY_STRING")
        generation = (self._known if asked else self._state()) if storable else None
        if storable and generation is not None:
            entry = self.cache.get(key, generation, environ)
            if entry is not None:
                return self._send(environ, start_response, entry)
        # A HEAD miss renders the GET response, so the entry and its validators are whole.
        rendered = {**environ, "REQUEST_METHOD": "GET"} if method == "HEAD" else environ
        app_iter, status, headers = run_wsgi_app(self.app, rendered, buffered=True)
        header_list = list(headers.to_wsgi_list())
        if not status.startswith("200 ") or not _public(headers):
            start_response(status, with_nosniff(header_list))
            if method == "HEAD":
                _close(app_iter)
                return []
            return app_iter
        try:
            body = b"".join(app_iter)
        finally:
            _close(app_iter)
        entry = representation(header_list, body, generation)
        if storable and generation is not None:
            self.cache.put(key, entry, rendered)
        return self._send(environ, start_response, entry)

    def _plain(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def secured(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, with_nosniff(headers), exc_info)

        return self.app(environ, secured)

    def _send(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        entry: Representation,
    ) -> list[bytes]:
        accept = environ.get("HTTP_ACCEPT_ENCODING")
        variant = entry.chosen.get(accept)
        if variant is None:
            before = entry.size
            variant = entry.for_accept(accept)
            if entry.size != before:
                self.cache.grew(entry, before)
        if (
            "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ
        ) and not_modified(environ, variant.etag, entry.last_modified):
            start_response("304 Not Modified", variant.not_modified_headers)
            return []
        start_response("200 OK", variant.ok_headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [variant.body]


def _no_host(method: str, start_response: StartResponse) -> list[bytes]:
    body = b"400 Bad Request: an HTTP/1.1 request must have a Host header.\n"
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Cache-Control", CACHE_CONTROL["no-store"]),
    ]
    start_response("400 Bad Request", with_nosniff([*headers, ("Content-Length", str(len(body)))]))
    return [] if method == "HEAD" else [body]


def _close(app_iter: Iterable[bytes]) -> None:
    close = getattr(app_iter, "close", None)
    if close is not None:
        close()


def _public(headers: Headers) -> bool:
    # werkzeug's parser (~6 µs against ~0.4 for a substring test) runs only when the app
    # renders, never on a warm request.
    return any(
        parse_cache_control_header(value, cls=ResponseCacheControl).public
        for value in headers.getlist("Cache-Control")
    )
