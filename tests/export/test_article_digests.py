"""Article digests kept by a process between readings: only changed rows are read again, and
what comes out is what a process reading every row afresh computes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from feedsvc.catalog import Catalog
from feedsvc.export import article_digests
from feedsvc.export.fingerprints import fingerprints
from feedsvc.web.frozen import settings_of
from tests.conftest import T0, run_ingest, write_article


def _fresh(catalog: Catalog, app: Flask, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Return the fingerprints a new process would compute (nothing kept)."""
    with monkeypatch.context() as patch:
        patch.setattr(article_digests, "_LAST", ("", {}))
        patch.setattr(article_digests, "_PAGES", {})
        return fingerprints(catalog, settings_of(app))


def test_only_changed_rows_are_read_again_and_the_digests_are_a_fresh_readings(
    app: Flask,
    catalog: Catalog,
    seeds: Path,
    monkeypatch: pytest.MonkeyPatch,
    digested: list[str],
) -> None:
    settings = settings_of(app)
    monkeypatch.setattr(article_digests, "_LAST", ("", {}))
    before = fingerprints(catalog, settings)
    assert sorted(digested) == ["000_5633a81924f3da7a", "001_markets", "002_comet"]

    digested.clear()
    assert fingerprints(catalog, settings) == before
    assert digested == []  # nothing changed: nothing decoded or digested

    # An edit, a new article, a move to another section; then nothing but a new title.
    write_article(seeds, "002_comet", "Science", "A comet returns", "Seen again, brighter.")
    write_article(seeds, "003_bees", "Nature", "Bees are back", "They came back.")
    write_article(seeds, "001_markets", "Business", "Markets rally", "Prices rose.")
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=1))
    digested.clear()
    after = fingerprints(catalog, settings)
    assert sorted(digested) == ["001_markets", "002_comet", "003_bees"]
    assert after != before
    assert after == _fresh(catalog, app, monkeypatch)

    (seeds / "003_bees.txt").unlink()
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=2))
    digested.clear()
    gone = fingerprints(catalog, settings)
    assert digested == []  # a withdrawal changes lists and feeds, no article's own digests
    assert gone == _fresh(catalog, app, monkeypatch)
    assert not any("bees-are-back" in path for path in gone if "/embed/" in path)

    # Another article names the comet's section otherwise: the section's shown name, and so the
    # comet's page, change though the comet's own row did not.
    write_article(seeds, "004_moon", "SCIENCE", "The moon", "Still there.")
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=3))
    renamed = fingerprints(catalog, settings)
    assert renamed == _fresh(catalog, app, monkeypatch)
    [page] = [
        p
        for p in renamed
        if p.startswith("/articles/") and "comet" in p and p.count("/") == 3 and p[-1] == "/"
    ]
    assert renamed[page] != gone[page]


def test_when_most_rows_changed_they_are_read_whole_and_only_those_digested(
    app: Flask,
    catalog: Catalog,
    seeds: Path,
    monkeypatch: pytest.MonkeyPatch,
    digested: list[str],
) -> None:
    """Past a quarter of the catalog (and _FEW rows), the changed rows are not held whole at
    once: every row is read whole a row at a time; the unchanged are still not digested."""
    settings = settings_of(app)
    monkeypatch.setattr(article_digests, "_LAST", ("", {}))
    monkeypatch.setattr(article_digests, "_FEW", 0)
    fingerprints(catalog, settings)
    digested.clear()
    held: list[int] = []
    real_whole = catalog.whole_rows
    monkeypatch.setattr(catalog, "whole_rows", lambda keys: held.append(1) or real_whole(keys))
    write_article(seeds, "002_comet", "Science", "A comet returns", "Seen again, brighter.")
    write_article(seeds, "001_markets", "Business", "Markets rally", "Prices rose.")
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=1))
    after = fingerprints(catalog, settings)
    assert held == []  # two of three changed: not asked for by key
    assert sorted(digested) == ["001_markets", "002_comet"]
    assert after == _fresh(catalog, app, monkeypatch)
