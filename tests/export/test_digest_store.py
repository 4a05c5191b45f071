"""Article digests kept beside the export: a new process digests only the articles that changed
since, and builds exactly what a process digesting every article builds."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from feedsvc.catalog import Catalog
from feedsvc.export import article_digests
from feedsvc.export.builder import build
from feedsvc.export.digest_store import store_path
from tests.conftest import T0, run_ingest, write_article
from tests.export.test_incremental import contents


def _new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget what this process read, as a new `feedsvc build` starts."""
    monkeypatch.setattr(article_digests, "_LAST", ("", {}))
    monkeypatch.setattr(article_digests, "_PAGES", {})


def test_a_new_process_digests_only_what_changed_and_builds_the_same(
    app: Flask,
    tmp_path: Path,
    seeds: Path,
    catalog: Catalog,
    digested: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site, whole = tmp_path / "site", tmp_path / "whole"
    _new_process(monkeypatch)
    build(app, site)
    assert sorted(digested) == ["000_5633a81924f3da7a", "001_markets", "002_comet"]
    assert store_path(site).is_file()
    assert not (site / store_path(site).name).exists()  # beside the export, never in it

    write_article(seeds, "002_comet", "Science", "A comet returns", "Seen again, brighter.")
    write_article(seeds, "003_bees", "Nature", "Bees are back", "They came back.")
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=1))
    _new_process(monkeypatch)
    digested.clear()
    build(app, site)
    assert sorted(digested) == ["002_comet", "003_bees"]

    _new_process(monkeypatch)
    store_path(whole).unlink(missing_ok=True)
    digested.clear()
    build(app, whole)  # digests every article
    assert len(digested) == 4
    assert contents(site) == contents(whole)


def test_digests_of_another_build_or_a_damaged_file_are_not_taken(
    app: Flask,
    tmp_path: Path,
    seeds: Path,
    catalog: Catalog,
    digested: list[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    site = tmp_path / "site"
    _new_process(monkeypatch)
    build(app, site)
    write_article(seeds, "003_bees", "Nature", "Bees are back", "They came back.")
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=1))
    # Made under another build digest (other settings or code): every article is digested.
    _new_process(monkeypatch)
    digested.clear()
    build(app, site, gzip=True)
    assert len(digested) == 4
    # A damaged file: every article is digested, the build goes on, the reason is logged.
    store_path(site).write_text('{"format": 1, "fields": [', encoding="utf-8")
    write_article(seeds, "004_moon", "Science", "The moon", "Still there.")
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=2))
    _new_process(monkeypatch)
    digested.clear()
    with caplog.at_level(logging.INFO, logger="feedsvc.export.digest_store"):
        build(app, site, gzip=True)
    assert len(digested) == 5
    assert "every article is digested" in caplog.text
