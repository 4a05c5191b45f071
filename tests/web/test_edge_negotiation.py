"""Content negotiation at the HTTP edge: which coding an Accept-Encoding header gets, and the
compressors behind the codings offered."""

from __future__ import annotations

import gzip

import brotli
import pytest

from feedsvc.support.compress import brotli_bytes, gzip_bytes
from feedsvc.web.negotiation import ENCODERS, choose_encoding


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", None),
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, br", "br"),
        ("br;q=0.5, gzip", "gzip"),
        ("gzip;q=0", None),
        ("*", "br"),
        ("*;q=0, gzip", "gzip"),
        ("identity", None),
        ("gzip;q=abc", None),
        ("br;q=1e308", None),
        (";;;;,,,", None),
        ("GZIP", "gzip"),
    ],
)
def test_choose_encoding(header: str, expected: str | None) -> None:
    assert choose_encoding(header) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # Where werkzeug's parse_accept_header would choose otherwise (kept as they were).
        ("br;q=.5", "br"),
        ("gzip;q=1.", "gzip"),
        ("br;q=1.5", "br"),
        ("br;q=0.50001", None),  # more than five characters of weight: the item is skipped
        ("gzip, gzip;q=0", None),  # the last weight of a repeated coding counts
        # Equal weights: brotli is preferred.
        ("gzip;q=0.5, br;q=0.5", "br"),
        ("br;q=0.4, gzip;q=0.6", "gzip"),
        ("gzip;q=0, *;q=0.1", "br"),
        (" gzip ; q = 0.8 ", "gzip"),
        ("gzip;level=9", None),  # a parameter other than q: the item is ignored
        ("deflate, compress", None),
    ],
)
def test_choose_encoding_edge_cases(header: str, expected: str | None) -> None:
    assert choose_encoding(header) == expected


def test_only_the_first_32_items_are_read() -> None:
    assert choose_encoding(", ".join(["x"] * 31 + ["gzip"])) == "gzip"
    assert choose_encoding(", ".join(["x"] * 32 + ["gzip"])) is None


def test_codings_offered_in_order_of_preference_and_round_trip() -> None:
    assert list(ENCODERS) == ["br", "gzip"]
    body = ("Zürich, 東京 & <São Paulo>\n" * 200).encode()
    assert gzip.decompress(ENCODERS["gzip"](body)) == body
    assert brotli.decompress(ENCODERS["br"](body)) == body
    assert len(ENCODERS["br"](body)) < len(ENCODERS["gzip"](body)) < len(body)


def test_compressed_bytes_are_deterministic() -> None:
    body = b"<feed>" + b"entry " * 500 + b"</feed>"
    assert gzip_bytes(body) == gzip_bytes(body)
    assert gzip_bytes(body)[4:8] == b"\0\0\0\0"  # no timestamp in the gzip header
    assert brotli_bytes(body) == brotli_bytes(body)
