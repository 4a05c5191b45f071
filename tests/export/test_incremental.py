"""Incremental export: after any sequence of changes, an incremental build is byte-identical
to a full one, renders only what changed, and a killed one leaves the previous export whole."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from feedsvc.catalog import Catalog
from feedsvc.export.builder import build
from feedsvc.export.manifest import NAME, load
from feedsvc.web.app import create_app
from tests.conftest import SITE_URL, T0, run_ingest
from tests.corpus import write_corpus
from tests.urlmap.test_urlmap import newsroom_app


def contents(root: Path) -> dict[str, str]:
    """Return every file's digest; the nginx config names its own folder, so that line goes."""
    found = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = Path(dirpath, name)
            body = path.read_bytes()
            if name == "_nginx.conf":
                body = body.replace(str(root).encode(), b"ROOT")
            if name == NAME:  # which holds the nginx config's digest
                document = json.loads(body)
                del document["files"]["_nginx.conf"]
                body = json.dumps(document, sort_keys=True).encode()
            found[str(path.relative_to(root))] = hashlib.sha256(body).hexdigest()
    return found


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 12])
def test_incremental_builds_equal_full_builds(
    tmp_path: Path, database: Path, catalog: Catalog, seed: int
) -> None:
    rng = random.Random(seed)
    newsroom, app = newsroom_app(tmp_path, database, catalog, rng, articles=8)
    folder, moment = newsroom.folder, T0
    site = tmp_path / "site"
    first = build(app, site, gzip=True)
    assert first.full
    for number in range(10):
        ops = [newsroom.step() for _ in range(rng.choice((1, 2)))]
        moment += timedelta(days=rng.choice((0, 0, 1, 3)), seconds=rng.randrange(1, 90))
        run_ingest(catalog, folder, now=moment)
        incremental = build(app, site, gzip=True)
        full_site = tmp_path / f"full-{number}"
        full = build(app, full_site, gzip=True)
        assert not incremental.full
        assert full.full
        assert incremental.rendered < full.rendered, ops
        assert contents(site) == contents(full_site), (number, ops)
    again = build(app, site, gzip=True)
    assert again.rendered == 0
    assert again.written == 0


def test_changed_settings_or_a_damaged_manifest_give_a_full_build(
    tmp_path: Path, seeds: Path, database: Path, catalog: Catalog
) -> None:
    run_ingest(catalog, seeds)
    config = {"SEEDS_DIR": seeds, "DATABASE": database, "SITE_URL": SITE_URL}
    site = tmp_path / "site"
    build(create_app(config), site)
    assert build(create_app(config), site).rendered == 0
    assert build(create_app({**config, "SITE_TITLE": "Renamed"}), site).full
    assert not build(create_app({**config, "SITE_TITLE": "Renamed"}), site).full
    (site / NAME).write_text("{damaged", encoding="utf-8")
    assert build(create_app({**config, "SITE_TITLE": "Renamed"}), site).full
    manifest = load(site)
    assert manifest is not None
    assert all(entry.md5 and entry.size >= 0 for entry in manifest.files.values())


def test_a_manifest_read_again_in_one_process_is_the_file_as_it_is_now(
    tmp_path: Path, seeds: Path, database: Path, catalog: Catalog
) -> None:
    # A writer keeps the manifest it last wrote or read rather than parse it each build.
    run_ingest(catalog, seeds)
    config = {"SEEDS_DIR": seeds, "DATABASE": database, "SITE_URL": SITE_URL}
    site, other = tmp_path / "site", tmp_path / "other"
    build(create_app(config), site)
    first = load(site)
    assert first is not None
    first.files.clear()  # the caller's copy, not what the next load gives
    again = load(site)
    assert again is not None
    assert again.files
    build(create_app({**config, "SITE_TITLE": "Other"}), other)
    theirs = load(other)
    assert theirs is not None
    os.replace(other / NAME, site / NAME)  # another export's manifest moved over this one
    moved = load(site)
    assert moved is not None
    assert moved.build == theirs.build != again.build


@pytest.mark.slow
@pytest.mark.e2e
def test_a_killed_incremental_build_leaves_the_previous_export_whole(tmp_path: Path) -> None:
    seeds = tmp_path / "corpus"
    write_corpus(seeds, 400)
    old = time.time() - 60
    for path in seeds.iterdir():
        os.utime(path, (old, old))
    out = tmp_path / "site"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")},
        "FEEDSVC_SEEDS_DIR": str(seeds),
        "FEEDSVC_DATABASE": str(tmp_path / "db.sqlite3"),
        "FEEDSVC_CARD_DIR": str(tmp_path / "cards"),
    }
    command = [sys.executable, "-m", "feedsvc", "build", str(out), "--jobs", "1"]
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
    before = contents(out)
    # A new site title changes every page: the next build renders everything, slowly enough
    # to be killed half-way.
    process = subprocess.Popen(
        command,
        env={**env, "FEEDSVC_SITE_TITLE": "Renamed"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    temporary: list[Path] = []
    while time.monotonic() < deadline and process.poll() is None:
        temporary = [p for p in tmp_path.iterdir() if p.name.startswith(".site.build-")]
        if temporary and sum(1 for _ in temporary[0].rglob("*.html")) > 50:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the build ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    assert contents(out) == before  # the previous export, whole
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert contents(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.build-")]
