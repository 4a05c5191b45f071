"""A clock that moved back (an NTP step, a restored VM) never moves what readers see back."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from feedsvc.catalog import Catalog, format_time, parse_time
from feedsvc.catalog.ingest import ingest
from tests.conftest import T0, write_article

IDENTITY = "tag:news.example.org,2024-03-01"


def dates(catalog: Catalog, key: str) -> tuple[str, str]:
    row = catalog.connection.execute(
        "SELECT published, updated FROM articles WHERE key = ?", (key,)
    ).fetchone()
    return row[0], row[1]


def test_after_the_clock_went_back_changes_still_move_forward(
    tmp_path: Path, catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    write_article(seeds, "first", "World", "First", "Body.")
    ingest(catalog, seeds, identity=IDENTITY, now=T0 + timedelta(hours=1))
    published, updated = dates(catalog, "first")
    changed = catalog.meta("changed")
    assert changed is not None

    write_article(seeds, "first", "World", "First", "Corrected.")
    write_article(seeds, "second", "World", "Second", "Body.")
    ingest(catalog, seeds, identity=IDENTITY, now=T0)  # the clock stepped back an hour

    new_published, new_updated = dates(catalog, "first")
    assert new_published == published
    assert new_updated > updated  # the edit moves Last-Modified forward
    assert dates(catalog, "second")[0] > published  # the new article lands on top
    assert (catalog.meta("changed") or "") > changed
    # The least a whole-second date can move: one second.
    assert parse_time(new_updated) - parse_time(updated) == timedelta(seconds=1)
    assert parse_time(dates(catalog, "second")[0]) == parse_time(new_updated) + timedelta(seconds=1)
    assert "the clock" in caplog.text
    assert "is behind the last change the catalog recorded" in caplog.text


def test_health_says_the_clock_is_behind_the_catalog(tmp_path: Path) -> None:
    from feedsvc.catalog.watch import CatalogState
    from feedsvc.config.settings import load_settings
    from feedsvc.health import health

    settings = load_settings(
        {"FEEDSVC_DATABASE": str(tmp_path / "c.sqlite3"), "FEEDSVC_RUN_DIR": str(tmp_path / "run")}
    )
    now = T0.timestamp()
    ahead = format_time(T0 + timedelta(minutes=30))  # the last change, by a clock now stepped back
    doc = health(settings, CatalogState("ok", changed=ahead), now=now)
    (warning,) = doc["warnings"]
    assert "clock" in warning
    assert "1800 s" in warning
    assert doc["status"] == "ok"  # serving and publishing work: no reason to take it out
    assert health(settings, CatalogState("ok", changed=format_time(T0)), now=now)["warnings"] == []
