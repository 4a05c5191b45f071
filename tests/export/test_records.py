"""The records of kept files, remade only when their entry is another object."""

from __future__ import annotations

from feedsvc.export.manifest import Entry
from feedsvc.export.rendered import exported, records
from feedsvc.export.server_config import Exported


def _entry(content_type: str, cache: str) -> Entry:
    return Entry("", "d", 1, "m", content_type, (("Cache-Control", cache),))


def test_a_record_follows_its_entry_from_one_build_to_the_next() -> None:
    """A second build that keeps an entry object reuses its record; one whose entry changed (its
    type and headers) gets a record of the new entry, and a rendered file's record wins."""
    paths = ["/a/", "/b.xml", "/c.json"]
    first = {
        "/a/": _entry("text/html; charset=utf-8", "max-age=60"),
        "/b.xml": _entry("application/atom+xml; charset=utf-8", "max-age=60"),
        "/c.json": _entry("application/json", "max-age=60"),
    }
    before = records(paths, first, {})
    assert before == [exported(path, first[path]) for path in paths]
    second = dict(first)
    second["/b.xml"] = _entry("application/rss+xml; charset=utf-8", "max-age=300")
    rendered = {"/c.json": Exported("/c.json", "c.json", "application/json", "x", ())}
    after = records(paths, second, rendered)
    kept_a, kept_b = exported("/a/", first["/a/"]), exported("/b.xml", second["/b.xml"])
    assert after == [kept_a, kept_b, rendered["/c.json"]]
    assert after[0] is before[0]  # kept: the same record, not made again
    assert after[1].content_type == "application/rss+xml; charset=utf-8"
