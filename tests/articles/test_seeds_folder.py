"""The seeds folder: listing, signatures, reading, checking, and the parsing workers' lifetime."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from feedsvc.articles.problems import Rejected
from feedsvc.articles.seeds_folder import PARALLEL_FROM, check_folder, listing, read_all, scan
from tests.conftest import write_article
from tests.corpus import write_corpus


def test_listing_is_sorted_and_skips_what_is_no_article(seeds: Path) -> None:
    (seeds / ".hidden.txt").write_text("S\n\nT\n\nB", encoding="utf-8")
    (seeds / "notes.md").write_text("not an article", encoding="utf-8")
    (seeds / "draft.txt~").write_text("S\n\nT\n\nB", encoding="utf-8")
    (seeds / "sub.txt").mkdir()
    keys = ["000_5633a81924f3da7a", "001_markets", "002_comet", "sub"]
    assert [key for key, _path, _sig, _mtime in listing(seeds)] == keys
    assert [path.name.removesuffix(".txt") for path in scan(seeds)] == keys


def test_a_signature_changes_with_the_file_and_never_with_a_read(seeds: Path) -> None:
    before = {key: sig for key, _path, sig, _mtime in listing(seeds)}
    (seeds / "002_comet.txt").read_bytes()
    assert {key: sig for key, _path, sig, _mtime in listing(seeds)} == before
    write_article(seeds, "002_comet", "Science", "A comet returns", "Changed.")
    after = {key: sig for key, _path, sig, _mtime in listing(seeds)}
    assert after["002_comet"] != before["002_comet"]
    assert after["001_markets"] == before["001_markets"]


def test_a_link_out_of_the_folder_is_listed_as_a_problem(seeds: Path, tmp_path: Path) -> None:
    outside = write_article(tmp_path, "outside", "S", "Outside")
    (seeds / "003_link.txt").symlink_to(outside)
    problem = {key: sig for key, _path, sig, _mtime in listing(seeds)}["003_link"]
    assert isinstance(problem, Rejected)
    assert problem.code == "symlink-outside"
    assert problem.hint


def test_read_all_keeps_the_order_and_returns_problems_as_data(seeds: Path) -> None:
    (seeds / "003_empty.txt").write_text("", encoding="utf-8")
    outcomes = list(read_all([str(path) for path in scan(seeds)], 1024 * 1024))
    assert [getattr(item, "key", None) for item in outcomes[:3]] == [
        "000_5633a81924f3da7a",
        "001_markets",
        "002_comet",
    ]
    assert getattr(outcomes[3], "code", None) == "empty"


def test_check_folder_counts_files_and_lists_problems(seeds: Path) -> None:
    (seeds / "003_empty.txt").write_text("", encoding="utf-8")
    (seeds / "004_large.txt").write_text("S\n\nT\n\n" + "x" * 20_000, encoding="utf-8")
    checked, problems, _keys, _dated = check_folder(seeds, 16 * 1024)
    assert checked == 5
    assert [(Path(p.path).name, p.code) for p in problems] == [
        ("003_empty.txt", "empty"),
        ("004_large.txt", "too-large"),
    ]


def _children(pid: int) -> set[int]:
    """Return the ids of the processes whose parent is `pid` (from /proc, no psutil)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        # The command name (in parentheses) may hold spaces: fields follow the last ')'.
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def _pool_started(pids: set[int]) -> bool:
    """Return whether one of `pids` is a worker process of a multiprocessing pool."""
    for pid in pids:
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def _running(pid: int) -> bool:
    """Return whether `pid` is a process that has not ended (a zombie has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the ingest shares parsing from 2 CPUs")
def test_parsing_workers_end_when_a_killed_ingest_leaves_them(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    write_corpus(seeds, 2 * PARALLEL_FROM)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {
        "FEEDSVC_SEEDS_DIR": str(seeds),
        "FEEDSVC_DATABASE": str(tmp_path / "catalog.sqlite3"),
        "FEEDSVC_SETTLE_MS": "0",  # the files were just written: read them at once
    }
    ingest = subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "ingest"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while not _pool_started(workers) and ingest.poll() is None:
            assert time.monotonic() < deadline, "no parsing worker started within a minute"
            workers = _children(ingest.pid)  # the workers and multiprocessing's resource tracker
        assert _pool_started(workers), "the ingest ended before it started its parsing workers"
        ingest.send_signal(signal.SIGKILL)  # as the OOM killer or a supervisor would
        ingest.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = sorted(pid for pid in workers if _running(pid))
        assert not left, f"workers {left} outlived the ingest that started them"
    finally:
        if ingest.poll() is None:
            ingest.kill()
            ingest.wait()
        for pid in workers:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)  # leave no process behind, even when failing
