"""Whole files only, also for slow writers: a file still open for writing is not read, however
long its writer pauses (a slow copy, a network upload), with the settle time as the fallback."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from feedsvc.articles.settling import Settle, being_written
from feedsvc.catalog import Catalog
from feedsvc.catalog.ingest import ingest
from tests.conftest import T0, article_text, start_server, stop_server
from tests.service.test_live import fetch, until

WHOLE = article_text("World", "Harbour reopens after the storm", ("First paragraph.", "Second."))


def test_a_file_open_for_writing_is_known_as_such(tmp_path: Path) -> None:
    path = tmp_path / "slow.txt"
    with path.open("w") as handle:
        handle.write("half")
        handle.flush()
        assert being_written(str(path)) is True
    assert being_written(str(path)) is False
    with path.open() as reading:  # a reader (an editor that only looks) is no writer
        reading.read()
        assert being_written(str(path)) is False


def test_a_pause_longer_than_the_settle_time_does_not_publish_half_a_file(
    tmp_path: Path, catalog: Catalog
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    settle = Settle(0.2)
    path = seeds / "harbour.txt"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(WHOLE[: len(WHOLE) // 2])
        handle.flush()
        past = time.time() - 5  # the writer paused far longer than the settle time
        os.utime(path, (past, past))
        report = ingest(catalog, seeds, now=T0, settle=settle)
        assert report.added == ()
        assert report.pending == ("harbour",)
        assert report.settle_in is not None
        assert report.settle_in > 0
        handle.write(WHOLE[len(WHOLE) // 2 :])
    past = time.time() - 5
    os.utime(path, (past, past))
    assert ingest(catalog, seeds, now=T0, settle=settle).added == ("harbour",)
    (record,) = catalog.latest(10)
    assert record.paragraphs == ("First paragraph.", "Second.")


@pytest.mark.slow
@pytest.mark.e2e
def test_a_slow_copy_is_published_whole_by_the_running_server(seeds: Path, tmp_path: Path) -> None:
    process, base = start_server(seeds, tmp_path, env={"FEEDSVC_SETTLE_MS": "300"})
    try:
        path = seeds / "090_slow.txt"
        with path.open("w", encoding="utf-8") as handle:
            handle.write(WHOLE[: len(WHOLE) // 2])
            handle.flush()
            deadline = time.monotonic() + 2.5  # over eight settle times, as a slow copy does
            while time.monotonic() < deadline:
                titles = [
                    i["title"] for i in json.loads(fetch(base + "/feeds/feed.json")[1])["items"]
                ]
                assert not any("Harbour" in title for title in titles), titles
                time.sleep(0.1)
            handle.write(WHOLE[len(WHOLE) // 2 :])

        seen: list[dict[str, str]] = []

        def published() -> bool:
            # The item as the answer that first showed it (another worker may take a moment
            # longer to notice the new catalog state).
            items = json.loads(fetch(base + "/feeds/feed.json")[1])["items"]
            seen[:] = [i for i in items if i["title"] == "Harbour reopens after the storm"]
            return bool(seen)

        until(published, "the whole file")
        assert "Second." in seen[0]["content_html"]  # whole, never the half written first
    finally:
        assert stop_server(process) == 0
