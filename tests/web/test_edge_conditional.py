"""Conditional GET at the HTTP edge: entity-tag lists and dates, bounded against hostile input."""

from __future__ import annotations

from email.utils import format_datetime

import pytest

from feedsvc.web.conditional import not_modified, parse_entity_tags
from tests.conftest import T0

ETAG = '"0123456789abcdef0123456789abcdef-gzip"'
STAMP = int(T0.timestamp())


def test_parse_entity_tags() -> None:
    assert parse_entity_tags("*") is None
    assert parse_entity_tags('W/"a", "b" ,W/"c"') == ['"a"', '"b"', '"c"']
    assert parse_entity_tags('"unterminated') == []
    assert len(parse_entity_tags(", ".join(f'"{n}"' for n in range(2000))) or []) == 1000


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (" * ", None),
        ('""', ['""']),
        ('"a"', ['"a"']),
        ('"a",,"b"', ['"a"', '"b"']),
        ('"a" "b"', ['"b"']),  # no separator: only a tag followed by a comma or the end counts
        ("a, b", []),  # unquoted: not an entity tag
        ('"a b", "c"', ['"c"']),  # a space is not an entity-tag character
        ('w/"a"', ['"a"']),  # a lower-case prefix is not a weak one; the quoted tag still is
        (" " * 100_000, []),
        ("W/" + " \t" * 10 + '"x"', ['"x"']),
        ("W/" + " \t" * 50_000 + '"x"', []),  # the tag starts past 64 KiB
    ],
)
def test_parse_entity_tags_odd_lists(header: str, expected: list[str] | None) -> None:
    assert parse_entity_tags(header) == expected


def test_tags_past_64_kib_are_ignored() -> None:
    filler = ", ".join(f'"{n:080}"' for n in range(900))
    assert len(filler) > 65_536
    tags = parse_entity_tags(f"{filler}, {ETAG}")
    assert tags is not None
    assert ETAG not in tags
    assert len(tags) < 900


@pytest.mark.parametrize(
    "header",
    [ETAG, f"W/{ETAG}", f'"nope", {ETAG}', "*", f'W/"x",W/{ETAG}', f"{ETAG},"],
)
def test_if_none_match_uses_the_weak_comparison(header: str) -> None:
    assert not_modified({"HTTP_IF_NONE_MATCH": header}, ETAG, STAMP)


@pytest.mark.parametrize("header", ['"other"', "", '"unterminated', ETAG.strip('"'), ETAG[:-1]])
def test_if_none_match_without_our_tag(header: str) -> None:
    assert not not_modified({"HTTP_IF_NONE_MATCH": header}, ETAG, STAMP)


def test_if_none_match_decides_even_when_it_holds_no_valid_tag() -> None:
    later = format_datetime(T0.replace(year=2030), usegmt=True)
    environ = {"HTTP_IF_NONE_MATCH": "garbage", "HTTP_IF_MODIFIED_SINCE": later}
    assert not not_modified(environ, ETAG, STAMP)
    assert not_modified({"HTTP_IF_MODIFIED_SINCE": later}, ETAG, STAMP)


def test_if_modified_since() -> None:
    def since(value: str, last_modified: int | None = STAMP) -> bool:
        return not_modified({"HTTP_IF_MODIFIED_SINCE": value}, ETAG, last_modified)

    assert since(format_datetime(T0, usegmt=True))
    assert since(format_datetime(T0.replace(second=1), usegmt=True))
    assert not since(format_datetime(T0.replace(minute=29), usegmt=True))
    assert since("Fri, 01 Mar 2024 10:30:00 +0100")  # the same moment in another zone
    assert not since(format_datetime(T0, usegmt=True), last_modified=None)
    assert not since("")


@pytest.mark.parametrize(
    "value",
    [
        "Fri, 01 Mar 2024 09:30:00 -0000",  # no zone at all: not compared
        "yesterday",
        "Mon, 99 Foo 2024 99:99:99 GMT",
        "Sat, 01 Jan 99999 00:00:00 GMT",
        "Mon, 01 Jan 999999999999999999999 00:00:00 GMT",  # OverflowError, not a 500
        "-1",
        " " * 64 + "Fri, 01 Mar 2030 09:30:00 GMT",  # only the first 64 characters are read
        "x" * 5000,
    ],
)
def test_malformed_dates_are_ignored(value: str) -> None:
    assert not not_modified({"HTTP_IF_MODIFIED_SINCE": value}, ETAG, STAMP)


def test_no_validators_no_304() -> None:
    assert not not_modified({}, ETAG, STAMP)


def test_the_weak_prefix_needs_no_place_in_the_pattern() -> None:
    # The pattern finds tags from their opening quote; one that also consumed an optional W/
    # must find exactly the same tags (in random lists of the pieces that matter).
    import random
    import re
    from itertools import islice

    with_prefix = re.compile(r'(?:W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')
    pieces = ['"', "W", "/", ",", " ", "\t", "a", "\x00", "é", 'W/"', '",', '"x"', ", "]
    rng = random.Random(12)
    for _ in range(20_000):
        header = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 24)))
        if header.strip() == "*":
            continue
        expected = [m.group(1) for m in islice(with_prefix.finditer(header, 0, 65_536), 1000)]
        assert parse_entity_tags(header) == expected, header


def test_junk_without_quotes_gives_no_tags() -> None:
    for junk in ("a" * 100_000, "x, " * 30_000, "W/" * 40_000, "\x00" * 70_000):
        assert parse_entity_tags(junk) == []
