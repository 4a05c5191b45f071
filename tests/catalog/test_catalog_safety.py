"""The catalog is precious: never rebuilt silently, backed up, restorable with the same ids
and dates; ids unique in the world and stable across rebuilds; a full disk degrades serving
instead of stopping it."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from feedsvc.catalog import open_catalog
from feedsvc.catalog.backups import list_backups
from feedsvc.catalog.paths import backup_dir, identity_file
from feedsvc.catalog.safekeeping import restore, run_ingest
from feedsvc.catalog.schema import _MIGRATIONS
from feedsvc.config.settings import Settings, load_settings
from feedsvc.errors import CatalogError
from tests.conftest import T0, start_server, stop_server, write_article
from tests.service.test_live import fetch, until


def _settings(seeds: Path, database: Path, **more: object) -> Settings:
    return load_settings({}, {"SEEDS_DIR": seeds, "DATABASE": database, "SETTLE_MS": 0, **more})


def _ids(database: Path) -> dict[str, tuple[str, str]]:
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT key, entry_id, published FROM articles").fetchall()
    return {key: (entry_id, published) for key, entry_id, published in rows}


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", *args],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# -- ids ------------------------------------------------------------------------------------


def test_two_fresh_installations_with_default_settings_share_no_entry_id(
    seeds: Path, tmp_path: Path
) -> None:
    first = _settings(seeds, tmp_path / "a" / "feedsvc.sqlite3")
    second = _settings(seeds, tmp_path / "b" / "feedsvc.sqlite3")
    assert first.site.url == second.site.url == "http://127.0.0.1:8000"
    run_ingest(first)
    run_ingest(second)
    ids_a = {entry_id for entry_id, _ in _ids(first.database).values()}
    ids_b = {entry_id for entry_id, _ in _ids(second.database).values()}
    assert len(ids_a) == len(ids_b) == 3
    assert ids_a.isdisjoint(ids_b)
    assert all(entry_id.startswith("urn:uuid:") for entry_id in ids_a)


@pytest.mark.parametrize("site_url", ["http://127.0.0.1:8000", "https://news.feedsvc-test.org"])
def test_a_catalog_rebuilt_on_a_later_day_mints_the_same_ids(
    seeds: Path, tmp_path: Path, site_url: str
) -> None:
    settings = _settings(seeds, tmp_path / "instance" / "feedsvc.sqlite3", SITE_URL=site_url)
    run_ingest(settings, now=T0)
    before = {key: entry_id for key, (entry_id, _) in _ids(settings.database).items()}
    # The publisher starts a new catalog on purpose (catalog and backups gone; the
    # publication id file beside them kept, as README says).
    settings.database.unlink()
    shutil.rmtree(backup_dir(settings.database))
    run_ingest(settings, now=T0 + timedelta(days=40))
    after = {key: entry_id for key, (entry_id, _) in _ids(settings.database).items()}
    assert after == before
    if "feedsvc-test.org" in site_url:
        assert before["002_comet"] == "tag:news.feedsvc-test.org,2024-03-01:002_comet"


def test_the_publication_id_setting_gives_tag_ids_and_is_never_silently_changed(
    seeds: Path, tmp_path: Path
) -> None:
    database = tmp_path / "feedsvc.sqlite3"
    settings = _settings(seeds, database, PUBLICATION_ID="news.example.org,2024-03-01")
    run_ingest(settings)
    assert _ids(database)["002_comet"][0] == "tag:news.example.org,2024-03-01:002_comet"
    other = _settings(seeds, database, PUBLICATION_ID="other.example.org,2025")
    with pytest.raises(CatalogError, match="ids never change"):
        run_ingest(other)


def test_an_old_catalog_keeps_its_ids_after_the_migration(seeds: Path, tmp_path: Path) -> None:
    database = tmp_path / "old.sqlite3"
    with sqlite3.connect(database) as db:
        for script in _MIGRATIONS[:7]:
            db.executescript(script)
        db.execute("PRAGMA user_version = 7")
        db.execute("INSERT INTO meta VALUES ('tag_base', '127.0.0.1,2026-11-20')")
        db.execute("INSERT INTO meta VALUES ('changed', '2026-11-20T10:00:00.000000Z')")
        db.execute(
            "INSERT INTO articles (key, entry_id, slug, section, section_slug, title, "
            "paragraphs, content_hash, published, updated, seq, section_seq, tags) VALUES "
            "('002_comet', 'tag:127.0.0.1,2026-11-20:002_comet', 'a-comet-returns', 'Science', "
            "'science', 'A comet returns', 'Old text.', 'old', '2026-11-20T10:00:00.000000Z', "
            "'2026-11-20T10:00:00.000000Z', 1, 1, '[]')"
        )
    run_ingest(_settings(seeds, database))
    ids = _ids(database)
    assert ids["002_comet"] == ("tag:127.0.0.1,2026-11-20:002_comet", "2026-11-20T10:00:00.000000Z")
    assert ids["001_markets"][0] == "tag:127.0.0.1,2026-11-20:001_markets"  # same authority
    assert [b.reason for b in list_backups(database)] == ["before-migration"]


# -- one writer -----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.e2e
def test_first_time_ingests_racing_take_turns(seeds: Path, tmp_path: Path) -> None:
    for round_number in range(4):
        database = tmp_path / f"race-{round_number}" / "feedsvc.sqlite3"
        env = {"FEEDSVC_SEEDS_DIR": str(seeds), "FEEDSVC_DATABASE": str(database)}
        command = [sys.executable, "-m", "feedsvc", "ingest"]
        clean = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
        racers = [
            subprocess.Popen(
                command,
                env={**clean, **env},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [racer.communicate(timeout=120) for racer in racers]
        for racer, (out, err) in zip(racers, outputs, strict=True):
            assert racer.returncode == 0, out + err
            assert "already exists" not in err
            assert "duplicate column" not in err
        assert len(_ids(database)) == 3


# -- backups and restore --------------------------------------------------------------------


@pytest.mark.slow
def test_backups_are_kept_a_few_deep_and_restore_brings_back_ids_and_dates(
    seeds: Path, tmp_path: Path
) -> None:
    database = tmp_path / "feedsvc.sqlite3"
    settings = _settings(seeds, database, BACKUPS=2)
    run_ingest(settings)  # the first backup: none existed
    assert len(list_backups(database)) == 1
    before = _ids(database)
    env = {
        "FEEDSVC_SEEDS_DIR": str(seeds),
        "FEEDSVC_DATABASE": str(database),
        "FEEDSVC_BACKUPS": "2",
    }
    for _ in range(3):
        assert _cli(env, "backup").returncode == 0
    assert len(list_backups(database)) == 2
    database.unlink()
    refused = _cli(env, "ingest")
    assert refused.returncode == 2
    assert "feedsvc restore" in refused.stderr
    assert not database.exists()  # never a silent new catalog
    restored = _cli(env, "restore")
    assert restored.returncode == 0, restored.stderr
    assert _ids(database) == before
    assert _cli(env, "ingest").returncode == 0
    assert _ids(database) == before


def test_restore_refuses_what_is_not_a_backup(seeds: Path, tmp_path: Path) -> None:
    settings = _settings(seeds, tmp_path / "feedsvc.sqlite3")
    with pytest.raises(CatalogError, match="no backups"):
        restore(settings)
    run_ingest(settings)
    with pytest.raises(CatalogError, match="not one of"):
        restore(settings, "nonsense.sqlite3")
    broken = backup_dir(settings.database) / "catalog-20240301T000000000000Z-manual.sqlite3"
    broken.write_bytes(b"garbage" * 100)
    with pytest.raises(CatalogError, match="not a feedsvc catalog backup"):
        restore(settings, broken.name)
    assert open_catalog(settings.database, readonly=True).count() == 3  # untouched


@pytest.mark.slow
@pytest.mark.e2e
def test_catalog_deleted_while_serving_is_not_rebuilt_and_restore_resumes(
    seeds: Path, tmp_path: Path
) -> None:
    process, base = start_server(seeds, tmp_path)
    database = tmp_path / "served.sqlite3"
    env = {"FEEDSVC_SEEDS_DIR": str(seeds), "FEEDSVC_DATABASE": str(database)}
    try:
        before = json.loads(fetch(base + "/feeds/feed.json")[1])["items"]
        assert list_backups(database)  # taken after the first ingest
        database.unlink()
        write_article(seeds, "090_during", "Science", "Written while it was gone", "Body.")
        until(lambda: fetch(base + "/healthz")[0] == 503, "health 503")
        health = json.loads(fetch(base + "/healthz")[1])
        assert health["catalog"]["state"] == "missing"
        assert any("deleted" in problem for problem in health["problems"])
        time.sleep(1.5)  # the writer retries meanwhile
        assert not database.exists()  # no silent new catalog
        status, body, _ = fetch(base + "/feeds/feed.json")  # serving goes on
        assert status == 200
        assert len(json.loads(body)["items"]) == 3
        result = _cli(env, "restore")
        assert result.returncode == 0, result.stderr
        until(lambda: b"Written while it was gone" in fetch(base + "/feeds/atom.xml")[1], "resume")
        until(lambda: fetch(base + "/healthz")[0] == 200, "health 200")
        after = json.loads(fetch(base + "/feeds/feed.json")[1])["items"]
        old = {item["id"]: item["date_published"] for item in before}
        assert {item["id"]: item["date_published"] for item in after if item["id"] in old} == old
    finally:
        assert stop_server(process) == 0
    log = next(tmp_path.glob("server-*.log")).read_text()
    assert log.count("was deleted or moved while feedsvc was running") == 1  # logged once


@pytest.mark.slow
@pytest.mark.e2e
def test_serve_refuses_to_start_a_new_catalog_where_one_was_lost(
    seeds: Path, tmp_path: Path
) -> None:
    process, _base = start_server(seeds, tmp_path)
    assert stop_server(process) == 0
    database = tmp_path / "served.sqlite3"
    database.unlink()
    result = _cli(
        {"FEEDSVC_SEEDS_DIR": str(seeds), "FEEDSVC_DATABASE": str(database)},
        "serve",
        "--port",
        "1",
    )
    assert result.returncode == 2
    assert "feedsvc restore" in result.stderr
    assert not database.exists()


# -- a full disk ----------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> object:
    """Mount a 2 MiB tmpfs (root only; CI runs as root)."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the full-disk test needs root on CI (to mount a tmpfs)")
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], check=True)
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    # Unbuffered: what a buffered file could not write would fail again when it is closed.
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
        except OSError:
            pass
    return filler


@pytest.mark.slow
@pytest.mark.e2e
def test_serve_starts_and_serves_on_a_full_disk_then_publishes_when_it_clears(
    seeds: Path, tmp_path: Path, small_disk: Path
) -> None:
    database = small_disk / "served.sqlite3"
    env = {"FEEDSVC_DATABASE": str(database)}
    ingest = _cli({"FEEDSVC_SEEDS_DIR": str(seeds), **env}, "ingest")
    assert ingest.returncode == 0, ingest.stderr
    filler = _fill(small_disk)
    new = write_article(seeds, "095_full", "Science", "Waiting for room", "Body.")
    os.utime(new, (time.time() - 60, time.time() - 60))
    process, base = start_server(seeds, tmp_path, env=env)
    try:
        status, body, _ = fetch(base + "/feeds/feed.json")
        assert status == 200
        assert len(json.loads(body)["items"]) == 3
        assert fetch(base + "/articles/a-comet-returns/")[0] == 200
        until(lambda: fetch(base + "/healthz")[0] == 503, "health 503 on a full disk")

        def writer_failing() -> bool:
            problems = json.loads(fetch(base + "/healthz")[1])["problems"]
            return any(p.startswith("ingest failing") for p in problems)

        until(writer_failing, "the writer's failure in health")
        health = json.loads(fetch(base + "/healthz")[1])
        assert any("full" in problem or "I/O" in problem for problem in health["problems"])
        assert [p.name for p in small_disk.rglob("*.tmp")] == []
        filler.unlink()
        until(lambda: b"Waiting for room" in fetch(base + "/feeds/atom.xml")[1], "after room")
        until(lambda: fetch(base + "/healthz")[0] == 200, "health 200")
    finally:
        assert stop_server(process) == 0
    assert [p.name for p in small_disk.rglob("*.tmp")] == []
    log = next(tmp_path.glob("server-*.log")).read_text()
    assert log.count("ingest failed") == 1  # once per change of state, not per retry
    assert "ingest works again" in log
    assert identity_file(database).exists()
