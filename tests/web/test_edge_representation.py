"""The representation model: a rendered 200 response, its encodings and the headers of each."""

from __future__ import annotations

import gzip
import hashlib
import threading

import brotli
import pytest

from feedsvc.web.representation import Variant, representation

BODY = ("<feed>" + "<entry>Zürich &amp; 東京</entry>" * 40 + "</feed>").encode()
APP_HEADERS = [
    ("Content-Type", "application/atom+xml; charset=utf-8"),
    ("Content-Length", "999"),  # the edge's own: replaced
    ("ETag", '"from-the-app"'),
    ("Vary", "Cookie"),
    ("Cache-Control", "public, max-age=300"),
    ("Last-Modified", "Fri, 01 Mar 2024 09:30:00 GMT"),
    ("Link", '<https://news.example.org/feeds/atom.xml>; rel="self"'),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
]
DIGEST = hashlib.sha256(BODY).hexdigest()[:32]


def test_the_app_headers_the_edge_owns_are_dropped() -> None:
    entry = representation(APP_HEADERS, BODY, 7)
    assert [name for name, _ in entry.headers] == [
        "Content-Type",
        "Cache-Control",
        "Last-Modified",
        "Link",
        "X-Content-Type-Options",
        "Referrer-Policy",
    ]
    assert entry.etag == DIGEST
    assert entry.last_modified == 1709285400
    assert entry.compressible
    assert entry.generation == 7
    assert entry.encoded == {}
    assert entry.vary == ("HTTP_COOKIE",)  # the cache keys this entry on the request's Cookie


def test_identity_variant_headers_in_order() -> None:
    entry = representation(APP_HEADERS, BODY, 1)
    variant = entry.variant(None)
    assert variant.body == BODY
    assert variant.etag == f'"{DIGEST}"'
    assert variant.ok_headers == [
        ("Content-Type", "application/atom+xml; charset=utf-8"),
        ("Cache-Control", "public, max-age=300"),
        ("Last-Modified", "Fri, 01 Mar 2024 09:30:00 GMT"),
        ("Link", '<https://news.example.org/feeds/atom.xml>; rel="self"'),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("ETag", f'"{DIGEST}"'),
        ("Vary", "Cookie, Accept-Encoding"),  # the app's own, then the edge's
        ("Content-Length", str(len(BODY))),
    ]
    # A 304 repeats only what stands for the 200: no type, no length, no body headers.
    assert variant.not_modified_headers == [
        ("Cache-Control", "public, max-age=300"),
        ("Last-Modified", "Fri, 01 Mar 2024 09:30:00 GMT"),
        ("Link", '<https://news.example.org/feeds/atom.xml>; rel="self"'),
        ("ETag", f'"{DIGEST}"'),
        ("Vary", "Cookie, Accept-Encoding"),
    ]


@pytest.mark.parametrize(
    ("encoding", "decompress"), [("gzip", gzip.decompress), ("br", brotli.decompress)]
)
def test_compressed_variants(encoding: str, decompress: object) -> None:
    entry = representation(APP_HEADERS, BODY, 1)
    variant = entry.variant(encoding)
    assert callable(decompress)
    assert decompress(variant.body) == BODY
    assert variant.etag == f'"{DIGEST}-{encoding}"'
    assert variant.ok_headers[-3:] == [
        ("Vary", "Cookie, Accept-Encoding"),
        ("Content-Encoding", encoding),
        ("Content-Length", str(len(variant.body))),
    ]
    assert ("ETag", variant.etag) in variant.not_modified_headers
    assert all(name != "Content-Encoding" for name, _ in variant.not_modified_headers)
    assert entry.size == len(BODY) + len(variant.body)


def test_each_variant_is_made_once() -> None:
    entry = representation(APP_HEADERS, BODY, 1)
    made = entry.variant("br")
    assert entry.variant("br") is made
    assert set(entry.encoded) == {"br"}
    assert entry.size == len(BODY) + len(made.body)
    entry.variant(None)
    assert entry.size == len(BODY) + len(made.body)  # identity is the body it already holds


def test_concurrent_first_requests_make_one_variant() -> None:
    entry = representation(APP_HEADERS, BODY, 1)
    barrier = threading.Barrier(8)
    seen: list[Variant] = []

    def ask() -> None:
        barrier.wait()
        seen.append(entry.variant("gzip"))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8
    assert all(variant is seen[0] for variant in seen)


@pytest.mark.parametrize(
    ("media_type", "size", "compressible"),
    [
        ("text/html; charset=utf-8", 256, True),
        ("text/html; charset=utf-8", 255, False),  # too small to be worth it
        ("application/atom+xml", 1000, True),
        ("application/rss+xml", 1000, True),
        ("application/feed+json", 1000, True),
        ("application/json", 1000, True),
        ("application/xml", 1000, True),
        ("image/svg+xml", 1000, True),
        ("text/css", 1000, True),
        ("image/png", 1000, False),
        ("font/woff2", 1000, False),
        ("", 1000, False),
    ],
)
def test_what_is_compressible(media_type: str, size: int, compressible: bool) -> None:
    entry = representation([("Content-Type", media_type)], b"x" * size, 1)
    assert entry.compressible is compressible
    if not compressible:
        variant = entry.variant("br")  # asked for, but identity is what is sent
        assert variant.body == entry.body
        assert set(entry.encoded) == {None}
        assert all(name != "Vary" for name, _ in variant.ok_headers)


def test_nosniff_is_added_when_missing_and_never_twice() -> None:
    bare = representation([("Content-Type", "text/plain")], b"hello", 1).variant(None)
    assert bare.ok_headers == [
        ("Content-Type", "text/plain"),
        ("ETag", bare.etag),
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Length", "5"),
    ]
    sent = [("Content-Type", "text/plain"), ("x-content-type-options", "nosniff")]
    kept = representation(sent, b"hello", 1).variant(None)
    assert [name.lower() for name, _ in kept.ok_headers].count("x-content-type-options") == 1


@pytest.mark.parametrize("value", ["yesterday", "", "Mon, 99 Foo 2024 99:99:99 GMT"])
def test_an_unreadable_last_modified_is_no_validator(value: str) -> None:
    entry = representation([("Content-Type", "text/plain"), ("Last-Modified", value)], b"x", 1)
    assert entry.last_modified is None
    assert ("Last-Modified", value) in entry.variant(None).ok_headers  # sent as the app said


@pytest.mark.parametrize(
    ("fields", "header", "keys"),
    [
        ([], "Accept-Encoding", ()),
        (["Accept"], "Accept, Accept-Encoding", ("HTTP_ACCEPT",)),
        (["accept-encoding, Accept"], "Accept, Accept-Encoding", ("HTTP_ACCEPT",)),
        (
            ["Accept", "accept, Accept-Language"],
            "Accept, Accept-Language, Accept-Encoding",
            ("HTTP_ACCEPT", "HTTP_ACCEPT_LANGUAGE"),
        ),
        (["Content-Type"], "Content-Type, Accept-Encoding", ("CONTENT_TYPE",)),
        (["Accept, *"], "Accept, *, Accept-Encoding", None),
    ],
)
def test_the_apps_vary_is_kept_and_keys_the_cache(
    fields: list[str], header: str, keys: tuple[str, ...] | None
) -> None:
    sent = [("Content-Type", "text/html"), *(("Vary", value) for value in fields)]
    entry = representation(sent, b"x" * 300, 1)
    assert entry.vary == keys
    assert [v for n, v in entry.variant(None).ok_headers if n == "Vary"] == [header]
    small = representation(sent, b"x", 1)  # not compressible: only the app's own fields
    expected = header.removesuffix("Accept-Encoding").rstrip(", ")
    assert [v for n, v in small.variant(None).ok_headers if n == "Vary"] == (
        [expected] if expected else []
    )
