"""One article whose catalog row cannot be read (a damaged value: a bug, a hand edit, an old
version's data) is left out of every list and feed, reported once, and shown in health; every
other article is still published and nothing answers 5xx."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from feedsvc.catalog import Catalog
from feedsvc.catalog.watch import CatalogWatch
from feedsvc.config.settings import load_settings
from feedsvc.health import health
from feedsvc.web.app import create_app
from tests.conftest import SITE_URL, run_ingest


@pytest.mark.parametrize(
    ("column", "value"),
    [("published", "garbage"), ("updated", "2024-13-45T00:00:00Z"), ("tags", "[not json")],
)
def test_a_damaged_row_leaves_only_its_article_out(
    seeds: Path,
    database: Path,
    catalog: Catalog,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    column: str,
    value: str,
) -> None:
    run_ingest(catalog, seeds)
    with catalog.connection:
        catalog.connection.execute(
            f"UPDATE articles SET {column} = ? WHERE title = 'A comet returns'",
            (value,),
        )
    app = create_app(
        {"SEEDS_DIR": seeds, "DATABASE": database, "SITE_URL": SITE_URL, "RUN_DIR": tmp_path}
    )
    client = app.test_client()
    caplog.set_level(logging.ERROR)
    for path in (
        "/",
        "/feeds/atom.xml",
        "/feeds/rss.xml",
        "/feeds/feed.json",
        "/sitemap.xml",
        "/sections/science/",
        "/sections/science/atom.xml",
    ):
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        assert b"A comet returns" not in answer.data, path
    items = json.loads(client.get("/feeds/feed.json").data)["items"]
    assert len(items) == 2  # the others are all there
    page = client.get("/articles/a-comet-returns/")  # its own page says why, never a 500
    assert page.status_code == 503, page.status_code
    left_out = [r for r in caplog.records if "is left out of every page and feed" in r.message]
    assert len(left_out) == 1  # reported once, however many documents left it out
    settings = load_settings({"FEEDSVC_DATABASE": str(database), "FEEDSVC_RUN_DIR": str(tmp_path)})
    doc = health(settings, CatalogWatch(database).state())
    assert any("002_comet" in warning for warning in doc["warnings"]), doc["warnings"]
