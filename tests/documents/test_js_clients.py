"""JavaScript feed clients from npm (@extractus/feed-extractor and rss-parser, installed into
tests/js by .ci/run) read the same titles, links and an image for every entry."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from flask import Flask

from feedsvc.catalog import Catalog
from feedsvc.documents.feeds import build_atom, build_rss
from tests.conftest import SITE_URL, need

pytestmark = [pytest.mark.external]

JS = Path(__file__).parent.parent / "js"


def _read(files: list[Path]) -> list[dict[str, object]]:
    node = need("node")
    if not (JS / "node_modules" / "@extractus" / "feed-extractor").is_dir():
        if os.environ.get("CI"):
            pytest.fail("tests/js/node_modules is missing (.ci/run runs npm ci there)")
        pytest.skip("run `npm ci --prefix tests/js` first")
    done = subprocess.run(
        [node, str(JS / "read_feeds.mjs"), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: list[dict[str, object]] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("path", ["/feeds/", "/sections/science/"])
def test_js_parsers_read_titles_links_and_images(
    app: Flask, catalog: Catalog, tmp_path: Path, path: str
) -> None:
    client = app.test_client()
    files = []
    for filename in ("atom.xml", "rss.xml", "feed.json"):
        response = client.get(path + filename)
        assert response.status_code == 200
        files.append(tmp_path / filename)
        files[-1].write_bytes(response.data)
    section = None if path == "/feeds/" else "science"
    records = catalog.latest(20, section_slug=section)
    titles = [record.title for record in records]
    links = [SITE_URL + record.path for record in records]
    for result in _read(files):
        extractor = result["extractor"]
        assert isinstance(extractor, dict)
        assert extractor["link"] == SITE_URL + path.replace("/feeds/", "/")
        entries = extractor["entries"]
        assert [entry["title"] for entry in entries] == titles, result["file"]
        assert [entry["link"] for entry in entries] == links, result["file"]
        for entry in entries:
            assert str(entry["image"]).startswith(SITE_URL + "/"), (result["file"], entry)
        parsed = result.get("rssParser")
        if parsed is None:
            continue
        assert isinstance(parsed, dict)
        assert [item["title"] for item in parsed["entries"]] == titles
        if str(result["file"]).endswith("rss.xml"):  # rss-parser reads no Atom icon/logo
            assert str(parsed["image"]).startswith(SITE_URL + "/icons/"), "the channel image"
            for item in parsed["entries"]:
                assert item["enclosure"], item
                assert item["media"] == item["enclosure"], item


# Titles and summaries with "&" and "<" as people write them (the plain text of the article).
TEXTS = [
    ("Zoë Brontë & Søren Kierkegaard", "Zoë Brontë & Søren: R&D for all, x < y."),
    ("R&D budget", "R&D spending rose; Q&A at noon."),
    ("Use <b> for bold & <i> for italics", "Plain & simple."),
]


def test_js_parsers_decode_ampersands_and_less_thans(tmp_path: Path) -> None:
    from tests.documents.test_feeds import info, record

    records = [
        record(n, title=title, paragraphs=(summary, "More."))
        for n, (title, summary) in enumerate(TEXTS, start=1)
    ]
    files = []
    for name, build in (("atom.xml", build_atom), ("rss.xml", build_rss)):
        files.append(tmp_path / name)
        files[-1].write_bytes(build(info(name), records))
    for result in _read(files):
        extractor = result["extractor"]
        assert isinstance(extractor, dict)
        entries = extractor["entries"]
        assert [entry["title"] for entry in entries] == [t for t, _ in TEXTS], result["file"]
        # (The extractor reads every summary as HTML and strips what looks like a tag once
        # decoded: "x < y && y > z" loses "< y && y >" whatever the escaping.)
        assert [entry["description"] for entry in entries] == [s for _, s in TEXTS], result["file"]
        # What the XML parser leaves in the entry, which code reading raw fields shows as is.
        assert entries[0]["rawTitle"] == TEXTS[0][0], result["file"]
        assert entries[1]["rawTitle"] == TEXTS[1][0], result["file"]
        parsed = result["rssParser"]
        assert isinstance(parsed, dict)
        assert [item["title"] for item in parsed["entries"]] == [t for t, _ in TEXTS]
