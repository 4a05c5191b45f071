"""The HTTP edge in front of Flask: validators, conditional GET, compression, response cache.

Every cacheable 200 response the app renders (it says so with a `public` Cache-Control) gets a
strong ETag from its bytes, `Vary: Accept-Encoding`, a gzip and a brotli body made once per
version, and answers `If-None-Match` / `If-Modified-Since` with 304. Responses to query-less GET
and HEAD requests are kept per worker, keyed by path and the catalog's generation, and answered
from here without reaching Flask: the cache holds what the app rendered, a miss falls through to
the app, so there is one rendering path.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from functools import lru_cache
from itertools import islice
from time import monotonic, perf_counter
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

import brotli
from werkzeug.test import run_wsgi_app

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# Headers the edge owns: it sets them from the body it holds.
_OWN = frozenset({"content-length", "etag", "content-encoding", "vary"})
_COMPRESSIBLE = re.compile(r"^(text/|application/(.*\+)?(xml|json)|image/svg\+xml)")
_MIN_COMPRESS = 256
# Not werkzeug's parse_etags: a Python loop per tag (6x slower on 64 KiB of junk) that cannot
# stop after _MAX_TAGS. No leading \s*: on a run of spaces it costs quadratic time.
_ENTITY_TAG = re.compile(r'(?:W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')
# 1,000 of our ~45-byte tags fit in 64 KiB (a cache sends one per variant it holds); a scan of
# 64 KiB costs about 1.5 ms. Tags past either bound are ignored.
_MAX_TAGS, _MAX_TAGS_HEADER = 1000, 65_536
# What a 304 repeats of the 200 it stands for (RFC 9110 §15.4.5, plus what clients read).
_NOT_MODIFIED = frozenset(
    {"cache-control", "etag", "vary", "last-modified", "link", "content-location"}
    | {"access-control-allow-origin", "access-control-expose-headers", "expires"}
)


def gzip_bytes(body: bytes) -> bytes:
    """Return `body` gzip-compressed, deterministically (no timestamp)."""
    return gzip.compress(body, compresslevel=9, mtime=0)


def brotli_bytes(body: bytes) -> bytes:
    """Return `body` brotli-compressed."""
    return bytes(brotli.compress(body, quality=11 if len(body) < 256 * 1024 else 9))


_ENCODERS: dict[str, Callable[[bytes], bytes]] = {"br": brotli_bytes, "gzip": gzip_bytes}


@lru_cache(maxsize=256)
def choose_encoding(accept_encoding: str) -> str | None:
    """Return 'br', 'gzip' or None (identity) for an Accept-Encoding header value."""
    weights: dict[str, float] = {}
    for part in accept_encoding.split(",")[:32]:
        coding, _, params = part.strip().partition(";")
        coding = coding.strip().lower()
        weight = 1.0
        match = re.match(r"\s*q\s*=\s*([0-9.]{1,5})\s*$", params)
        if params and match:
            try:
                weight = float(match.group(1))
            except ValueError:
                weight = 0.0
        elif params:
            continue
        weights[coding] = weight
    best, best_weight = None, 0.0
    for coding in ("br", "gzip"):
        weight = weights.get(coding, weights.get("*", 0.0))
        if weight > best_weight:
            best, best_weight = coding, weight
    return best


def parse_entity_tags(header: str) -> list[str] | None:
    """Return the opaque tags of an If-None-Match value (weak prefixes dropped); None for '*'."""
    if header.strip() == "*":
        return None
    tags = islice(_ENTITY_TAG.finditer(header, 0, _MAX_TAGS_HEADER), _MAX_TAGS)
    return [match.group(1) for match in tags]


@dataclass(frozen=True, slots=True)
class Variant:
    """One encoding of a representation, with everything sent for it worked out once."""

    body: bytes
    etag: str
    ok_headers: list[tuple[str, str]]  # for 200 (and HEAD)
    not_modified_headers: list[tuple[str, str]]  # for 304


@dataclass(slots=True)
class Representation:
    """A rendered 200 response; its encodings are made once each, on first demand."""

    headers: list[tuple[str, str]]
    body: bytes
    etag: str
    last_modified: int | None
    compressible: bool
    generation: int | None
    encoded: dict[str | None, Variant] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def size(self) -> int:
        """Return the bytes this entry holds."""
        return len(self.body) + sum(
            len(v.body) for key, v in self.encoded.items() if key is not None
        )

    def variant(self, encoding: str | None) -> Variant:
        """Return what to send for `encoding` (None: identity), making it on first use."""
        if not self.compressible:
            encoding = None
        found = self.encoded.get(encoding)
        if found is not None:
            return found
        with self._lock:
            found = self.encoded.get(encoding)
            if found is None:
                found = self.encoded[encoding] = self._make(encoding)
        return found

    def _make(self, encoding: str | None) -> Variant:
        if encoding is None:
            body, etag = self.body, f'"{self.etag}"'
        else:
            body, etag = _ENCODERS[encoding](self.body), f'"{self.etag}-{encoding}"'
        headers = [*self.headers, ("ETag", etag)]
        if self.compressible:
            headers.append(("Vary", "Accept-Encoding"))
        headers = _secure(headers)
        kept = [(name, value) for name, value in headers if name.lower() in _NOT_MODIFIED]
        if encoding is not None:
            headers.append(("Content-Encoding", encoding))
        headers.append(("Content-Length", str(len(body))))
        return Variant(body, etag, headers, kept)


def representation(
    headers: list[tuple[str, str]], body: bytes, generation: int | None
) -> Representation:
    """Wrap a rendered 200 response."""
    kept = [(name, value) for name, value in headers if name.lower() not in _OWN]
    media_type = next((v for n, v in kept if n.lower() == "content-type"), "")
    last_modified = None
    for name, value in kept:
        if name.lower() == "last-modified":
            try:
                last_modified = int(parsedate_to_datetime(value).timestamp())
            except (TypeError, ValueError):
                last_modified = None
    return Representation(
        headers=kept,
        body=body,
        etag=hashlib.sha256(body).hexdigest()[:32],
        last_modified=last_modified,
        compressible=bool(_COMPRESSIBLE.match(media_type)) and len(body) >= _MIN_COMPRESS,
        generation=generation,
    )


def not_modified(environ: WSGIEnvironment, etag: str, last_modified: int | None) -> bool:
    """Return whether the request's validators say the client's copy is current."""
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        tags = parse_entity_tags(if_none_match)
        return tags is None or etag in tags  # weak comparison: W/ was dropped
    if_modified_since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if if_modified_since and last_modified is not None:
        try:
            since = parsedate_to_datetime(if_modified_since[:64])
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        if since.tzinfo is None:
            return False
        return last_modified <= since.timestamp()
    return False


class ResponseCache:
    """Per-worker LRU of representations, bounded in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, Representation] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str, generation: int) -> Representation | None:
        """Return the entry for `key` if it was made at `generation`."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.generation != generation:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: Representation) -> None:
        """Keep `entry`, dropping the least recently used ones beyond the byte budget."""
        with self._lock:
            if key in self._entries:
                self._drop(key)
            if entry.size * 4 > self.max_bytes:
                return  # room for its compressed bodies too, or not worth keeping
            self._entries[key] = entry
            self._bytes += entry.size
            while self._bytes > self.max_bytes and self._entries:
                self._drop(next(iter(self._entries)))

    def grew(self, entry: Representation, before: int) -> None:
        """Account for compressed bodies added to a kept entry."""
        with self._lock:
            self._bytes += entry.size - before

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size

    def __len__(self) -> int:
        return len(self._entries)


class AccessLog:
    """One line per request, written and flushed at once: a tenth of the cost of the server's
    own access log, which goes through Python's logging for every request."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._second = -1
        self._stamp = ""

    def write(self, environ: WSGIEnvironment, status: str, seconds: float) -> None:
        """Log one request: time, client, request line, status, milliseconds spent."""
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S +0000", time.gmtime(now))
        path = environ.get("PATH_INFO", "")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        # As sent: control characters and spaces stay percent-encoded, so a line is one line.
        shown = quote(path[:2048], safe="/:@!$&'()*+,;=-._~?%", encoding="latin-1")
        method = quote(environ.get("REQUEST_METHOD", "-")[:16], safe="")
        self.stream.write(
            f"[{self._stamp}] {environ.get('REMOTE_ADDR', '-')} - "
            f'"{method} {shown} {environ.get("SERVER_PROTOCOL", "HTTP/1.1")}" '
            f"{status[:3]} {seconds * 1000:.3f}\n"
        )
        self.stream.flush()


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
        log = self.access_log
        if log is None:
            return self._serve(environ, start_response)
        started = perf_counter()
        statuses: list[str] = []

        def logged(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, headers, exc_info)

        result = self._serve(environ, logged)
        log.write(environ, statuses[-1] if statuses else "500", perf_counter() - started)
        return result

    def _serve(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        # RFC 9112 §3.2: a MUST, which granian leaves to the app (it passes a missing Host as '').
        if not environ.get("HTTP_HOST") and environ.get("SERVER_PROTOCOL") == "HTTP/1.1":
            return _no_host(method, start_response)
        if method not in ("GET", "HEAD"):
            return self._plain(environ, start_response)
        key = environ.get("PATH_INFO", "")
        storable = not environ.get("QUERY_STRING")
        generation = self._state() if storable else None
        if storable and generation is not None:
            entry = self.cache.get(key, generation)
            if entry is not None:
                return self._send(environ, start_response, entry, cached=True)
        # A HEAD miss renders the GET response, so the entry and its validators are whole.
        rendered = {**environ, "REQUEST_METHOD": "GET"} if method == "HEAD" else environ
        app_iter, status, headers = run_wsgi_app(self.app, rendered, buffered=True)
        header_list = list(headers.to_wsgi_list())
        if not status.startswith("200 ") or not _public(header_list):
            start_response(status, _secure(header_list))
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
            self.cache.put(key, entry)
        return self._send(environ, start_response, entry, cached=False)

    def _plain(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def secured(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, _secure(headers), exc_info)

        return self.app(environ, secured)

    def _send(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        entry: Representation,
        *,
        cached: bool,
    ) -> list[bytes]:
        accept = environ.get("HTTP_ACCEPT_ENCODING")
        encoding = choose_encoding(accept[:1024]) if accept and entry.compressible else None
        if encoding in entry.encoded:
            variant = entry.encoded[encoding]
        else:
            before = entry.size
            variant = entry.variant(encoding)
            if cached:
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
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")]
    start_response("400 Bad Request", _secure([*headers, ("Content-Length", str(len(body)))]))
    return [] if method == "HEAD" else [body]


def _close(app_iter: Iterable[bytes]) -> None:
    close = getattr(app_iter, "close", None)
    if close is not None:
        close()


def _public(headers: list[tuple[str, str]]) -> bool:
    return any(n.lower() == "cache-control" and "public" in v for n, v in headers)


def _secure(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if not any(name.lower() == "x-content-type-options" for name, _ in headers):
        headers = [*headers, ("X-Content-Type-Options", "nosniff")]
    return headers
