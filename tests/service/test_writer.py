"""The writer never stops silently: bulk changes, a killed writer, files still being written,
two servers on one address. Real server processes, real files, real SQLite."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from feedsvc.catalog import open_catalog
from feedsvc.catalog.ingest import IngestReport
from feedsvc.catalog.safekeeping import backup_now, restore
from feedsvc.config.settings import load_settings
from feedsvc.service.writer import Writer
from tests.conftest import article_text, free_port, start_server, stop_server, write_article
from tests.corpus import write_corpus
from tests.service.test_live import Hammer, fetch, until

pytestmark = pytest.mark.e2e


def health(base: str) -> tuple[int, dict[str, object]]:
    status, body, _ = fetch(base + "/healthz")
    return status, json.loads(body)


def articles(base: str) -> int:
    _, document = health(base)
    catalog = document["catalog"]
    assert isinstance(catalog, dict)
    return int(catalog["articles"])


@pytest.mark.slow
def test_20000_files_moved_into_a_running_server_are_all_published(
    seeds: Path, tmp_path: Path
) -> None:
    count = 20_000
    staging = tmp_path / "staging"  # same file system: a move is a rename, as `mv` does
    write_corpus(staging, count)
    process, base = start_server(seeds, tmp_path)
    try:
        with Hammer([base + "/feeds/atom.xml", base + "/", base + "/healthz"]) as hammer:
            started = time.monotonic()
            for path in sorted(staging.iterdir()):
                os.rename(path, seeds / path.name)
            moved = time.monotonic() - started
            deadline = time.monotonic() + 120
            while articles(base) < count + 3 and time.monotonic() < deadline:
                time.sleep(0.2)
            published = time.monotonic() - started
        print(f"moved {count} files in {moved:.1f} s; all published after {published:.1f} s")  # noqa: T201
        assert articles(base) == count + 3
        assert fetch(base + "/articles/story-19999-economie-societe-update/")[0] == 200
        assert fetch(base + "/articles/story-0-world-news-update/")[0] == 200
        assert health(base)[0] == 200
        assert hammer.failures == []
        assert hammer.count > 20
        # 5,000 deleted at once: withdrawn, and still no failed request.
        with Hammer([base + "/feeds/atom.xml", base + "/"]) as hammer:
            for n in range(count - 5000, count):
                (seeds / f"{n:05d}_story.txt").unlink()
            until(lambda: articles(base) == count - 5000 + 3, "5,000 removals")
        assert hammer.failures == []
        # Each worker asks the catalog's state at most every 100 ms: allow it that long.
        gone = base + "/articles/story-19999-economie-societe-update/"
        until(lambda: all(fetch(gone)[0] == 410 for _ in range(4)), "410 in every worker")
        # A checkout that rewrites every file: each gets a new body, all are republished.
        with Hammer([base + "/feeds/atom.xml", base + "/"]) as hammer:
            for path in seeds.glob("*_story.txt"):
                path.write_text(path.read_text(encoding="utf-8") + "\n\nRevised.", "utf-8")
            sample = [
                "/articles/story-0-world-news-update/",
                "/articles/story-14999-economie-societe-update/",
            ]
            until(lambda: all(b"Revised." in fetch(base + p)[1] for p in sample), "rewrite")
            until(lambda: health(base)[1]["writer"]["pending"] == 0, "nothing pending")  # type: ignore[index]
        assert hammer.failures == []
        assert health(base)[0] == 200
    finally:
        assert stop_server(process) == 0


def _supervisor(tmp_path: Path) -> dict[str, object]:
    state = json.loads((tmp_path / "run" / "supervisor.json").read_text())
    assert isinstance(state, dict)
    return state


@pytest.mark.slow
def test_a_killed_writer_is_restarted_and_publishes(seeds: Path, tmp_path: Path) -> None:
    process, base = start_server(seeds, tmp_path)
    try:
        writer = _supervisor(tmp_path)["writer_pid"]
        assert isinstance(writer, int)
        os.kill(writer, signal.SIGKILL)  # as the OOM killer would
        write_article(seeds, "070_after_kill", "Science", "Published after the kill", "Yes.")
        until(lambda: b"Published after the kill" in fetch(base + "/feeds/atom.xml")[1], "edit")
        state = _supervisor(tmp_path)
        assert state["restarts"] == 1
        assert state["writer_pid"] != writer
        assert state["last_exit"] == "killed by SIGKILL"
        # No zombie: the dead writer was reaped.
        assert not Path(f"/proc/{writer}").exists()
        status, document = health(base)
        assert status == 200
        assert document["writer"]["restarts"] == 1  # type: ignore[index]
    finally:
        assert stop_server(process) == 0
    log = (tmp_path / next(p.name for p in tmp_path.glob("server-*.log"))).read_text()
    assert "stopped: killed by SIGKILL" in log
    assert "writer restarted" in log


@pytest.mark.slow
def test_a_writer_that_keeps_dying_backs_off_and_health_says_so(
    seeds: Path, tmp_path: Path
) -> None:
    process, base = start_server(seeds, tmp_path)
    try:
        for _ in range(3):
            writer = _supervisor(tmp_path)["writer_pid"]
            assert isinstance(writer, int)
            os.kill(writer, signal.SIGKILL)
            until(lambda w=writer: _supervisor(tmp_path)["writer_pid"] != w, "restart")
        # The third restart waits 4 s: meanwhile health says the writer is down.
        writer = _supervisor(tmp_path)["writer_pid"]
        assert isinstance(writer, int)
        os.kill(writer, signal.SIGKILL)
        until(lambda: health(base)[0] == 503, "health 503 while the writer is down")
        _, document = health(base)
        assert document["writer"]["state"] == "restarting"  # type: ignore[index]
        until(lambda: health(base)[0] == 200, "health back after the restart")
        assert _supervisor(tmp_path)["restarts"] == 4
    finally:
        assert stop_server(process) == 0


@pytest.mark.slow
def test_a_slowly_written_file_is_never_published_half(seeds: Path, tmp_path: Path) -> None:
    process, base = start_server(seeds, tmp_path)
    text = article_text("Science", "Slow arrival", ["First half of the text."] * 3)
    rest = "\n\nThe second half, written after a pause."
    seen_half: list[str] = []
    stop = threading.Event()

    def poll() -> None:
        deadline = time.monotonic() + 30
        while not stop.is_set() and time.monotonic() < deadline:
            for path in ("/feeds/atom.xml", "/articles/slow-arrival/"):
                status, body, _ = fetch(base + path)
                if b"First half" in body and b"second half" not in body:
                    seen_half.append(f"{path} ({status})")

    poller = threading.Thread(target=poll, daemon=True)
    try:
        poller.start()
        with (seeds / "080_slow.txt").open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            time.sleep(0.6)  # as scp or a slow share does; within the settle time (1 s)
            handle.write(rest)
        until(lambda: b"second half" in fetch(base + "/feeds/atom.xml")[1], "slow file")
        stop.set()
        poller.join(10)
        assert seen_half == []
    finally:
        stop.set()
        assert stop_server(process) == 0


@pytest.mark.slow
def test_two_servers_on_one_address_the_second_exits_2(seeds: Path, tmp_path: Path) -> None:
    first, base = start_server(seeds, tmp_path)
    try:
        port = base.rsplit(":", 1)[1]
        other = tmp_path / "other"
        other.mkdir()
        write_article(other, "x", "Other", "Another publication", "Body.")
        result = subprocess.run(
            [sys.executable, "-m", "feedsvc", "serve", "--port", port, "--workers", "1"],
            env={
                **{k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")},
                "FEEDSVC_SEEDS_DIR": str(other),
                "FEEDSVC_DATABASE": str(other / "db.sqlite3"),
            },
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1
        assert f"127.0.0.1:{port}" in lines[0]
        assert "listening there already" in lines[0]
        for _ in range(20):  # every answer still comes from the first server
            assert b"Another publication" not in fetch(base + "/feeds/atom.xml")[1]
        assert first.poll() is None
    finally:
        assert stop_server(first) == 0


def test_serve_on_a_free_port_after_a_refusal(seeds: Path, tmp_path: Path) -> None:
    port = free_port()
    from feedsvc.service.listen import check_free

    check_free("127.0.0.1", port)  # nothing there: no error


@pytest.mark.slow
def test_a_stalled_writer_is_killed_and_restarted(seeds: Path, tmp_path: Path) -> None:
    process, base = start_server(seeds, tmp_path, env={"FEEDSVC_WRITER_STALL_SECONDS": "5"})
    try:
        writer = _supervisor(tmp_path)["writer_pid"]
        assert isinstance(writer, int)
        os.kill(writer, signal.SIGSTOP)  # alive, but no progress: a hang
        write_article(seeds, "071_after_stall", "Science", "Published after the stall", "Yes.")
        until(lambda: b"after the stall" in fetch(base + "/feeds/atom.xml")[1], "after stall")
        assert str(_supervisor(tmp_path)["last_exit"]).startswith("stalled for")
    finally:
        assert stop_server(process) == 0
    log = next(tmp_path.glob("server-*.log")).read_text()
    assert "made no progress for" in log


@pytest.mark.slow
def test_feedsvc_status_says_what_health_says(seeds: Path, tmp_path: Path) -> None:
    process, base = start_server(seeds, tmp_path)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")},
        "FEEDSVC_SEEDS_DIR": str(seeds),
        "FEEDSVC_DATABASE": str(tmp_path / "served.sqlite3"),
        "FEEDSVC_RUN_DIR": str(tmp_path / "run"),
    }
    command = [sys.executable, "-m", "feedsvc", "status"]
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.startswith("status: ok")
        as_json = subprocess.run(
            [*command, "--json"], env=env, capture_output=True, text=True, timeout=30
        )
        assert json.loads(as_json.stdout)["writer"]["state"] == "running"
        assert health(base)[1]["status"] == "ok"
    finally:
        assert stop_server(process) == 0
    stopped = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
    assert stopped.returncode == 1
    assert "not running" in stopped.stdout


def test_a_state_file_that_cannot_be_written_is_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from feedsvc.health import write_state

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the run folder should be", encoding="utf-8")
    with caplog.at_level("INFO", logger="feedsvc.health"):
        assert not write_state(blocked, "writer.json", {"a": 1})
        assert not write_state(blocked, "writer.json", {"a": 2})
        blocked.unlink()
        assert write_state(blocked, "writer.json", {"a": 3})
    messages = [record.getMessage() for record in caplog.records]
    assert sum("cannot write" in m for m in messages) == 1
    assert sum("is written again" in m for m in messages) == 1
    assert json.loads((blocked / "writer.json").read_text()) == {"a": 3}


def test_a_restored_catalog_is_written_at_the_next_wake_up_not_after_the_backoff(
    seeds: Path, tmp_path: Path
) -> None:
    # The writer backs off up to a minute between failed attempts; once the catalog is back
    # (restored by hand) waiting out that backoff would keep the site stale for no reason.
    settings = load_settings(
        {},
        {
            "SEEDS_DIR": seeds,
            "DATABASE": tmp_path / "c.sqlite3",
            "SETTLE_MS": 0,
            "RUN_DIR": tmp_path / "run",
        },
    )
    writer = Writer(settings)
    assert writer.run_once() is not None
    backup_now(settings)
    settings.database.unlink()
    for _ in range(4):  # the catalog is gone: each attempt fails, the backoff grows to 8 s
        assert writer.run_once() is None
    assert writer.due is not None
    assert writer.due - time.monotonic() > 5
    write_article(seeds, "090_during", "Science", "Written while it was gone", "Body.")
    restore(settings)
    writer._tick(changed=False, next_rescan=time.monotonic() + 3600)
    assert writer.state["last_error"] is None
    titles = {record.title for record, _, _ in open_catalog(settings.database).each_live()}
    assert "Written while it was gone" in titles


def test_a_file_written_while_the_writer_starts_is_published(seeds: Path, tmp_path: Path) -> None:
    # Between the writer's first ingest and the moment it starts watching the folder, a file
    # can arrive: it must not wait for the next full rescan (an hour in this test).
    settings = load_settings(
        {},
        {
            "SEEDS_DIR": seeds,
            "DATABASE": tmp_path / "c.sqlite3",
            "SETTLE_MS": 0,
            "RUN_DIR": tmp_path / "run",
            "RESCAN_SECONDS": 3600,
        },
    )

    class Starting(Writer):
        wrote = False

        def run_once(self) -> IngestReport | None:
            report = super().run_once()
            if not self.wrote:  # right after the first ingest, as a copy finishing then
                self.wrote = True
                write_article(seeds, "090_start", "Science", "Written at start", "Body.")
            return report

    writer = Starting(settings)
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        titles: set[str] = set()
        while "Written at start" not in titles and time.monotonic() < deadline:
            time.sleep(0.1)
            if settings.database.exists():
                catalog = open_catalog(settings.database, readonly=True)
                try:
                    titles = {record.title for record, _, _ in catalog.each_live()}
                finally:
                    catalog.close()
        assert "Written at start" in titles
    finally:
        writer.stop_event.set()
        thread.join(10)


def test_an_ingest_due_before_the_next_wake_up_runs_when_due(
    seeds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file settling sooner than the next wake-up is read when it settles, not up to a tick
    later (the writer wakes every TICK_MS at least)."""
    settings = load_settings(
        {},
        {
            "SEEDS_DIR": seeds,
            "DATABASE": tmp_path / "c.sqlite3",
            "SETTLE_MS": 0,
            "RUN_DIR": tmp_path / "run",
        },
    )
    writer = Writer(settings)
    ran: list[float] = []
    monkeypatch.setattr(writer, "run_once", lambda: ran.append(time.monotonic()))
    due = time.monotonic() + 0.1
    writer.due = due
    writer._tick(changed=False, next_rescan=time.monotonic() + 3600)
    assert len(ran) == 1
    assert ran[0] >= due  # not before it settles
    writer.due = time.monotonic() + 30  # far beyond the next wake-up: left for later
    writer._tick(changed=False, next_rescan=time.monotonic() + 3600)
    assert len(ran) == 1
