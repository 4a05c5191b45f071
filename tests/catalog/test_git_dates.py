"""Dates and ids from the articles' git history: the same on every machine, any day."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feedsvc.catalog import Catalog, open_catalog, parse_time
from feedsvc.catalog.safekeeping import run_ingest
from feedsvc.config.settings import Settings, load_settings
from tests.conftest import article_text, feedsvc_command
from tests.gitrepo import DAY0, Repo

DAY = timedelta(days=1)
LONG = " ".join(["A paragraph long enough for git to see a renamed file as the same one."] * 4)
SITE = "https://news.example.org"


def text(title: str, body: str = "Body.", front: str = "") -> str:
    return front + article_text("World", title, [LONG, body])


def settings_for(seeds: Path, database: Path, **more: Any) -> Settings:
    return load_settings(
        {}, {"SEEDS_DIR": seeds, "DATABASE": database, "SETTLE_MS": 0, "SITE_URL": SITE, **more}
    )


def rows(database: Path) -> dict[str, tuple[str, datetime, datetime, int]]:
    """Return key -> (entry id, published, updated, place on the site)."""
    catalog: Catalog = open_catalog(database, readonly=True)
    try:
        found = catalog.connection.execute(
            "SELECT key, entry_id, published, updated, seq FROM articles"
        ).fetchall()
    finally:
        catalog.close()
    return {row[0]: (row[1], parse_time(row[2]), parse_time(row[3]), row[4]) for row in found}


@pytest.fixture
def newsroom(tmp_path: Path) -> Repo:
    """A publisher's repository: three articles committed on three days, one renamed and
    one edited since, and one with front-matter dates."""
    repo = Repo(tmp_path / "newsroom")
    repo.write("articles/zebra.txt", text("Zebras cross"))
    repo.commit("zebra", DAY0)
    repo.write("articles/apple.txt", text("Apples fall"))
    repo.commit("apple", DAY0 + DAY)
    repo.write("articles/dated.txt", text("Dated", front="---\ndate: 2020-05-01T10:00:00Z\n---\n"))
    repo.git("mv", "articles/zebra.txt", "articles/zebras.txt")
    repo.commit("rename zebra, add dated", DAY0 + 2 * DAY)
    repo.write("articles/apple.txt", text("Apples fall", "Corrected."))
    repo.commit("correct apple", DAY0 + 3 * DAY)
    return repo


def clone(repo: Repo, where: Path, *depth: str) -> Path:
    subprocess.run(["git", "clone", "-q", *depth, f"file://{repo.top}", str(where)], check=True)
    return where / "articles"


def test_two_machines_on_two_days_mint_the_same_ids_and_dates(
    newsroom: Repo, tmp_path: Path
) -> None:
    first = clone(newsroom, tmp_path / "runner-a")
    second = clone(newsroom, tmp_path / "runner-b")
    run_ingest(settings_for(first, tmp_path / "a.sqlite3"), now=DAY0 + 10 * DAY)
    run_ingest(settings_for(second, tmp_path / "b.sqlite3"), now=DAY0 + 13 * DAY)

    a, b = rows(tmp_path / "a.sqlite3"), rows(tmp_path / "b.sqlite3")
    assert a == b
    # The first commit's day; the id of the name it was first committed under.
    assert a["zebras"][0] == "tag:news.example.org,2025-01-06:zebra"
    assert a["zebras"][1:3] == (DAY0, DAY0)  # renamed: keeps the date it was added
    assert a["apple"][1:3] == (DAY0 + DAY, DAY0 + 3 * DAY)  # added, then corrected
    assert a["dated"][1] == datetime(2020, 5, 1, 10, tzinfo=UTC)  # front matter first


def test_a_server_that_saw_each_commit_and_a_fresh_clone_agree(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "newsroom")
    server = tmp_path / "server.sqlite3"
    folder = repo.top / "articles"
    steps = [
        ("zebra.txt", "Zebras cross", None),
        ("apple.txt", "Apples fall", None),
        ("zebras.txt", "Zebras cross", "zebra.txt"),  # renamed
        ("zebra.txt", "A new zebra", None),  # a new article under the old name
        ("apple.txt", "Apples fall, corrected", None),
    ]
    for day, (name, title, renamed_from) in enumerate(steps):
        if renamed_from:
            repo.git("mv", f"articles/{renamed_from}", f"articles/{name}")
        else:
            repo.write(f"articles/{name}", text(title))
        repo.commit(f"step {day}", DAY0 + day * DAY)
        run_ingest(settings_for(folder, server), now=DAY0 + day * DAY + timedelta(hours=1))
    fresh = clone(repo, tmp_path / "runner")
    run_ingest(settings_for(fresh, tmp_path / "fresh.sqlite3"), now=DAY0 + 30 * DAY)
    seen, rebuilt = rows(server), rows(tmp_path / "fresh.sqlite3")
    assert {k: v[:3] for k, v in seen.items()} == {k: v[:3] for k, v in rebuilt.items()}
    assert seen["zebras"][0].endswith(":zebra")
    assert seen["zebra"][0].endswith(":zebra~2")


def test_new_articles_take_their_places_in_publication_order(
    newsroom: Repo, tmp_path: Path
) -> None:
    folder = clone(newsroom, tmp_path / "runner")
    run_ingest(settings_for(folder, tmp_path / "c.sqlite3"), now=DAY0 + 10 * DAY)
    places = {key: row[3] for key, row in rows(tmp_path / "c.sqlite3").items()}
    # zebras (day 0) before apple (day 1) before dated (committed day 2), not by name.
    assert places["zebras"] < places["apple"] < places["dated"]


def test_recorded_dates_never_move(newsroom: Repo, tmp_path: Path) -> None:
    folder = newsroom.top / "articles"
    newsroom.write("articles/late.txt", text("Late"))  # seen before it is committed
    database = tmp_path / "d.sqlite3"
    seen = DAY0 + 20 * DAY
    run_ingest(settings_for(folder, database), now=seen)
    assert rows(database)["late"][1:3] == (seen, seen)
    newsroom.commit("late", DAY0 + 30 * DAY)
    run_ingest(settings_for(folder, database), now=DAY0 + 31 * DAY)
    assert rows(database)["late"][1:3] == (seen, seen)


def test_an_edit_takes_its_commit_date_or_the_time_it_is_seen(
    newsroom: Repo, tmp_path: Path
) -> None:
    folder = newsroom.top / "articles"
    database = tmp_path / "e.sqlite3"
    run_ingest(settings_for(folder, database), now=DAY0 + 10 * DAY)
    newsroom.write("articles/apple.txt", text("Apples fall", "Not yet committed."))
    seen = DAY0 + 11 * DAY
    run_ingest(settings_for(folder, database), now=seen)
    assert rows(database)["apple"][2] == seen
    newsroom.write("articles/zebras.txt", text("Zebras cross", "Committed edit."))
    newsroom.commit("edit zebras", DAY0 + 12 * DAY)
    run_ingest(settings_for(folder, database), now=DAY0 + 14 * DAY)
    assert rows(database)["zebras"][2] == DAY0 + 12 * DAY
    # A commit dated before what the catalog recorded never moves `updated` back.
    newsroom.write("articles/apple.txt", text("Apples fall", "Committed, backdated."))
    newsroom.commit("backdated", DAY0 + 5 * DAY)
    run_ingest(settings_for(folder, database), now=DAY0 + 15 * DAY)
    assert rows(database)["apple"][2] == DAY0 + 15 * DAY


def test_without_git_dates_the_first_sight_counts(newsroom: Repo, tmp_path: Path) -> None:
    folder = newsroom.top / "articles"
    seen = DAY0 + 40 * DAY
    run_ingest(settings_for(folder, tmp_path / "f.sqlite3", GIT_DATES="0"), now=seen)
    assert rows(tmp_path / "f.sqlite3")["apple"][1] == seen


def cli(folder: Path, database: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        feedsvc_command(folder, database, *args),
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "FEEDSVC_SITE_URL": SITE, "FEEDSVC_SETTLE_MS": "0", **env},
        timeout=120,
        check=False,
    )


def test_a_shallow_clone_refuses_to_date_by_its_one_commit(newsroom: Repo, tmp_path: Path) -> None:
    folder = clone(newsroom, tmp_path / "ci", "--depth", "1")
    done = cli(folder, tmp_path / "g.sqlite3", "ingest")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    said = [line for line in done.stderr.splitlines() if "shallow" in line]
    assert len(said) == 1
    assert "git fetch --unshallow" in said[0]
    assert "fetch-depth: 0" in said[0]
    # Dated another way, a shallow clone is fine.
    allowed = cli(folder, tmp_path / "h.sqlite3", "ingest", FEEDSVC_GIT_DATES="0")
    assert allowed.returncode == 0, allowed.stderr


def test_a_shallow_clone_whose_articles_all_have_front_matter_dates(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "dated")
    for day in range(3):
        front = f"---\ndate: 2024-0{day + 1}-01T00:00:00Z\n---\n"
        repo.write(f"articles/a{day}.txt", text(f"A{day}", front=front))
        repo.commit(f"a{day}", DAY0 + day * DAY)
    folder = clone(repo, tmp_path / "ci", "--depth", "1")
    done = cli(folder, tmp_path / "i.sqlite3", "ingest", FEEDSVC_PUBLICATION_ID="example.org,2024")
    assert done.returncode == 0, done.stderr


def test_a_damaged_repository_stops_with_one_line(newsroom: Repo, tmp_path: Path) -> None:
    folder = clone(newsroom, tmp_path / "broken")
    head = (folder.parent / ".git" / "HEAD").read_text().split()[1]
    (folder.parent / ".git" / head).write_text("0" * 40 + "\n")
    done = cli(folder, tmp_path / "j.sqlite3", "ingest")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "FEEDSVC_GIT_DATES=0" in done.stderr


def test_check_says_where_dates_come_from(newsroom: Repo, tmp_path: Path) -> None:
    newsroom.write("articles/uncommitted.txt", text("Not committed"))
    database = tmp_path / "k.sqlite3"
    folder = newsroom.top / "articles"
    env = {"FEEDSVC_EXPORT_DIR": str(tmp_path / "no-export")}
    done = cli(folder, database, "check", **env)
    assert done.returncode == 0, done.stderr
    assert "dates: 0 of 4 articles keep the dates the catalog recorded" in done.stdout
    assert (
        "a build with no catalog would date them by: front matter 1, deployed record 0, "
        "git 2, first seen 1"
    ) in done.stdout
    assert "warning: 1 articles have no date a fresh build can find" in done.stdout
    assert cli(folder, database, "ingest", **env).returncode == 0
    again = cli(folder, database, "check", **env)
    assert "dates: 4 of 4 articles keep the dates the catalog recorded" in again.stdout


def test_check_warns_about_a_shallow_clone(newsroom: Repo, tmp_path: Path) -> None:
    folder = clone(newsroom, tmp_path / "ci", "--depth", "1")
    done = cli(folder, tmp_path / "l.sqlite3", "check")
    assert done.returncode == 0, done.stderr
    assert "warning: 2 articles would be dated by a shallow git clone" in done.stdout


@pytest.mark.slow
def test_a_build_waits_for_files_dated_in_the_future_and_dates_by_source_date_epoch(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    path = folder / "ahead.txt"
    path.write_text(text("A clock ahead of ours"), encoding="utf-8")
    ahead = time.time() + 7200
    os.utime(path, (ahead, ahead))  # a tarball or another machine's clock
    epoch = 1_700_000_000
    done = cli(
        folder,
        tmp_path / "m.sqlite3",
        "build",
        str(tmp_path / "out"),
        FEEDSVC_SETTLE_MS="1000",
        SOURCE_DATE_EPOCH=str(epoch),
    )
    assert done.returncode == 0, done.stderr
    atom = (tmp_path / "out" / "feeds" / "atom.xml").read_text(encoding="utf-8")
    assert "A clock ahead of ours" in atom
    assert "<published>2023-11-14T22:13:20+00:00</published>" in atom
