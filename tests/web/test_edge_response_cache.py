"""The per-worker response cache: an LRU of representations, bounded in bytes."""

from __future__ import annotations

import hashlib

from feedsvc.web.representation import Representation, representation
from feedsvc.web.response_cache import ResponseCache


def _entry(size: int, generation: int = 1, seed: str = "") -> Representation:
    # Bytes that do not compress: a compressed body costs about as much as the body.
    blocks = (hashlib.sha256(f"{seed}{n}".encode()).digest() for n in range(size // 32 + 1))
    return representation([("Content-Type", "text/plain")], b"".join(blocks)[:size], generation)


def test_cache_is_bounded_in_bytes() -> None:
    cache = ResponseCache(max_bytes=10_000)
    for n in range(20):
        cache.put(f"/{n}", representation([("Content-Type", "text/plain")], b"x" * 1000, 1))
    assert len(cache) <= 10
    assert cache.get("/19", 1) is not None
    assert cache.get("/0", 1) is None
    assert cache.get("/19", 2) is None  # another generation: gone


def test_least_recently_used_goes_first() -> None:
    cache = ResponseCache(max_bytes=3_000)
    for key in ("/a", "/b", "/c"):
        cache.put(key, _entry(700, seed=key))
    assert cache.get("/a", 1) is not None  # /a is now the most recently used
    cache.put("/d", _entry(700, seed="/d"))
    assert len(cache) == 4
    cache.put("/e", _entry(700, seed="/e"))
    assert cache.get("/b", 1) is None
    assert cache.get("/a", 1) is not None
    assert {key for key in ("/c", "/d", "/e") if cache.get(key, 1)} == {"/c", "/d", "/e"}


def test_a_new_generation_drops_the_entry() -> None:
    cache = ResponseCache(max_bytes=10_000)
    cache.put("/feeds/atom.xml", _entry(500, generation=3))
    assert cache.get("/feeds/atom.xml", 4) is None
    assert len(cache) == 0
    assert cache.get("/feeds/atom.xml", 3) is None  # dropped, not just hidden


def test_an_entry_needs_room_for_its_compressed_bodies() -> None:
    cache = ResponseCache(max_bytes=4_000)
    cache.put("/small", _entry(1_000))
    assert cache.get("/small", 1) is not None
    cache.put("/small", _entry(1_001))  # a new version that cannot be kept: the old one goes too
    assert cache.get("/small", 1) is None
    assert len(cache) == 0


def test_putting_a_key_again_replaces_it() -> None:
    cache = ResponseCache(max_bytes=10_000)
    first, second = _entry(500, seed="1"), _entry(500, seed="2")
    cache.put("/x", first)
    cache.put("/x", second)
    assert len(cache) == 1
    assert cache.get("/x", 1) is second


def test_compressed_bodies_count_against_the_budget() -> None:
    cache = ResponseCache(max_bytes=9_000)
    a, b = _entry(2_000, seed="a"), _entry(2_000, seed="b")
    cache.put("/a", a)
    cache.put("/b", b)
    before = a.size
    a.variant("gzip")
    a.variant("br")
    cache.grew(a, before)
    assert a.size > 3 * 2_000
    cache.put("/c", _entry(2_000, seed="c"))  # 6,000 bytes of bodies, but /a holds ~6,000 alone
    assert cache.get("/a", 1) is None
    assert cache.get("/b", 1) is not None
    assert cache.get("/c", 1) is not None


def test_clear() -> None:
    cache = ResponseCache(max_bytes=10_000)
    cache.put("/a", _entry(100))
    cache.clear()
    assert len(cache) == 0
    assert cache.get("/a", 1) is None
    for n in range(10):  # exactly the budget: the byte count started again from zero
        cache.put(f"/{n}", _entry(1_000, seed=str(n)))
    assert len(cache) == 10


def _varying(body: bytes, generation: int = 1) -> Representation:
    headers = [("Content-Type", "text/plain"), ("Vary", "Accept")]
    return representation(headers, body, generation)


def test_a_varying_path_keeps_one_entry_per_value_of_its_headers() -> None:
    cache = ResponseCache(max_bytes=100_000)
    html, activity = _varying(b"<p>x</p>"), _varying(b'{"x": 1}')
    cache.put("/a/", html, {"HTTP_ACCEPT": "text/html"})
    cache.put("/a/", activity, {"HTTP_ACCEPT": "application/activity+json"})
    assert len(cache) == 1  # one path
    assert cache.get("/a/", 1, {"HTTP_ACCEPT": "text/html"}) is html
    assert cache.get("/a/", 1, {"HTTP_ACCEPT": "application/activity+json"}) is activity
    assert cache.get("/a/", 1, {}) is None  # no Accept: another request, not answered for it
    assert cache.get("/a/", 1) is None  # nothing to compare: never a guess
    assert cache.get("/a/", 2, {"HTTP_ACCEPT": "text/html"}) is None  # a new state drops all
    assert len(cache) == 0


def test_a_varying_path_is_bounded_and_counted() -> None:
    from feedsvc.web.response_cache import MAX_PER_PATH

    cache = ResponseCache(max_bytes=1_000_000)
    for n in range(MAX_PER_PATH + 5):
        cache.put("/a/", _varying(b"x" * 100), {"HTTP_ACCEPT": f"type/{n}"})
    kept = [n for n in range(MAX_PER_PATH + 5) if cache.get("/a/", 1, {"HTTP_ACCEPT": f"type/{n}"})]
    assert kept == list(range(MAX_PER_PATH))
    assert cache._bytes == 100 * MAX_PER_PATH
    cache.put("/a/", _varying(b"y" * 100, generation=2), {"HTTP_ACCEPT": "type/0"})
    assert cache._bytes == 100  # the older state's entries went
    cache.put("/a/", representation([("Content-Type", "text/plain")], b"z" * 50, 2))
    assert cache._bytes == 50  # the app stopped varying: one plain entry


def test_vary_star_is_not_kept() -> None:
    cache = ResponseCache(max_bytes=100_000)
    entry = representation([("Content-Type", "text/plain"), ("Vary", "*")], b"x", 1)
    cache.put("/a", entry, {})
    assert len(cache) == 0


def test_growth_of_an_entry_no_longer_kept_is_not_counted() -> None:
    cache = ResponseCache(max_bytes=9_000)
    a = _entry(2_000, seed="a")
    cache.put("/a", a)
    cache.put("/a", _entry(2_000, seed="b"))  # replaces a
    before = a.size
    a.variant("gzip")
    cache.grew(a, before)
    assert cache._bytes == 2_000
