"""One table of headers: the Cache-Control and security headers of every kind of response.

Framework-free, so that the server (web/context.py, web/__init__.py and the HTTP edge), and
later the static export's `_headers` file, the nginx configuration and object-storage metadata,
all read the same policy. What only the document knows (media type, ETag, Last-Modified, Vary,
Link) is not decided here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from feedsvc.config.settings import Settings

YEAR: Final = 31_536_000

# What a 200 document is: the app marks each one so (web/context.py `finish`).
DocumentKind = Literal["feed", "page", "immutable", "asset", "record"]
# Every kind of response the publication sends.
Kind = Literal[DocumentKind, "redirect", "not-found", "gone", "error", "no-store"]

# Cache-Control per kind: {feed_max_age} is FEEDSVC_FEED_MAX_AGE, {page_max_age} is
# FEEDSVC_PAGE_MAX_AGE.
CACHE_CONTROL: Final[Mapping[Kind, str]] = MappingProxyType(
    {
        # Feeds, OPML, sitemaps, robots.txt: readers poll; a day of stale copy beats an error.
        "feed": (
            "public, max-age={feed_max_age}, stale-while-revalidate={feed_max_age}, "
            "stale-if-error=86400"
        ),
        # HTML pages and oEmbed documents.
        "page": (
            "public, max-age={page_max_age}, stale-while-revalidate={page_max_age}, "
            "stale-if-error=86400"
        ),
        # Full archive blocks, fingerprinted assets, versioned preview cards: the URL changes.
        "immutable": f"public, max-age={YEAR}, immutable",
        # /static/<name> without a fingerprint.
        "asset": "public, max-age=3600",
        # The deployed record (/feedsvc-record.json), read by a builder just before it builds:
        # a copy older than the last deploy lacks its new articles, which the builder would then
        # give new ids. So a short life and no stale-while-revalidate; when the origin fails, a
        # stale copy still beats none.
        "record": "public, max-age=60, stale-if-error=86400",
        # 301 from an old slug (or /page/1/) to the current URL.
        "redirect": "public, max-age=86400",
        "not-found": "public, max-age=60",
        "gone": "public, max-age=3600",
        # Every other error (400, 405, 500, 503, ...): never kept.
        "error": "no-store",
        # Answers about this moment: /healthz, the 400 for a request without Host.
        "no-store": "no-store",
    }
)
_ERROR_KINDS: Final[Mapping[int, Kind]] = MappingProxyType({404: "not-found", 410: "gone"})

# The media type of the deployed record: plain JSON, for programs only.
RECORD_MEDIA_TYPE: Final = "application/json"

# Every response: the edge adds NOSNIFF to any response that lacks it, the app adds both.
REFERRER_POLICY: Final = ("Referrer-Policy", "strict-origin-when-cross-origin")
NOSNIFF: Final = ("X-Content-Type-Options", "nosniff")
EVERY_RESPONSE: Final = (REFERRER_POLICY, NOSNIFF)
# HTML pages may not be framed; the embed card is the one page that may (embed_csp).
FRAME_OPTIONS: Final = ("X-Frame-Options", "DENY")

# Feeds, archives, OPML, sitemaps and robots.txt may be read by pages on any origin.
ANY_ORIGIN: Final = ("Access-Control-Allow-Origin", "*")
CORS: Final = (ANY_ORIGIN, ("Access-Control-Expose-Headers", "ETag, Last-Modified, Link"))
# What an OPTIONS preflight to those documents is answered with, besides CORS (a 204).
CORS_PREFLIGHT: Final[Mapping[str, str]] = MappingProxyType(
    {
        "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
        "Access-Control-Allow-Headers": (
            "Accept, Accept-Language, Cache-Control, If-Modified-Since, If-None-Match"
        ),
        "Access-Control-Max-Age": "86400",
    }
)


def error_kind(status: int) -> Kind:
    """Return the kind of an error response with this status code."""
    return _ERROR_KINDS.get(status, "error")


def html_csp(origin: str) -> str:
    """Return the Content-Security-Policy of the site's HTML: no script, styles and images
    from the site only, never framed."""
    return (
        f"default-src 'none'; style-src 'self' {origin}; img-src 'self' {origin} data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def embed_csp(style_sha256: str) -> str:
    """Return the embed card's policy: only its one inline style (by base64 SHA-256), framable
    by any site."""
    return (
        f"default-src 'none'; style-src 'sha256-{style_sha256}'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors *"
    )


def html_security(origin: str) -> tuple[tuple[str, str], ...]:
    """Return the headers HTML gets beyond EVERY_RESPONSE."""
    return (("Content-Security-Policy", html_csp(origin)), FRAME_OPTIONS)


def with_nosniff(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Return `headers`, with NOSNIFF appended when no X-Content-Type-Options is there."""
    if not any(name.lower() == "x-content-type-options" for name, _ in headers):
        headers = [*headers, NOSNIFF]
    return headers


@dataclass(frozen=True, slots=True)
class HeaderPolicy:
    """The header policy of one site: lifetimes from its settings, the CSP from its origin."""

    origin: str
    feed_max_age: int
    page_max_age: int

    @classmethod
    def of(cls, settings: Settings) -> HeaderPolicy:
        """Return the policy the settings give."""
        return cls(settings.site.origin, settings.feed_max_age, settings.page_max_age)

    def cache_control(self, kind: Kind) -> str:
        """Return the Cache-Control value of a kind of response."""
        return CACHE_CONTROL[kind].format(
            feed_max_age=self.feed_max_age, page_max_age=self.page_max_age
        )

    def headers(self, kind: Kind, media_type: str) -> list[tuple[str, str]]:
        """Return what the policy sends with a response of this kind and media type (CORS,
        which depends on the URL, and the embed card's own CSP aside)."""
        html = html_security(self.origin) if media_type == "text/html" else ()
        return [("Cache-Control", self.cache_control(kind)), *html, *EVERY_RESPONSE]
