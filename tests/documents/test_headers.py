"""The one table of headers (feedsvc/documents/headers.py), and the app sending what it says."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import get_args

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import Headers

from feedsvc.catalog import Catalog
from feedsvc.config.settings import load_settings
from feedsvc.documents import headers
from feedsvc.documents.headers import CACHE_CONTROL, HeaderPolicy
from tests.conftest import T0, run_ingest

SEED_SLUG = "iranian-top-diplomat-meets-syrian-counterpart-pm-in-damascus"
ORIGIN = "https://news.example.org"
POLICY = HeaderPolicy(ORIGIN, feed_max_age=300, page_max_age=60)
HTML_CSP = (
    "default-src 'none'; style-src 'self' https://news.example.org; "
    "img-src 'self' https://news.example.org data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


def test_every_kind_has_a_cache_control() -> None:
    kinds = get_args(headers.Kind)
    assert set(get_args(headers.DocumentKind)) < set(kinds)
    assert set(CACHE_CONTROL) == set(kinds)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("feed", "public, max-age=300, stale-while-revalidate=300, stale-if-error=86400"),
        ("page", "public, max-age=60, stale-while-revalidate=60, stale-if-error=86400"),
        ("immutable", "public, max-age=31536000, immutable"),
        ("asset", "public, max-age=3600"),
        ("redirect", "public, max-age=86400"),
        ("not-found", "public, max-age=60"),
        ("gone", "public, max-age=3600"),
        ("error", "no-store"),
        ("no-store", "no-store"),
    ],
)
def test_cache_control_per_kind(kind: headers.Kind, value: str) -> None:
    assert POLICY.cache_control(kind) == value


def test_lifetimes_come_from_the_settings() -> None:
    settings = load_settings(
        {}, {"SITE_URL": "https://example.org:8443/news/", "FEED_MAX_AGE": 7, "PAGE_MAX_AGE": 9}
    )
    policy = HeaderPolicy.of(settings)
    assert policy == HeaderPolicy("https://example.org:8443", 7, 9)
    assert policy.cache_control("feed") == (
        "public, max-age=7, stale-while-revalidate=7, stale-if-error=86400"
    )
    assert policy.cache_control("page").startswith("public, max-age=9, ")
    assert policy.cache_control("not-found") == "public, max-age=60"  # not the page lifetime


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (404, "not-found"),
        (410, "gone"),
        (400, "error"),
        (405, "error"),
        (500, "error"),
        (501, "error"),
        (503, "error"),
    ],
)
def test_error_kinds(status: int, kind: str) -> None:
    assert headers.error_kind(status) == kind


def test_html_policy() -> None:
    assert headers.html_csp(ORIGIN) == HTML_CSP
    assert "script-src" not in HTML_CSP
    assert headers.html_security(ORIGIN) == (
        ("Content-Security-Policy", HTML_CSP),
        ("X-Frame-Options", "DENY"),
    )


def test_embed_card_policy() -> None:
    assert headers.embed_csp("abc=") == (
        "default-src 'none'; style-src 'sha256-abc='; base-uri 'none'; "
        "form-action 'none'; frame-ancestors *"
    )


def test_headers_of_a_kind_and_media_type() -> None:
    assert POLICY.headers("feed", "application/atom+xml") == [
        ("Cache-Control", POLICY.cache_control("feed")),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    assert POLICY.headers("not-found", "text/html") == [
        ("Cache-Control", "public, max-age=60"),
        ("Content-Security-Policy", HTML_CSP),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("X-Content-Type-Options", "nosniff"),
    ]


def test_with_nosniff() -> None:
    sent = [("Content-Type", "text/plain")]
    assert headers.with_nosniff(sent) == [*sent, ("X-Content-Type-Options", "nosniff")]
    assert sent == [("Content-Type", "text/plain")]  # a new list: the caller's is left alone
    own = [("x-content-type-options", "nosniff"), ("Content-Type", "text/plain")]
    assert headers.with_nosniff(own) == own


def test_cors_values() -> None:
    assert dict(headers.CORS) == {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "ETag, Last-Modified, Link",
    }
    assert headers.ANY_ORIGIN in headers.CORS
    preflight = Headers()
    preflight.update(headers.CORS_PREFLIGHT)  # as werkzeug takes it, in order
    assert list(preflight) == [
        ("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS"),
        (
            "Access-Control-Allow-Headers",
            "Accept, Accept-Language, Cache-Control, If-Modified-Since, If-None-Match",
        ),
        ("Access-Control-Max-Age", "86400"),
    ]


def _sends(response_headers: Headers, expected: Iterable[tuple[str, str]]) -> None:
    for name, value in expected:
        assert response_headers.getlist(name) == [value], name


@pytest.mark.parametrize(
    ("path", "kind", "media_type"),
    [
        ("/feeds/atom.xml", "feed", "application/atom+xml"),
        ("/feeds.opml", "feed", "text/x-opml"),
        ("/robots.txt", "feed", "text/plain"),
        ("/", "page", "text/html"),
        (f"/articles/{SEED_SLUG}/", "page", "text/html"),
        ("/static/site.css", "asset", "text/css"),
        ("/articles/missing/", "not-found", "text/html"),
        ("/feeds/missing.xml", "not-found", "text/plain"),
        ("/healthz", "no-store", "application/json"),
    ],
)
def test_the_app_sends_the_policy(
    client: FlaskClient, app: Flask, path: str, kind: headers.Kind, media_type: str
) -> None:
    response = client.get(path)
    assert response.mimetype == media_type
    _sends(response.headers, HeaderPolicy.of(app.config["FEEDSVC"]).headers(kind, media_type))


def test_redirects_errors_and_withdrawn_articles(
    client: FlaskClient, catalog: Catalog, seeds: Path
) -> None:
    assert client.get("/page/1/").headers["Cache-Control"] == POLICY.cache_control("redirect")
    refused = client.post("/feeds/atom.xml")
    assert refused.status_code == 405
    _sends(refused.headers, POLICY.headers("error", "text/plain"))
    (seeds / "002_comet.txt").unlink()
    run_ingest(catalog, seeds, now=T0.replace(hour=12))
    gone = client.get("/articles/a-comet-returns/")
    assert gone.status_code == 410
    _sends(gone.headers, POLICY.headers("gone", "text/html"))


def test_cors_and_the_embed_card_use_the_table(client: FlaskClient) -> None:
    from feedsvc.web.embeds import EMBED_CSS

    _sends(client.get("/feeds/feed.json").headers, headers.CORS)
    preflight = client.options("/feeds/feed.json")
    _sends(preflight.headers, (*headers.CORS, *headers.CORS_PREFLIGHT.items()))
    assert "Access-Control-Allow-Origin" not in client.get("/").headers
    oembed = client.get(f"/articles/{SEED_SLUG}/oembed.json")
    _sends(oembed.headers, (headers.ANY_ORIGIN, ("Cache-Control", POLICY.cache_control("page"))))
    card = client.get(f"/articles/{SEED_SLUG}/embed/")
    digest = base64.b64encode(hashlib.sha256(str(EMBED_CSS).encode()).digest()).decode()
    assert card.headers["Content-Security-Policy"] == headers.embed_csp(digest)
    assert "X-Frame-Options" not in card.headers  # framable by any site
