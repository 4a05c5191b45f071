"""A file gone for a moment (an editor that moves the original away, then writes the new one)
is an edit, never a withdrawal and a return: removals wait for the settle time too."""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from feedsvc.articles import settling
from feedsvc.articles.settling import Settle
from feedsvc.catalog import Catalog
from feedsvc.catalog.ingest import ingest
from tests.conftest import T0, write_article


class Clock:
    """time.monotonic for Settle, moved by the test; time.time stays real (file mtimes)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def settled_article(seeds: Path, key: str, body: str) -> None:
    path = write_article(seeds, key, "World", "Harbour reopens", body)
    past = time.time() - 3600  # written long ago: nothing to wait for
    os.utime(path, (past, past))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Settle's monotonic clock, moved by the test."""
    moved = Clock()
    fake = SimpleNamespace(monotonic=moved.monotonic, time=time.time)
    monkeypatch.setattr(settling, "time", fake)
    return moved


@pytest.fixture
def published(tmp_path: Path, catalog: Catalog) -> tuple[Path, Settle]:
    """Return a seeds folder whose one article is published, and the writer's Settle."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    settle = Settle(60)
    settled_article(seeds, "harbour", "First version.")
    assert ingest(catalog, seeds, now=T0, settle=settle).added == ("harbour",)
    return seeds, settle


def test_a_file_gone_for_less_than_the_settle_time_is_an_edit(
    clock: Clock, published: tuple[Path, Settle], catalog: Catalog
) -> None:
    seeds, settle = published
    (seeds / "harbour.txt").unlink()  # the editor moves the original away...
    clock.now += 1
    report = ingest(catalog, seeds, now=T0, settle=settle)
    assert report.removed == ()
    assert report.pending == ("harbour",)
    assert report.settle_in == pytest.approx(60)
    assert catalog.connection.execute("SELECT removed FROM articles").fetchone()[0] is None

    clock.now += 1.5  # ...and writes the new one a moment later
    settled_article(seeds, "harbour", "Second version.")
    report = ingest(catalog, seeds, now=T0, settle=settle)
    assert report.changed == ("harbour",)
    assert report.removed == ()


def test_a_file_gone_for_the_settle_time_is_withdrawn(
    clock: Clock, published: tuple[Path, Settle], catalog: Catalog
) -> None:
    seeds, settle = published
    (seeds / "harbour.txt").unlink()
    assert ingest(catalog, seeds, now=T0, settle=settle).pending == ("harbour",)
    clock.now += 60
    report = ingest(catalog, seeds, now=T0, settle=settle)
    assert report.removed == ("harbour",)
    assert report.pending == ()


def test_a_rename_is_seen_at_once(published: tuple[Path, Settle], catalog: Catalog) -> None:
    seeds, settle = published
    (seeds / "harbour.txt").rename(seeds / "harbour-2026.txt")
    report = ingest(catalog, seeds, now=T0, settle=settle)
    assert report.renamed == (("harbour", "harbour-2026"),)
    assert report.pending == ()
