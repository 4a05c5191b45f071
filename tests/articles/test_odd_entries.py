"""Entries of the articles folder that cannot be followed are judged alone, never fatal."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import SEED, feedsvc_command, write_article


def folder_with_loops(tmp_path: Path) -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "000_seed.txt").write_bytes(SEED.read_bytes())
    write_article(seeds, "001_good", "World", "A good article", "Body.")
    os.symlink("self.txt", seeds / "self.txt")  # a link to itself
    os.symlink("b.txt", seeds / "a.txt")  # two links pointing at each other
    os.symlink("a.txt", seeds / "b.txt")
    os.symlink("nowhere.txt", seeds / "dangling.txt")  # a link to nothing
    return seeds


def run(seeds: Path, database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        feedsvc_command(seeds, database, *args),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "FEEDSVC_SETTLE_MS": "0"},
    )


def test_links_that_loop_are_reported_and_every_other_article_is_published(
    tmp_path: Path,
) -> None:
    seeds = folder_with_loops(tmp_path)
    database = tmp_path / "catalog.sqlite3"
    done = run(seeds, database, "ingest")
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    assert "added 2," in done.stdout
    for name in ("self.txt", "a.txt", "b.txt"):
        assert f"{seeds / name}: " in done.stderr
        assert "[unresolvable]" in done.stderr.split(f"{seeds / name}: ", 1)[1].split("\n")[0]
    checked = run(seeds, database, "check")
    assert "Traceback" not in checked.stderr, checked.stderr
    assert checked.returncode == 1  # problems found, and said
    assert "[unresolvable]" in checked.stdout
