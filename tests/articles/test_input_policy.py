"""Bad input never loses good data: a folder mixing good articles with every bad case."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from flask import Flask
from lxml import etree

from feedsvc.catalog import Catalog
from feedsvc.cli import EXIT_PROBLEMS, cli
from feedsvc.web.app import create_app
from tests.conftest import (
    SITE_URL,
    T0,
    article_text,
    feedsvc_command,
    run_ingest,
    without_root_powers,
)

GOOD = {
    "good_one": article_text("World News", "A good story", ["It is fine."]),
    "good two é": article_text("Économie", "Spaces and accents in the name", ["Still fine."]),
    "dup_a": article_text("Science", "Same title", ["First of two."]),
    "dup_b": article_text("Science", "Same title", ["Second of two."]),
    "html_text": article_text(
        "World News",
        "<script>alert('x')</script> & <b>bold</b>",
        ["<img src=x onerror=alert(1)> looks like HTML", "]]> and <![CDATA[ too"],
    ),
}
BAD: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "empty"),
    "blank": (b" \n\t\r\n  ", "empty"),
    "no_body": (b"World News\n\nOnly a title", "no-body"),
    "binary": (bytes(range(256)), "binary"),
    "latin1": ("World\n\nCaf\xe9\n\nBody".encode("latin-1"), "not-utf8"),
    "nul": (b"World\n\nTitle\x00\n\nBody", "binary"),
    "control": (b"World\n\nTitle\x1b[31m\n\nBody", "control-character"),
    "bidi": ("World\n\nInvoice \u202egnp.exe\n\nBody".encode(), "invisible-character"),
    "long_title": (b"World\n\n" + b"x" * 400 + b"\n\nBody", "title-too-long"),
    "huge": (b"World\n\nHuge\n\n" + b"word " * 220_000, "too-large"),
    "bad_front": (b"---\ndate: not-a-date\n---\nWorld\n\nT\n\nB", "front-matter"),
}
IGNORED = [".hidden.txt", "backup.txt~", ".#lock.txt", "#autosave.txt#", "notes.md", "x.txt.swp"]


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for key, text in GOOD.items():
        (folder / f"{key}.txt").write_text(text, encoding="utf-8")
    for key, (data, _code) in BAD.items():
        (folder / f"{key}.txt").write_bytes(data)
    for name in IGNORED:
        (folder / name).write_text("World\n\nIgnored\n\nBody", encoding="utf-8")
    sub = folder / "subfolder"
    sub.mkdir()
    (sub / "nested.txt").write_text("World\n\nNested\n\nNot read.", encoding="utf-8")
    (folder / "dir.txt").mkdir()  # a folder named like an article
    outside = tmp_path / "outside.txt"
    outside.write_text("World\n\nOutside\n\nSecret.", encoding="utf-8")
    (folder / "link_out.txt").symlink_to(outside)
    (folder / "link_in.txt").symlink_to(folder / "good_one.txt")
    (folder / "vanished.txt").symlink_to(folder / "deleted-meanwhile.txt")  # gone when read
    os.mkfifo(folder / "pipe.txt")  # never opened: reading it would block
    return folder


EXPECTED_REJECTED = {
    **{key: code for key, (_data, code) in BAD.items()},
    "dir": "not-a-file",
    "pipe": "not-a-file",
    "link_out": "symlink-outside",
    "vanished": "vanished",
}


def test_every_bad_file_is_reported_and_every_good_one_published(
    catalog: Catalog, mixed: Path, database: Path
) -> None:
    report = run_ingest(catalog, mixed)
    rejected = {Path(item.path).name.removesuffix(".txt"): item.code for item in report.rejected}
    assert rejected == EXPECTED_REJECTED
    assert all(item.hint for item in report.rejected)
    assert sorted(report.added) == sorted([*GOOD, "link_in"])
    titles = {r.title for r in catalog.latest(100)}
    assert "Nested" not in titles
    assert "Outside" not in titles
    assert "Ignored" not in titles
    slugs = sorted(r.slug for r in catalog.latest(100) if r.title == "Same title")
    assert slugs == ["same-title", "same-title-2"]
    spaced = next(r for r in catalog.latest(100) if r.key == "good two é")
    assert spaced.entry_id.endswith(":good%20two%20%C3%A9")


def test_check_lists_codes_reasons_and_hints(runner: CliRunner, mixed: Path) -> None:
    result = runner.invoke(cli, ["--seeds-dir", str(mixed), "check"])
    assert result.exit_code == EXIT_PROBLEMS
    for key, code in EXPECTED_REJECTED.items():
        assert f"{mixed / key}.txt: " in result.output
        assert f"[{code}]" in result.output
    assert result.output.count("    hint: ") == len(EXPECTED_REJECTED)
    assert (
        f"{len(GOOD) + len(BAD) + 5} files checked, {len(EXPECTED_REJECTED)} with problems"
        in result.output
    )


def test_unreadable_file(mixed: Path, tmp_path: Path) -> None:
    secret = mixed / "secret.txt"
    secret.write_text("World\n\nSecret\n\nBody", encoding="utf-8")
    secret.chmod(0o000)
    command = without_root_powers(
        [sys.executable, "-m", "feedsvc", "--seeds-dir", str(mixed), "check"]
    )
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert f"{secret}: Permission denied [unreadable]" in result.stdout, (
        result.stdout + result.stderr
    )


def test_nothing_forbidden_reaches_a_feed_and_html_stays_text(
    catalog: Catalog, mixed: Path, database: Path
) -> None:
    run_ingest(catalog, mixed)
    app: Flask = create_app({"SEEDS_DIR": mixed, "DATABASE": database, "SITE_URL": SITE_URL})
    client = app.test_client()
    for path in ("/feeds/atom.xml", "/feeds/rss.xml"):
        body = client.get(path).data
        etree.fromstring(body)  # well-formed: no control character got through
        parsed = feedparser.parse(body)
        assert not parsed.bozo
        assert b"<script>" not in body
        assert b"<img" not in body
    doc = json.loads(client.get("/feeds/feed.json").data)
    item = next(i for i in doc["items"] if "alert" in i["title"])
    assert item["title"] == "<script>alert('x')</script> & <b>bold</b>"
    assert "&lt;img src=x onerror=alert(1)&gt;" in item["content_html"]
    slug = item["url"].removeprefix(SITE_URL)
    page = client.get(slug).get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    embed = client.get(slug + "embed/").get_data(as_text=True)
    assert "<script>alert" not in embed
    oembed = client.get("/oembed", query_string={"url": item["url"]}).get_json()
    assert "<script>" not in oembed["html"]
    assert oembed["title"] == item["title"]


def test_a_file_breaking_later_keeps_its_last_good_version(catalog: Catalog, mixed: Path) -> None:
    run_ingest(catalog, mixed)
    (mixed / "good_one.txt").write_bytes(b"\x00broken now")
    report = run_ingest(catalog, mixed, now=T0.replace(hour=12))
    assert "good_one" not in report.removed
    assert catalog.lookup("a-good-story").record is not None


def test_a_permission_change_is_reported_when_seen(seeds: Path, tmp_path: Path) -> None:
    database = tmp_path / "perm.sqlite3"
    command = feedsvc_command(seeds, database, "ingest")
    env = {**os.environ, "FEEDSVC_SETTLE_MS": "0"}
    first = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert "added 3" in first.stdout, first.stderr
    target = seeds / "002_comet.txt"
    target.chmod(0o000)  # content and modification time unchanged
    try:
        second = subprocess.run(
            without_root_powers(command), capture_output=True, text=True, timeout=60, env=env
        )
    finally:
        target.chmod(0o644)
    assert f"{target}: Permission denied [unreadable]" in second.stderr, second.stdout
    assert "removed 0" in second.stdout  # still published with its last good version
