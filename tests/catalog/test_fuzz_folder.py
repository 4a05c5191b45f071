"""Generated article folders: whatever the files hold, every good one is published, every bad
one is rejected with a code and a reason, and no URL answers 5xx (Hypothesis, bounded)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from feedsvc.articles.seeds_folder import check_folder
from feedsvc.catalog import open_catalog
from feedsvc.catalog.ingest import ingest
from feedsvc.web.app import create_app
from tests.conftest import T0, start_server, stop_server
from tests.service.test_live import fetch

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


@pytest.mark.slow
@pytest.mark.e2e
def test_a_running_server_publishes_generated_folders_and_never_fails(tmp_path: Path) -> None:
    """Generated files, folder after folder, added to the folder of a real `feedsvc serve`: its
    writer judges each file within its budget, publishes exactly the good ones, and no page,
    feed or health check answers 5xx meanwhile. (Files stay: a file gone and one with its
    content added is a rename, which keeps the old file's id.)"""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    budget = 5
    env = {
        "FEEDSVC_SETTLE_MS": "200",
        "FEEDSVC_FILE_SECONDS": str(budget),
        "FEEDSVC_PUBLICATION_ID": "news.example.org,2024-03-01",  # ids that name the file
        "FEEDSVC_FEED_SIZE": "200",  # every article in the site's feed
    }
    process, base = start_server(seeds, tmp_path, env=env)
    examples = 0

    @settings(
        max_examples=12,
        deadline=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a failure waits: no shrinking
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(files=st.lists(article_file(), min_size=1, max_size=8))
    def one_folder(files: list[bytes]) -> None:
        nonlocal examples
        examples += 1
        past = time.time() - 60  # written a while ago: nothing to wait for but the writer
        for number, data in enumerate(files):
            path = seeds / f"e{examples:03d}_{number:03d}.txt"
            if data in SPECIAL:
                SPECIAL[data](path)
            else:
                path.write_bytes(data)
                os.utime(path, (past, past))
        good = set(check_folder(seeds, 1024 * 1024).keys)
        started = time.monotonic()

        def items() -> list[dict[str, str]]:
            status, body, _ = fetch(base + "/feeds/feed.json")
            assert status == 200, status
            found: list[dict[str, str]] = json.loads(body)["items"]
            return found

        def live() -> set[str]:
            return {unquote(item["id"].rsplit(":", 1)[1]) for item in items()}

        while live() != good:
            assert time.monotonic() - started < budget + 15, (sorted(live()), sorted(good))
            time.sleep(0.1)
        slugs = [
            urlparse(item["url"]).path
            for item in json.loads(fetch(base + "/feeds/feed.json")[1])["items"]
        ]
        paths = ["/", "/feeds/atom.xml", "/feeds/rss.xml", "/sitemap.xml", "/healthz", *slugs]
        for path in paths:
            status = fetch(base + path)[0]
            assert status < 500, (path, status)

    try:
        one_folder()
    finally:
        assert stop_server(process) == 0
    log = next(tmp_path.glob("server-*.log")).read_text()
    assert "Traceback" not in log
