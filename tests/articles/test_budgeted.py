"""Every file is judged alone, in bounded time: a file whose reading hangs (here: a file system
that blocks its opening, as a hung network share does) or kills its reader is rejected,
every other file is read, and the catalog remembers it so no later ingest waits on it again."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from feedsvc.articles.budgeted import BudgetedReader
from feedsvc.articles.image_signature import Read
from feedsvc.articles.problems import Rejected
from feedsvc.articles.seeds_folder import read_one
from feedsvc.catalog import Catalog, set_aside
from feedsvc.catalog.ingest import ingest
from tests.conftest import T0, start_server, stop_server, write_article
from tests.service.test_live import fetch, until

# Holds a write lease on a file and never gives it up: whoever opens the file waits until
# the kernel breaks the lease (/proc/sys/fs/lease-break-time, 45 s by default).
_HOLDER = """
import fcntl, os, signal, sys, time
signal.signal(signal.SIGURG, signal.SIG_IGN)
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.fcntl(fd, fcntl.F_SETSIG, signal.SIGURG)
fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
print("held", flush=True)
time.sleep(60)
"""


@pytest.fixture
def hang() -> Iterator[Callable[[Path], subprocess.Popen[str]]]:
    """Make opening a file hang, until the test ends."""
    holders: list[subprocess.Popen[str]] = []

    def hold(path: Path) -> subprocess.Popen[str]:
        holder = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        holders.append(holder)
        return holder

    yield hold
    for holder in holders:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for key in ("a_first", "b_hangs", "c_last"):
        write_article(seeds, key, "World", f"Article {key}", "Body.")
    return seeds


def test_a_file_that_hangs_is_stopped_at_its_budget_and_the_others_are_read(
    folder: Path, hang: Callable[[Path], subprocess.Popen[str]]
) -> None:
    hang(folder / "b_hangs.txt")
    paths = sorted(str(path) for path in folder.iterdir())
    reader = BudgetedReader(read_one, 1.0, jobs=1)  # one worker: the files after it wait their turn
    try:
        started = time.monotonic()
        outcomes = list(reader.read(paths, [None] * 3, 1024 * 1024, None))
        took = time.monotonic() - started
    finally:
        reader.close()
    assert isinstance(outcomes[0], Read)
    assert isinstance(outcomes[2], Read)
    assert isinstance(outcomes[1], Rejected)
    assert outcomes[1].code == "too-slow"
    assert outcomes[1].path.endswith("b_hangs.txt")
    assert took < 10  # the budget, not the 45 s the kernel would take


def test_a_file_that_takes_its_reader_down_is_rejected_and_the_others_are_read(
    folder: Path, hang: Callable[[Path], subprocess.Popen[str]]
) -> None:
    hang(folder / "b_hangs.txt")
    paths = sorted(str(path) for path in folder.iterdir())
    reader = BudgetedReader(read_one, 30.0, jobs=1)

    def kill_the_reader() -> None:  # as the out-of-memory killer would
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # once the first file is read, it hangs on this one
            if any(worker.done == 1 for worker in reader._workers):
                break
            time.sleep(0.05)
        time.sleep(0.3)
        for worker in reader._workers:
            worker.process.kill()

    threading.Thread(target=kill_the_reader, daemon=True).start()
    try:
        outcomes = list(reader.read(paths, [None] * 3, 1024 * 1024, None))
    finally:
        reader.close()
    assert [type(outcome).__name__ for outcome in outcomes] == ["Read", "Rejected", "Read"]
    assert isinstance(outcomes[1], Rejected)
    assert outcomes[1].code == "crashed"


def test_a_file_set_aside_is_not_read_again_until_it_changes(
    folder: Path, catalog: Catalog, hang: Callable[[Path], subprocess.Popen[str]]
) -> None:
    holder = hang(folder / "b_hangs.txt")
    first = ingest(catalog, folder, now=T0, budget=1.0)
    assert sorted(first.added) == ["a_first", "c_last"]
    assert [problem.code for problem in first.rejected] == ["too-slow"]
    assert list(set_aside.load(catalog.connection)) == ["b_hangs"]
    started = time.monotonic()
    again = ingest(catalog, folder, now=T0, budget=1.0)  # a rescan, or a restart
    assert time.monotonic() - started < 1.0  # not waited on again
    (problem,) = again.rejected
    assert problem.code == "too-slow"
    assert "set aside since" in problem.reason
    holder.kill()  # the share answers again; the file is edited
    holder.wait()
    write_article(folder, "b_hangs", "World", "Article b_hangs, fixed", "Body.")
    fixed = ingest(catalog, folder, now=T0, budget=1.0)
    assert fixed.added == ("b_hangs",)
    assert set_aside.load(catalog.connection) == {}


@pytest.mark.slow
@pytest.mark.e2e
def test_the_server_publishes_around_a_file_that_hangs_and_a_restart_does_not_meet_it(
    seeds: Path, tmp_path: Path, hang: Callable[[Path], subprocess.Popen[str]]
) -> None:
    hung = write_article(seeds, "050_hangs", "World", "Never read", "Body.")
    hang(hung)
    env = {"FEEDSVC_FILE_SECONDS": "2"}
    aside: list[list[dict[str, str]]] = []
    for restart in range(2):
        process, base = start_server(seeds, tmp_path, env=env)
        try:
            status, body, _ = fetch(base + "/healthz")
            assert status == 200, body
            health = json.loads(body)
            assert health["catalog"]["articles"] == 3 + restart  # every other article
            aside.append(health["catalog"]["set_aside"])
            later = f"Later {restart}"
            write_article(seeds, f"06{restart}_later", "World", later, "Body.")
            feed = base + "/feeds/atom.xml"
            until(lambda feed=feed, later=later: later.encode() in fetch(feed)[1], "published")
        finally:
            assert stop_server(process) == 0
    first, second = aside
    assert [item["file"] for item in first] == ["050_hangs.txt"]
    assert first[0]["code"] == "too-slow"
    assert second == first  # the same record: the restart did not read it again


def test_where_reader_processes_cannot_start_files_are_read_in_this_process(
    folder: Path, tmp_path: Path
) -> None:
    # A program fed on standard input: a new process cannot import its `__main__`.
    script = (
        "import sys\n"
        "from feedsvc.articles.seeds_folder import read_all\n"
        "paths = sorted(str(p) for p in __import__('pathlib').Path(sys.argv[1]).iterdir())\n"
        "print(sum(1 for o in read_all(paths, 1 << 20, budget=5) if o.article.key))\n"
    )
    done = subprocess.run(
        [sys.executable, "-", str(folder)],
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "3"
    assert "read in this process, without a time budget" in done.stderr
