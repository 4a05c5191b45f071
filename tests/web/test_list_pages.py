"""List pages are fixed blocks of places, the newest on the front page: a new, edited or
withdrawn article changes a constant number of list pages per scope, every page number ever
published keeps answering, and the same catalog gives the same bytes."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html

from feedsvc import urlmap
from feedsvc.catalog import Catalog, open_catalog
from feedsvc.export.listing import site_paths
from feedsvc.web.app import create_app
from tests.conftest import SITE_URL, T0, run_ingest, write_article
from tests.corpus import write_corpus

SIZE = 4  # articles per list page: small, so that many pages and block boundaries are crossed


def _app(seeds: Path, database: Path) -> Flask:
    return create_app(
        {
            "SEEDS_DIR": seeds,
            "DATABASE": database,
            "SITE_URL": SITE_URL,
            "PAGE_SIZE": SIZE,
            "FEED_SIZE": SIZE,
            "ACCESS_LOG": False,
        }
    )


@pytest.fixture
def newsroom(tmp_path: Path, database: Path, catalog: Catalog) -> tuple[Path, Flask]:
    seeds = tmp_path / "seeds"
    write_corpus(seeds, 41)
    run_ingest(catalog, seeds)
    return seeds, _app(seeds, database)


def _answer(client: FlaskClient, path: str) -> bytes:
    """Return a list URL's body, or what it redirects to."""
    response = client.get(path)
    if response.status_code == 301:
        return b"301 " + response.headers["Location"].encode()
    assert response.status_code == 200, path
    return response.data


def _lists(app: Flask) -> dict[str, bytes]:
    """Return every list URL the map names (pages and page numbers that redirect) with its
    answer, as the export writes them."""
    paths, redirects = site_paths(app.config["FEEDSVC"])
    listed = [p for p in paths if urlmap.path_kind(p) == "list"]
    listed += [old for old, _new in redirects if urlmap.path_kind(old) == "list"]
    client = app.test_client()
    return {path: _answer(client, path) for path in listed}


def _scope(path: str) -> str:
    """Return the scope a list URL belongs to ('/' for the site, '/sections/x/' ...)."""
    parts = path.split("/")
    return "/" if parts[1] in ("", "page") else "/".join(parts[:3]) + "/"


def _changed(before: dict[str, bytes], after: dict[str, bytes]) -> Counter[str]:
    """Return, per scope, how many list URLs were added, removed or answer other bytes."""
    return Counter(
        _scope(path) for path in before.keys() | after.keys() if before.get(path) != after.get(path)
    )


def _old_numbers(client: FlaskClient) -> list[str]:
    """Return the page URLs that newest-first numbering published for this catalog: /page/1/
    up to the last page of each scope's live articles."""
    found = []
    paths, _ = site_paths(client.application.config["FEEDSVC"])
    for root in {_scope(p) for p in paths if urlmap.path_kind(p) == "list"}:
        slug = None if root == "/" else root.split("/")[2]
        total = _count(client, root)
        for number in range(1, urlmap.pages(total, SIZE) + 1):
            found.append(urlmap.listing(slug, number))
    return found


def _count(client: FlaskClient, root: str) -> int:
    """Return how many articles a scope's pages show in all."""
    seen: set[str] = set()
    path: str | None = root
    while path is not None:
        page = html.fromstring(client.get(path).data)
        seen.update(page.xpath("//main//article//h2/a/@href"))
        older = page.xpath("//a[@rel='next']/@href")
        path = older[0].removeprefix(SITE_URL) if older else None
    return len(seen)


def _answers(client: FlaskClient, path: str) -> bool:
    """Return whether a URL answers 200, directly or after one 301 to this site."""
    response = client.get(path)
    if response.status_code == 301:
        target = response.headers["Location"]
        assert target.startswith(SITE_URL)
        response = client.get(target.removeprefix(SITE_URL))
    return response.status_code == 200


def test_a_new_article_changes_a_constant_number_of_list_pages(
    newsroom: tuple[Path, Flask], catalog: Catalog
) -> None:
    seeds, app = newsroom
    before = _lists(app)
    moment = T0
    most: Counter[str] = Counter()
    for n in range(12):  # three blocks' worth: the front page lets go of blocks twice
        moment += timedelta(hours=1)
        write_article(seeds, f"1{n:04d}_new", "Science", f"Fresh {n}", "News.")
        run_ingest(catalog, seeds, now=moment)
        after = _lists(app)
        changed = _changed(before, after)
        # Only the site's and Science's lists; the front page, and when the front page lets go
        # of a block, that block's page (until now a redirect) and the page before it.
        assert set(changed) == {"/", "/sections/science/"}, changed
        assert max(changed.values()) <= 3, changed
        most |= changed
        before = after
    assert most == {"/": 3, "/sections/science/": 3}  # the boundaries were crossed
    assert len(before) > 15  # with many more pages than change


def test_an_edit_or_a_withdrawal_changes_its_own_page_and_the_counts(
    newsroom: tuple[Path, Flask], catalog: Catalog
) -> None:
    seeds, app = newsroom
    before = _lists(app)
    write_article(seeds, "00005_story", "Business", "Story 5, retold", "Text.")
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=1))
    after = _lists(app)
    # Its own page only: no count changed, and it is not on a front page.
    assert _changed(before, after) == {"/": 1, "/sections/business/": 1}
    (seeds / "00009_story.txt").unlink()
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=2))
    again = _lists(app)
    # Its own page (a hole now, nothing shifts) and the front pages, which show counts.
    assert _changed(after, again) == {"/": 2, "/sections/business/": 2}


def test_every_page_number_ever_published_keeps_answering(
    newsroom: tuple[Path, Flask], catalog: Catalog
) -> None:
    seeds, app = newsroom
    client = app.test_client()
    # The numbers newest-first paging gave, and every list URL of each state to come.
    published = set(_old_numbers(client)) | set(_lists(app))
    moment = T0
    for n in range(9):
        moment += timedelta(hours=1)
        if n % 3 == 2:
            (seeds / f"{n:05d}_story.txt").unlink()
        else:
            write_article(seeds, f"1{n:04d}_new", "World News", f"Fresh {n}", "News.")
        run_ingest(catalog, seeds, now=moment)
        published |= set(_lists(app))
        for path in sorted(published):
            assert _answers(client, path), (n, path)
    assert {"/page/1/", "/page/11/", "/sections/science/page/3/"} <= published


def test_pages_walk_every_article_once_newest_first(newsroom: tuple[Path, Flask]) -> None:
    _seeds, app = newsroom
    client = app.test_client()
    front = html.fromstring(client.get("/").data)
    # 41 places in blocks of 4: the newest block holds one, so the front page shows two blocks.
    assert len(front.xpath("//main//article")) == 5
    assert front.xpath("//a[@rel='prev']") == []
    assert front.xpath("//a[@rel='next']/@href") == [f"{SITE_URL}/page/9/"]
    page = html.fromstring(client.get("/page/9/").data)
    assert page.xpath("//a[@rel='prev']/@href") == [f"{SITE_URL}/"]
    assert page.xpath("//a[@rel='next']/@href") == [f"{SITE_URL}/page/8/"]
    assert page.findtext(".//title").endswith("· page 9")
    oldest = html.fromstring(client.get("/page/1/").data)
    assert oldest.xpath("//a[@rel='prev']/@href") == [f"{SITE_URL}/page/2/"]
    assert oldest.xpath("//a[@rel='next']") == []
    titles: list[str] = []
    path: str | None = "/"
    while path is not None:
        page = html.fromstring(client.get(path).data)
        titles += page.xpath("//main//article//h2/a/text()")
        older = page.xpath("//a[@rel='next']/@href")
        path = older[0].removeprefix(SITE_URL) if older else None
    assert titles == [f"Story {n}: {_section(n)} update" for n in reversed(range(41))]
    for number in (10, 11):  # the blocks on the front page
        moved = client.get(f"/page/{number}/")
        assert (moved.status_code, moved.location) == (301, f"{SITE_URL}/")
    assert client.get("/page/12/").status_code == 404
    assert client.get("/page/0/").status_code == 404
    # A section's count is on its front page only: on every page it would change them all.
    science = html.fromstring(client.get("/sections/science/").data)
    assert science.xpath("string(//p[@class='lede'])").startswith("10 articles")
    older = html.fromstring(client.get("/sections/science/page/1/").data)
    assert "articles" not in older.xpath("string(//p[@class='lede'])")


def _section(n: int) -> str:
    return ("World News", "Business", "Science", "Économie & Société")[n % 4]


def test_the_same_catalog_gives_the_same_list_pages(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    write_corpus(seeds, 23)
    answers = []
    for name in ("one", "two"):
        database = tmp_path / name / "catalog.sqlite3"
        catalog = open_catalog(database, create=True)
        run_ingest(catalog, seeds)
        catalog.close()
        answers.append(_lists(_app(seeds, database)))
    assert answers[0] == answers[1]
    assert len(answers[0]) > 10
