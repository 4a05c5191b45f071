"""Continuous publishing tells each deploy what the builds changed since the last deploy that
worked, so a change costs what it changes; whatever it cannot vouch for (a first publish, a
build by another hand) is read from the whole manifest. Real builds, a real folder target."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from feedsvc.catalog.safekeeping import run_ingest
from feedsvc.config.settings import Settings, load_settings
from feedsvc.deploy.continuous import Publisher
from feedsvc.export import article_digests, digest_store, manifest
from feedsvc.export.builder import build
from feedsvc.export.manifest import Manifest
from feedsvc.web.frozen import app_for
from tests.conftest import write_article


@pytest.fixture
def settings(seeds: Path, tmp_path: Path) -> Settings:
    return load_settings(
        {},
        {
            "SEEDS_DIR": seeds,
            "DATABASE": tmp_path / "c.sqlite3",
            "RUN_DIR": tmp_path / "run",
            "CARD_DIR": tmp_path / "cards",
            "EXPORT_DIR": tmp_path / "site",
            "DEPLOY": str(tmp_path / "www"),
            "SETTLE_MS": 0,
        },
    )


@pytest.fixture
def manifest_reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record each time a deploy reads the whole manifest (and still let it)."""
    reads: list[Path] = []
    load: Callable[[Path], Manifest | None] = manifest.load

    def counted(root: Path) -> Manifest | None:
        reads.append(root)
        return load(root)

    monkeypatch.setattr("feedsvc.deploy.load", counted)  # what a deploy reads it with
    return reads


def _same_tree(export: Path, target: Path) -> None:
    """Every served file of the export is in the target with the same bytes, nothing more."""

    def served(root: Path) -> dict[str, bytes]:
        return {
            str(path.relative_to(root)): path.read_bytes()
            for path in root.rglob("*")
            if path.is_file()
            and not any(part.startswith(".") for part in path.relative_to(root).parts)
            and path.name != "_nginx.conf"  # its root names the folder it serves
        }

    assert served(target) == served(export)


def _published(settings: Settings) -> Publisher:
    """Return a publisher that has ingested and published the seeds once."""
    run_ingest(settings)
    publisher = Publisher(settings)
    publisher.changed([])
    assert publisher.publish()
    return publisher


def _republish(settings: Settings, publisher: Publisher) -> bool:
    """Ingest what the folder holds now and publish it, as the writer does after a change."""
    run_ingest(settings)
    publisher.changed([])
    return publisher.publish()


def test_each_deploy_is_told_what_changed_even_across_failed_deploys(
    settings: Settings, seeds: Path, manifest_reads: list[Path]
) -> None:
    publisher = _published(settings)
    assert len(manifest_reads) == 1  # the first one knows nothing yet
    target = Path(str(settings.deploy_target))
    _same_tree(settings.export_dir, target)

    write_article(seeds, "002_second", "Science", "Corrected title", "A corrected body.")
    assert _republish(settings, publisher)
    assert len(manifest_reads) == 1
    _same_tree(settings.export_dir, target)

    # The target is away: the deploy fails, the next build's changes add to the backlog.
    aside = target.with_name("www-away")
    target.rename(aside)
    target.write_text("not a folder")
    write_article(seeds, "090_new", "Science", "A new one", "Body.")
    assert not _republish(settings, publisher)
    next(seeds.glob("001_*")).unlink()
    write_article(seeds, "090_new", "Science", "A new one, edited", "Body.")
    assert not _republish(settings, publisher)
    target.unlink()
    aside.rename(target)
    reads = len(manifest_reads)  # a failed deploy may have read it: it trusted nothing
    assert publisher.publish()
    assert len(manifest_reads) == reads
    _same_tree(settings.export_dir, target)


def test_a_build_by_another_hand_is_not_taken_on_trust(
    settings: Settings, seeds: Path, manifest_reads: list[Path]
) -> None:
    publisher = _published(settings)
    write_article(seeds, "090_new", "Science", "Built by hand", "Body.")
    run_ingest(settings)
    build(app_for(settings), settings.export_dir)  # `feedsvc build` while the writer runs
    assert _republish(settings, publisher)  # its own build finds nothing to do
    assert len(manifest_reads) == 2
    target = Path(str(settings.deploy_target))
    _same_tree(settings.export_dir, target)
    (page,) = (target / "articles").glob("built-by-hand*/index.html")
    assert "Built by hand" in page.read_text()


def test_after_a_full_build_the_whole_manifest_is_read(
    settings: Settings, seeds: Path, manifest_reads: list[Path], tmp_path: Path
) -> None:
    publisher = _published(settings)
    shutil.rmtree(settings.export_dir)  # the next build is a full one
    write_article(seeds, "090_new", "Science", "After a full build", "Body.")
    assert _republish(settings, publisher)
    assert len(manifest_reads) == 2
    _same_tree(settings.export_dir, Path(str(settings.deploy_target)))


def test_the_first_publish_reads_everything_so_the_first_change_costs_what_later_ones_do(
    settings: Settings, seeds: Path, monkeypatch: pytest.MonkeyPatch, digested: list[str]
) -> None:
    """A writer started over an export that stands as built still reads the catalog through on
    its first publish (a build with nothing to do would read nothing): the first change after
    the start then digests only the article it changed."""
    run_ingest(settings)
    build(app_for(settings), settings.export_dir)  # built by hand: nothing left to do
    monkeypatch.setattr(article_digests, "_LAST", ("", {}))  # a new process
    monkeypatch.setattr(article_digests, "_PAGES", {})
    digest_store.store_path(settings.export_dir).unlink(missing_ok=True)
    digested.clear()  # the build by hand's
    publisher = Publisher(settings)
    publisher.changed([])
    assert publisher.publish()
    assert len(digested) == 3  # read through, though nothing was rendered
    digested.clear()
    write_article(seeds, "002_second", "Science", "Corrected title", "A corrected body.")
    assert _republish(settings, publisher)
    assert digested == ["002_second"]
    _same_tree(settings.export_dir, Path(str(settings.deploy_target)))
