"""The representation model: a rendered 200 response and its encodings, each with what is sent
for it (200 and 304 headers, body, entity tag) worked out once."""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field

from werkzeug.http import parse_date, quote_etag

from feedsvc.documents.headers import with_nosniff
from feedsvc.web.negotiation import ENCODERS, choose_encoding

# Headers the edge owns: it sets them from the body it holds (Vary: it adds Accept-Encoding).
_OWN = frozenset({"content-length", "etag", "content-encoding", "vary"})
_COMPRESSIBLE = re.compile(r"^(text/|application/(.*\+)?(xml|json)|image/svg\+xml)")
_MIN_COMPRESS = 256
# What a 304 repeats of the 200 it stands for (RFC 9110 §15.4.5, plus what clients read).
_NOT_MODIFIED = frozenset(
    {"cache-control", "etag", "vary", "last-modified", "link", "content-location"}
    | {"access-control-allow-origin", "access-control-expose-headers", "expires"}
)
# Distinct Accept-Encoding values remembered per representation (each a dict entry).
_MAX_CHOSEN, _MAX_CHOSEN_VALUE = 32, 200
# Request headers whose WSGI keys have no HTTP_ prefix (PEP 3333).
_UNPREFIXED = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})


# Headers are plain WSGI lists, not werkzeug.datastructures.Headers: a warm request hands them to
# start_response as they are, where Headers.to_wsgi_list() would cost ~0.17 µs a request (+20% of
# the edge's ~0.8 µs). werkzeug's quote_etag and parse_date serve the once-per-version work.
@dataclass(frozen=True, slots=True)
class Variant:
    """One encoding of a representation, with everything sent for it worked out once."""

    body: bytes
    etag: str
    ok_headers: list[tuple[str, str]]  # for 200 (and HEAD)
    not_modified_headers: list[tuple[str, str]]  # for 304


@dataclass(slots=True)
class Representation:
    """A rendered 200 response; its encodings are made once each, on first demand.

    `vary` holds the WSGI keys of the request headers the app said it varies on (its own Vary
    field, Accept-Encoding aside, which the edge negotiates itself); None for `Vary: *`: such a
    response is never reused.
    """

    headers: list[tuple[str, str]]
    body: bytes
    etag: str
    last_modified: int | None
    compressible: bool
    generation: int | None
    vary: tuple[str, ...] | None = ()
    vary_header: str = ""
    encoded: dict[str | None, Variant] = field(default_factory=dict)
    # Accept-Encoding value as sent (None: absent) -> the variant it chose.
    chosen: dict[str | None, Variant] = field(default_factory=dict)
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

    def for_accept(self, accept_encoding: str | None) -> Variant:
        """Return the variant an Accept-Encoding value (None: absent) chooses, making it on first
        use; the choice is remembered per value, so a warm request costs one dict lookup."""
        encoding = (
            choose_encoding(accept_encoding[:1024])
            if accept_encoding and self.compressible
            else None
        )
        found = self.variant(encoding)
        if len(self.chosen) < _MAX_CHOSEN and len(accept_encoding or "") <= _MAX_CHOSEN_VALUE:
            self.chosen[accept_encoding] = found
        return found

    def _make(self, encoding: str | None) -> Variant:
        if encoding is None:
            body, etag = self.body, quote_etag(self.etag)
        else:
            body, etag = ENCODERS[encoding](self.body), quote_etag(f"{self.etag}-{encoding}")
        headers = [*self.headers, ("ETag", etag)]
        if self.vary_header:
            headers.append(("Vary", self.vary_header))
        headers = with_nosniff(headers)
        kept = [(name, value) for name, value in headers if name.lower() in _NOT_MODIFIED]
        if encoding is not None:
            headers.append(("Content-Encoding", encoding))
        headers.append(("Content-Length", str(len(body))))
        return Variant(body, etag, headers, kept)


def _vary(headers: list[tuple[str, str]]) -> tuple[list[str], tuple[str, ...] | None]:
    """Return the app's Vary field names (as written, Accept-Encoding aside, no repeats) and
    the WSGI keys of those request headers (None when one of them is '*')."""
    names: list[str] = []
    for name, value in headers:
        if name.lower() != "vary":
            continue
        for token in value.split(","):
            token = token.strip()
            folded = token.lower()
            if token and folded != "accept-encoding" and folded not in (n.lower() for n in names):
                names.append(token)
    if any(name == "*" for name in names):
        return names, None
    keys = []
    for name in names:
        key = name.upper().replace("-", "_")
        keys.append(key if key in _UNPREFIXED else f"HTTP_{key}")
    return names, tuple(keys)


def representation(
    headers: list[tuple[str, str]], body: bytes, generation: int | None
) -> Representation:
    """Wrap a rendered 200 response."""
    kept = [(name, value) for name, value in headers if name.lower() not in _OWN]
    media_type = next((v for n, v in kept if n.lower() == "content-type"), "")
    last_modified = None
    for name, value in kept:
        if name.lower() == "last-modified":
            # The app's own header, written by werkzeug's http_date: always GMT.
            moment = parse_date(value)
            last_modified = None if moment is None else int(moment.timestamp())
    compressible = bool(_COMPRESSIBLE.match(media_type)) and len(body) >= _MIN_COMPRESS
    names, keys = _vary(headers)
    if compressible:
        names.append("Accept-Encoding")
    return Representation(
        headers=kept,
        body=body,
        etag=hashlib.sha256(body).hexdigest()[:32],
        last_modified=last_modified,
        compressible=compressible,
        generation=generation,
        vary=keys,
        vary_header=", ".join(names),
    )
