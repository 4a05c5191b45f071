"""A clock that moved back (an NTP step, a restored VM) never moves what readers see back."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from feedsvc.catalog import Catalog, parse_time
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
    assert parse_time(new_updated) - parse_time(updated) < timedelta(seconds=1)
    assert "the clock" in caplog.text
    assert "is behind the last change the catalog recorded" in caplog.text
