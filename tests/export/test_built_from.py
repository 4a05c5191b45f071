"""A build into an export built from this very state of the catalog reads no article: it
checks the note beside the export, the manifest and that every file is there."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from feedsvc.catalog import Catalog
from feedsvc.cli import cli
from feedsvc.export import builder, built_from
from feedsvc.export.builder import already_built, build
from feedsvc.export.built_from import note_path
from feedsvc.export.manifest import NAME
from feedsvc.export.names import BuildError
from feedsvc.web.frozen import settings_of
from tests.conftest import T0, run_ingest, write_article
from tests.deploy.test_deploy import Site
from tests.export.test_incremental import contents


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the builds that read every article (the catalog's whole publication)."""
    counted: list[int] = []
    real = builder._publication

    def publication(settings):  # type: ignore[no-untyped-def]
        counted.append(1)
        return real(settings)

    monkeypatch.setattr(builder, "_publication", publication)
    return counted


def test_a_second_build_reads_nothing_and_reports_the_same_export(
    app: Flask, tmp_path: Path, reads: list[int]
) -> None:
    site = tmp_path / "site"
    first = build(app, site)
    assert reads == [1]
    assert note_path(site).is_file()
    assert not (site / note_path(site).name).exists()
    before = contents(site)
    again = build(app, site)
    assert reads == [1]  # the articles were not read again
    assert (again.rendered, again.written, again.removed) == (0, 0, 0)
    assert {f.path for f in again.files} == {f.path for f in first.files}
    assert set(again.redirects) == set(first.redirects)
    assert contents(site) == before


def test_a_change_a_missing_file_or_another_manifest_is_read_in_full(
    app: Flask, tmp_path: Path, seeds: Path, catalog: Catalog, reads: list[int]
) -> None:
    site = tmp_path / "site"
    build(app, site)
    # A change in the catalog: the articles are read and the change rendered.
    write_article(seeds, "002_comet", "Science", "A comet returns", "Seen again, brighter.")
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=1))
    changed = build(app, site)
    assert reads == [1, 1]
    assert changed.rendered > 0
    assert "brighter" in (site / "articles/a-comet-returns/index.html").read_text()
    # An ingest that changes nothing keeps the catalog's state: nothing is read.
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=2))
    build(app, site)
    assert reads == [1, 1]
    # A file removed by hand is noticed and rendered again.
    (site / "articles/a-comet-returns/index.html").unlink()
    restored = build(app, site)
    assert reads == [1, 1, 1]
    assert restored.rendered == 1
    assert (site / "articles/a-comet-returns/index.html").is_file()
    # Another manifest put in place (another build's, a copy): not taken on trust.
    (site / NAME).write_bytes((site / NAME).read_bytes())
    build(app, site)
    assert reads == [1, 1, 1, 1]
    build(app, site)
    assert reads == [1, 1, 1, 1]
    # Extra paths are always rendered (this one cannot be: the build says so).
    with pytest.raises(BuildError):
        build(app, site, include=["/articles/no-such-article/"])


def test_a_note_that_cannot_be_written_is_logged_and_costs_only_the_shortcut(
    app: Flask,
    tmp_path: Path,
    reads: list[int],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site = tmp_path / "site"

    def full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(built_from, "write_file", full)
    build(app, site)
    assert "the next build reads every article" in caplog.text
    assert "No space left on device" in caplog.text
    assert not note_path(site).exists()
    again = build(app, site)
    assert reads == [1, 1]  # read in full, and right
    assert again.rendered == 0


def test_a_build_with_nothing_to_do_makes_no_app(
    app: Flask, tmp_path: Path, seeds: Path, catalog: Catalog, reads: list[int]
) -> None:
    """already_built answers for the export as build() would, from settings alone (the CLI
    then makes no app): nothing before a first build or after a change."""
    settings, site = settings_of(app), tmp_path / "site"
    assert already_built(settings, site) is None  # no export yet
    first = build(app, site)
    report = already_built(settings, site)
    assert report is not None
    assert (report.rendered, report.written, report.removed) == (0, 0, 0)
    assert {f.path for f in report.files} == {f.path for f in first.files}
    assert already_built(settings, site, gzip=True) is None  # another build digest
    write_article(seeds, "003_bees", "Nature", "Bees are back", "They came back.")
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=1))
    assert already_built(settings, site) is None
    assert reads == [1]


def test_the_cli_makes_no_app_for_a_build_with_nothing_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = Site(tmp_path, 3)
    CliRunner().invoke(cli, ["build", str(site.out)], env=site.env, catch_exceptions=False)

    def refused(**_kwargs: object) -> Flask:
        raise AssertionError("an app was made for a build with nothing to do")

    monkeypatch.setattr("feedsvc.web.app.create_app", refused)
    again = CliRunner().invoke(cli, ["build", str(site.out)], env=site.env)
    assert again.exit_code == 0, again.output
    assert "0 files written" in again.output
