"""What sits in the catalog's place is the catalog feedsvc started with, or nothing is written:
another catalog moved over it (even a valid one) is refused like a deleted one, and a restart
that cannot write (a full disk, a WAL not yet checkpointed) serves what it has, read-only."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.catalog.test_catalog_safety import _cli, _fill, small_disk  # noqa: F401 (fixture)
from tests.conftest import start_server, stop_server, write_article
from tests.service.test_live import fetch, until


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.e2e
def test_another_valid_catalog_moved_over_the_catalog_is_refused_not_written_into(
    seeds: Path, tmp_path: Path
) -> None:
    other_seeds = tmp_path / "other-seeds"
    other_seeds.mkdir()
    write_article(other_seeds, "001_other", "Science", "Another publication", "Body.")
    other = tmp_path / "other.sqlite3"
    made = _cli({"FEEDSVC_SEEDS_DIR": str(other_seeds), "FEEDSVC_DATABASE": str(other)}, "ingest")
    assert made.returncode == 0, made.stderr
    for suffix in ("-wal", "-shm"):
        assert not Path(f"{other}{suffix}").exists()
    process, base = start_server(seeds, tmp_path)
    database = tmp_path / "served.sqlite3"
    try:
        assert fetch(base + "/healthz")[0] == 200
        # Its -wal file stays beside it: SQLite would read the old catalog's last pages over
        # the new file, so the check must not go by what a plain open shows.
        os.replace(other, database)
        moved = _digest(database)
        write_article(seeds, "090_after", "Science", "Written after the move", "Body.")
        until(lambda: fetch(base + "/healthz")[0] == 503, "health 503")
        health = json.loads(fetch(base + "/healthz")[1])
        assert any(
            problem.startswith("catalog replaced") and "feedsvc restore" in problem
            for problem in health["problems"]
        ), health["problems"]
        time.sleep(2.5)  # the writer retries meanwhile, and must not write into it
        assert _digest(database) == moved
        status, body, _ = fetch(base + "/feeds/feed.json")  # serving goes on from what it has
        assert status == 200
        assert "Another publication" not in body.decode()
    finally:
        assert stop_server(process) == 0


def _leave_a_wal(database: Path) -> None:
    """Change the catalog from a process that dies before checkpointing: a WAL is left."""
    code = (
        "import os, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('PRAGMA wal_autocheckpoint=0')\n"
        "db.execute(\"UPDATE articles SET title = 'Changed in the WAL' "
        "WHERE title = 'A comet returns'\")\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(database)], check=True)
    assert Path(f"{database}-wal").stat().st_size > 0


@pytest.mark.slow
@pytest.mark.e2e
def test_a_restart_on_a_full_disk_with_a_wal_serves_read_only_and_says_so(
    seeds: Path,
    tmp_path: Path,
    small_disk: Path,  # noqa: F811
) -> None:
    database = small_disk / "served.sqlite3"
    env = {"FEEDSVC_DATABASE": str(database)}
    ingest = _cli({"FEEDSVC_SEEDS_DIR": str(seeds), **env}, "ingest")
    assert ingest.returncode == 0, ingest.stderr
    _leave_a_wal(database)
    Path(f"{database}-shm").unlink()  # a restart after a reboot, or a copy: a WAL, no index
    filler = _fill(small_disk)
    pending = write_article(seeds, "094_pending", "Science", "Waiting for room", "Body.")
    os.utime(pending, (time.time() - 60, time.time() - 60))
    process, base = start_server(seeds, tmp_path, env=env)
    try:
        status, body, _ = fetch(base + "/feeds/feed.json")
        assert status == 200
        titles = [item["title"] for item in json.loads(body)["items"]]
        assert "Changed in the WAL" in titles  # what the WAL held is served too
        until(lambda: fetch(base + "/healthz")[0] == 503, "health 503 on a full disk")
        health = json.loads(fetch(base + "/healthz")[1])
        assert any("read-only" in problem for problem in health["problems"]), health
        filler.unlink()
        write_article(seeds, "095_room", "Science", "Room again", "Body.")
        until(lambda: b"Room again" in fetch(base + "/feeds/atom.xml")[1], "publishing again")
        until(lambda: fetch(base + "/healthz")[0] == 200, "health 200")
    finally:
        assert stop_server(process) == 0
