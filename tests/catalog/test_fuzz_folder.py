"""Generated article folders: whatever the files hold, every good one is published, every bad
one is rejected with a code and a reason, and no URL answers 5xx (Hypothesis, bounded)."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedsvc.catalog import open_catalog
from feedsvc.catalog.ingest import ingest
from feedsvc.web.app import create_app
from tests.conftest import T0

IDENTITY = "tag:news.example.org,2024-03-01"
# Text as people paste it: any printable character, markup, entities, other scripts.
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=80,
).map(lambda text: " ".join(text.split()) or "x")
EDGE_DATES = st.sampled_from(
    [
        "0999-12-31",
        "1000-01-01",
        "1969-12-31T23:59:59Z",
        "1970-01-01",
        "2024-02-29T12:00:00+14:00",
        "2024-03-01T09:30:00-12:00",
        "9999-12-31T23:59:59Z",
        "not a date",
        "2024-13-01",
    ]
)


# Entries that are no regular file: a link to itself, a FIFO, a folder, a dangling link.
SPECIAL = {
    b"<loop>": lambda path: path.symlink_to(path.name),
    b"<fifo>": lambda path: os.mkfifo(path),
    b"<folder>": lambda path: path.mkdir(),
    b"<dangling>": lambda path: path.symlink_to("nowhere.txt"),
}


@st.composite
def article_file(draw: st.DrawFn) -> bytes:
    """Return the bytes of one file: mostly articles, some with front matter, some broken,
    some no file at all (SPECIAL)."""
    kind = draw(st.sampled_from(["plain", "front", "bytes", "empty", "crlf", "special"]))
    if kind == "special":
        return draw(st.sampled_from(sorted(SPECIAL)))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "empty":
        return draw(st.sampled_from([b"", b"\n\n", b"   ", b"\xef\xbb\xbf"]))
    section, title = draw(TEXT), draw(TEXT)
    paragraphs = draw(st.lists(TEXT, min_size=0, max_size=4))
    body = "\n\n".join([section, title, *paragraphs])
    if kind == "front":
        lines = ["---"]
        if draw(st.booleans()):
            lines.append(f"date: {draw(EDGE_DATES)}")
        if draw(st.booleans()):
            lines.append(f"updated: {draw(EDGE_DATES)}")
        if draw(st.booleans()):
            tags = draw(st.lists(TEXT, max_size=25))
            lines.append("tags: [" + ", ".join(f'"{tag}"' for tag in tags) + "]")
        if draw(st.booleans()):
            lines.append(f"summary: {draw(TEXT)!r}")
        lines.append("---")
        body = "\n".join(lines) + "\n" + body
    if kind == "crlf":
        body = body.replace("\n", "\r\n")
    return body.encode("utf-8")


@pytest.mark.slow
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(files=st.lists(article_file(), min_size=1, max_size=8))
def test_any_folder_publishes_the_good_rejects_the_bad_and_never_fails(files: list[bytes]) -> None:
    work = Path(tempfile.mkdtemp(prefix="feedsvc-fuzz-"))
    try:
        seeds = work / "seeds"
        seeds.mkdir()
        for number, data in enumerate(files):
            path = seeds / f"{number:03d}.txt"
            if data in SPECIAL:
                SPECIAL[data](path)
            else:
                path.write_bytes(data)
        database = work / "catalog.sqlite3"
        catalog = open_catalog(database, create=True)
        try:
            report = ingest(catalog, seeds, identity=IDENTITY, now=T0)
            rows = catalog.connection.execute(
                "SELECT key, slug, published, updated FROM articles"
            ).fetchall()
        finally:
            catalog.close()
        rejected = {Path(item.path).name.removesuffix(".txt") for item in report.rejected}
        # Every file is judged: published or rejected with a code and a reason, never both.
        assert set(report.added) | rejected == {f"{n:03d}" for n in range(len(files))}
        assert not set(report.added) & rejected
        assert all(item.code and item.reason for item in report.rejected)
        for _key, _slug, published, updated in rows:
            assert published <= updated
            assert datetime.fromisoformat(published).astimezone(UTC).year >= 1000
        app = create_app(
            {
                "SEEDS_DIR": seeds,
                "DATABASE": database,
                "SITE_URL": "https://news.example.org",
                "RUN_DIR": work / "run",
            }
        )
        client = app.test_client()
        paths = ["/", "/feeds/atom.xml", "/feeds/rss.xml", "/feeds/feed.json", "/sitemap.xml"]
        paths += [f"/articles/{slug}/" for _key, slug, _p, _u in rows]
        paths += [f"/articles/{slug}/oembed.json" for _key, slug, _p, _u in rows]
        for path in paths:
            answer = client.get(path)
            assert answer.status_code < 500, (path, answer.status_code)
            assert answer.status_code == 200, (path, answer.status_code)
    finally:
        shutil.rmtree(work, ignore_errors=True)
