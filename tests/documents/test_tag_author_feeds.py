"""Tag and author scopes: pages, Atom/RSS/JSON feeds with RFC 5005 archives at fixed places,
discovery (pages, OPML, /feeds/, sitemap), links from article pages, and old catalogs."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import feedparser
import listparser
import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree, html

from feedsvc.catalog import Catalog, open_catalog, schema
from feedsvc.catalog import members as members_module
from feedsvc.service.writer import changed_feeds
from feedsvc.web.app import create_app
from tests.conftest import SITE_URL, T0, article_text, run_ingest


def _write(folder: Path, key: str, title: str, *, tags: str = "", author: str = "") -> None:
    front = ["---", f"tags: [{tags}]"] + ([f"author: {author}"] if author else []) + ["---"]
    body = article_text("World", title, [f"{title} body."])
    (folder / f"{key}.txt").write_text("\n".join(front) + "\n" + body, encoding="utf-8")


@pytest.fixture
def newsroom(tmp_path: Path) -> Path:
    folder = tmp_path / "news"
    folder.mkdir()
    _write(folder, "001", "Heat record", tags="Climate, Europe", author="Ana Lima")
    _write(folder, "002", "Flood warning", tags="climate", author="Bo Chen")
    _write(folder, "003", "Launch delayed", tags="Space", author="Ana Lima")
    _write(folder, "004", "Rain returns", tags="Climate")
    _write(folder, "005", "Élections: a recount", tags="Élections")
    return folder


def _app(folder: Path, database: Path, **extra: object) -> Flask:
    return create_app(
        {"SEEDS_DIR": folder, "DATABASE": database, "SITE_URL": SITE_URL, "FEED_SIZE": 2, **extra}
    )


def _titles(client: FlaskClient, path: str) -> list[str]:
    data = client.get(path).data
    if path.endswith(".json"):
        return [item["title"] for item in json.loads(data)["items"]]
    parsed = feedparser.parse(data)
    assert not parsed.bozo, (path, parsed.get("bozo_exception"))
    return [entry.title for entry in parsed.entries]


def test_tag_and_author_feeds_hold_exactly_their_articles(
    newsroom: Path, database: Path, catalog: Catalog
) -> None:
    run_ingest(catalog, newsroom)
    client = _app(newsroom, database).test_client()
    # "Climate" and "climate" are one tag (one slug), named by its first name in sort order.
    for filename in ("atom.xml", "rss.xml", "feed.json"):
        assert _titles(client, f"/tags/climate/{filename}") == ["Rain returns", "Flood warning"]
        assert _titles(client, f"/authors/ana-lima/{filename}") == ["Launch delayed", "Heat record"]
    assert _titles(client, "/tags/elections/atom.xml") == ["Élections: a recount"]
    atom = feedparser.parse(client.get("/tags/climate/atom.xml").data)
    assert atom.feed.title.endswith(": Climate")
    assert atom.feed.link == f"{SITE_URL}/tags/climate/"
    authors = feedparser.parse(client.get("/authors/ana-lima/atom.xml").data)
    assert authors.feed.title.endswith(": by Ana Lima")
    # Ids are distinct per scope and never those of the site's or a section's feed.
    ids = {
        feedparser.parse(client.get(path).data).feed.id
        for path in (
            "/feeds/atom.xml",
            "/sections/world/atom.xml",
            "/tags/climate/atom.xml",
            "/authors/ana-lima/atom.xml",
            "/tags/space/atom.xml",
        )
    }
    assert len(ids) == 5
    assert client.get("/tags/nothing/atom.xml").status_code == 404
    assert client.get("/authors/nobody/").status_code == 404
    assert client.get("/tags/climate/page/1/").status_code == 301


def test_pages_link_their_feeds_and_articles_link_their_tags_and_author(
    newsroom: Path, database: Path, catalog: Catalog
) -> None:
    run_ingest(catalog, newsroom)
    client = _app(newsroom, database).test_client()
    page = html.fromstring(client.get("/tags/climate/").data)
    assert page.findtext(".//h1") == "Tagged “Climate”"
    alternates = page.xpath("//link[@rel='alternate']/@href")
    for filename in ("atom.xml", "rss.xml", "feed.json"):
        assert f"{SITE_URL}/tags/climate/{filename}" in alternates
    listed = {a.text_content() for a in page.xpath("//main//a[contains(@href, '/articles/')]")}
    assert {"Heat record", "Flood warning", "Rain returns"} <= listed
    assert "Launch delayed" not in listed
    author_page = html.fromstring(client.get("/authors/bo-chen/").data)
    assert author_page.findtext(".//h1") == "Articles by Bo Chen"
    slug = catalog.latest(10, member=("author", "bo-chen"))[0].slug
    article = html.fromstring(client.get(f"/articles/{slug}/").data)
    assert article.xpath("//a[@rel='author']/@href") == [f"{SITE_URL}/authors/bo-chen/"]
    assert article.xpath("//a[@rel='tag']/@href") == [f"{SITE_URL}/tags/climate/"]


def test_opml_feeds_page_and_sitemap_list_them(
    newsroom: Path, database: Path, catalog: Catalog
) -> None:
    run_ingest(catalog, newsroom)
    client = _app(newsroom, database).test_client()
    urls = {feed.url for feed in listparser.parse(client.get("/feeds.opml").data.decode()).feeds}
    for path in ("/tags/climate/atom.xml", "/tags/space/rss.xml", "/authors/bo-chen/feed.json"):
        assert SITE_URL + path in urls
    feeds_page = client.get("/feeds/").data.decode()
    assert f"{SITE_URL}/tags/europe/atom.xml" in feeds_page
    assert f"{SITE_URL}/authors/ana-lima/rss.xml" in feeds_page
    sitemap = etree.fromstring(client.get("/sitemap.xml").data)
    locs = sitemap.xpath("//*[local-name()='loc']/text()")
    assert f"{SITE_URL}/tags/climate/" in locs
    assert f"{SITE_URL}/authors/ana-lima/" in locs


def test_archives_keep_fixed_places_with_holes(
    newsroom: Path, database: Path, catalog: Catalog
) -> None:
    for number in range(6, 12):
        _write(newsroom, f"{number:03d}", f"Climate story {number}", tags="Climate")
    run_ingest(catalog, newsroom)
    client = _app(newsroom, database).test_client()

    def archive(block: int) -> list[str]:
        return _titles(client, f"/tags/climate/archive/{block}/atom.xml")

    # Places in file order: 001, 002, 004, 006..011 -> blocks of 2.
    assert archive(1) == ["Flood warning", "Heat record"]
    first_block = client.get("/tags/climate/archive/1/atom.xml")
    assert "immutable" in first_block.headers["Cache-Control"]
    # 002 drops the tag: a hole in block 1; it keeps no place; coming back takes a new one.
    _write(newsroom, "002", "Flood warning", tags="Space", author="Bo Chen")
    run_ingest(catalog, newsroom, now=T0 + timedelta(hours=1))
    assert archive(1) == ["Heat record"]
    assert archive(2) == ["Climate story 6", "Rain returns"]
    _write(newsroom, "002", "Flood warning", tags="Climate", author="Bo Chen")
    run_ingest(catalog, newsroom, now=T0 + timedelta(hours=2))
    assert archive(1) == ["Heat record"]
    blocks = catalog.slots(member=("tag", "climate"))
    assert blocks == 10
    assert sorted(archive(5)) == ["Climate story 11", "Flood warning"]
    # Walking the archive chain from the subscription feed finds every live article once.
    seen: list[str] = []
    parsed = feedparser.parse(client.get("/tags/climate/atom.xml").data)
    seen += [e.title for e in parsed.entries]
    links = {link.rel: link.href for link in parsed.feed.links}
    while "prev-archive" in links:
        parsed = feedparser.parse(client.get(links["prev-archive"].removeprefix(SITE_URL)).data)
        seen += [e.title for e in parsed.entries]
        links = {link.rel: link.href for link in parsed.feed.links}
    assert sorted(set(seen)) == sorted(
        r.title for r in catalog.latest(50, member=("tag", "climate"))
    )


def test_a_removed_article_leaves_a_tombstone_in_its_tag_feed(
    newsroom: Path, database: Path, catalog: Catalog
) -> None:
    _write(newsroom, "006", "Orbit reached", tags="Space")
    run_ingest(catalog, newsroom)
    gone = catalog.latest(10, member=("tag", "space"))[1]
    (newsroom / "003.txt").unlink()
    run_ingest(catalog, newsroom, now=T0 + timedelta(hours=1))
    client = _app(newsroom, database).test_client()
    atom = etree.fromstring(client.get("/tags/space/atom.xml").data)
    refs = atom.xpath("//*[local-name()='deleted-entry']/@ref")
    assert refs == [gone.entry_id]
    assert _titles(client, "/tags/space/atom.xml") == ["Orbit reached"]
    assert client.get("/authors/ana-lima/atom.xml").status_code == 200


def test_an_old_catalog_gets_its_tag_and_author_places(
    newsroom: Path, database: Path, catalog: Catalog
) -> None:
    run_ingest(catalog, newsroom)
    expected = catalog.connection.execute(
        "SELECT kind, slug, place, name, key FROM members ORDER BY kind, slug, place"
    ).fetchall()
    catalog.close()
    version = schema._MIGRATIONS.index(members_module.create)
    with sqlite3.connect(database) as db:
        db.execute("DROP TABLE members")
        db.execute("DROP TABLE scope_places")
        db.execute("DROP TABLE set_aside")  # later migrations': an old catalog lacks them too
        db.execute("DROP INDEX articles_section_live")
        db.execute("DROP INDEX articles_stamps")
        db.execute(f"PRAGMA user_version = {version}")
    reopened = open_catalog(database)
    try:
        rows = reopened.connection.execute(
            "SELECT kind, slug, place, name, key FROM members ORDER BY kind, slug, place"
        ).fetchall()
        assert [tuple(row) for row in rows] == [tuple(row) for row in expected]
    finally:
        reopened.close()


def test_a_place_is_never_given_twice(newsroom: Path, database: Path, catalog: Catalog) -> None:
    run_ingest(catalog, newsroom)
    assert catalog.slots(member=("tag", "climate")) == 3  # 001, 002, 004
    # The article in the last place leaves the tag, then a new one joins: a new place.
    _write(newsroom, "004", "Rain returns", tags="Space")
    run_ingest(catalog, newsroom, now=T0 + timedelta(hours=1))
    _write(newsroom, "007", "Drought", tags="Climate")
    run_ingest(catalog, newsroom, now=T0 + timedelta(hours=2))
    places = catalog.connection.execute(
        "SELECT place FROM members WHERE kind = 'tag' AND slug = 'climate' ORDER BY place"
    ).fetchall()
    assert [row[0] for row in places] == [1, 2, 4]
    assert catalog.slots(member=("tag", "climate")) == 4
    # The same for sections: the last article of a section moves away, a new one arrives.
    last = catalog.connection.execute(
        "SELECT key, section_seq FROM articles WHERE section_slug = 'world' "
        "ORDER BY section_seq DESC LIMIT 1"
    ).fetchone()
    text = (newsroom / f"{last[0]}.txt").read_text(encoding="utf-8")
    (newsroom / f"{last[0]}.txt").write_text(text.replace("\nWorld\n", "\nScience\n"), "utf-8")
    run_ingest(catalog, newsroom, now=T0 + timedelta(hours=3))
    _write(newsroom, "008", "Late news")
    run_ingest(catalog, newsroom, now=T0 + timedelta(hours=4))
    (place,) = catalog.connection.execute(
        "SELECT section_seq FROM articles WHERE key = '008'"
    ).fetchone()
    assert place == last[1] + 1


def test_tag_and_author_feeds_are_pinged_when_they_change(
    newsroom: Path, database: Path, catalog: Catalog
) -> None:
    run_ingest(catalog, newsroom)
    _write(newsroom, "002", "Flood warning", tags="Space", author="Ana Lima")
    report = run_ingest(catalog, newsroom, now=T0 + timedelta(hours=1))
    assert report.members == {
        ("tag", "climate"),
        ("tag", "space"),
        ("author", "bo-chen"),
        ("author", "ana-lima"),
    }
    settings = _app(newsroom, database).config["FEEDSVC"]
    feeds = changed_feeds(settings, report)
    for path in ("/tags/climate/atom.xml", "/tags/space/rss.xml", "/authors/bo-chen/feed.json"):
        assert SITE_URL + path in feeds
    assert SITE_URL + "/tags/europe/atom.xml" not in feeds
    (newsroom / "003.txt").unlink()
    removed = run_ingest(catalog, newsroom, now=T0 + timedelta(hours=2))
    assert removed.members == {("tag", "space"), ("author", "ana-lima")}


def test_names_that_differ_by_symbols_are_different_tags(
    newsroom: Path, database: Path, catalog: Catalog
) -> None:
    _write(newsroom, "020", "Pointers", tags="C")
    _write(newsroom, "021", "Templates", tags="C++")
    _write(newsroom, "022", "Delegates", tags="C#")
    _write(newsroom, "023", "Shouting", tags='"!!!", Tag')
    run_ingest(catalog, newsroom)
    client = _app(newsroom, database).test_client()
    assert _titles(client, "/tags/c/atom.xml") == ["Pointers"]
    assert _titles(client, "/tags/c-plus-plus/atom.xml") == ["Templates"]
    assert _titles(client, "/tags/c-sharp/atom.xml") == ["Delegates"]
    assert _titles(client, "/tags/tag/atom.xml") == ["Shouting"]
    slugs = {tag.slug for tag in catalog.members("tag")}
    assert len([slug for slug in slugs if slug.startswith("tag-")]) == 1  # "!!!" has its own
