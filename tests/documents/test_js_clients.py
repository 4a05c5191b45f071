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
