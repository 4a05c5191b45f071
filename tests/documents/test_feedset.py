"""The complete feed set over a 95-article corpus: formats, sections, RFC 5005 archives,
discovery, OPML, sitemap, the browser stylesheet, and ids and bytes that never change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
import listparser
import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree, html

from feedsvc.catalog import Catalog
from feedsvc.documents.feeds import ATOM as ATOM_FORMAT
from feedsvc.documents.scopes import Publication
from feedsvc.export.listing import site_paths
from feedsvc.urlmap import FEED_FILENAMES
from feedsvc.web.app import create_app
from tests.conftest import DATA, SITE_URL, T0, run_ingest, start_server, stop_server
from tests.corpus import SECTIONS, write_corpus

ATOM = "{http://www.w3.org/2005/Atom}"
FH = "{http://purl.org/syndication/history/1.0}"
COUNT, SIZE = 95, 20
SECTION_SLUGS = {
    "World News": "world-news",
    "Business": "business",
    "Science": "science",
    "Économie & Société": "economie-societe",
}
SCHEMA = json.loads((DATA / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8"))


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    write_corpus(folder, COUNT)
    return folder


def make_app(corpus: Path, database: Path, **extra: object) -> Flask:
    return create_app(
        {
            "SEEDS_DIR": corpus,
            "DATABASE": database,
            "SITE_URL": SITE_URL,
            "FEED_SIZE": SIZE,
            **extra,
        }
    )


@pytest.fixture
def app(corpus: Path, database: Path, catalog: Catalog) -> Flask:
    run_ingest(catalog, corpus)
    return make_app(corpus, database)


def scope_keys(section: str | None) -> list[str]:
    """Return the keys of a scope's articles, oldest first."""
    return [f"{n:05d}_story" for n in range(COUNT) if section is None or SECTIONS[n % 4] == section]


def key_of(entry_id: str) -> str:
    return entry_id.rsplit(":", 1)[1]


def parse(body: bytes, filename: str) -> tuple[list[str], dict[str, str], bool]:
    """Return a feed document's entry ids, its links by rel, and whether it is an archive."""
    if filename == "feed.json":
        doc = json.loads(body)
        jsonschema.validate(doc, SCHEMA)
        links = {"self": doc["feed_url"]} | (
            {"prev-archive": doc["next_url"]} if "next_url" in doc else {}
        )
        return [item["id"] for item in doc["items"]], links, False
    root = etree.fromstring(body)
    if filename == "atom.xml":
        parent, ids = root, [e.findtext(f"{ATOM}id") for e in root.findall(f"{ATOM}entry")]
    else:
        parent = root.find("channel")
        ids = [item.findtext("guid") for item in parent.findall("item")]
    links = {link.get("rel"): link.get("href") for link in parent.findall(f"{ATOM}link")}
    return ids, links, parent.find(f"{FH}archive") is not None  # type: ignore[return-value]


def fetch(client: FlaskClient, url: str) -> bytes:
    response = client.get(url.removeprefix(SITE_URL))
    assert response.status_code == 200, url
    return response.data


@pytest.mark.slow
@pytest.mark.parametrize("filename", ["atom.xml", "rss.xml", "feed.json"])
@pytest.mark.parametrize("section", [None, *SECTIONS])
def test_archive_chain_reaches_every_article_once_in_order(
    client: FlaskClient, filename: str, section: str | None
) -> None:
    base = f"{SITE_URL}/sections/{SECTION_SLUGS[section]}/" if section else f"{SITE_URL}/feeds/"
    subscription = base + filename
    ids, links, archive = parse(fetch(client, subscription), filename)
    expected = scope_keys(section)
    assert not archive
    assert [key_of(i) for i in ids] == expected[::-1][:SIZE]  # newest first
    seen = set(ids)
    blocks: list[list[str]] = []
    url = links.get("prev-archive")
    newer_url = None
    while url:
        block_ids, block_links, archive = parse(fetch(client, url), filename)
        if filename != "feed.json":
            assert archive
            assert block_links["current"] == subscription
            assert block_links["self"] == url
            assert block_links.get("next-archive") == newer_url
        blocks.append([key_of(i) for i in block_ids])
        newer_url, url = url, block_links.get("prev-archive")
    archived = [key for block in blocks for key in block]
    assert len(archived) == len(set(archived)), "an article is in two archive blocks"
    assert set(archived) | {key_of(i) for i in seen} == set(expected)
    # Oldest block first: fixed blocks of SIZE in first-ingest order.
    assert [sorted(block) for block in reversed(blocks)] == [
        expected[i : i + SIZE] for i in range(0, len(expected), SIZE)
    ]


def test_full_archive_blocks_are_immutable_and_stable(
    catalog: Catalog, corpus: Path, app: Flask
) -> None:
    client = app.test_client()
    before = {n: fetch(client, f"{SITE_URL}/feeds/archive/{n}/atom.xml") for n in (1, 2, 3, 4)}
    (corpus / "99999_late.txt").write_text(
        "Science\n\nLate story\n\nIt came late.", encoding="utf-8"
    )
    (corpus / "00003_story.txt").unlink()
    run_ingest(catalog, corpus, now=T0 + timedelta(days=1))
    # Adding an article never moves another between blocks; a removal leaves a hole.
    assert fetch(client, f"{SITE_URL}/feeds/archive/2/atom.xml") == before[2]
    ids, _, _ = parse(fetch(client, f"{SITE_URL}/feeds/archive/1/atom.xml"), "atom.xml")
    assert len(ids) == SIZE - 1
    with app.app_context():
        pub = Publication(catalog, app.config["FEEDSVC"])
        docs = [pub.feed(pub.scope(), ATOM_FORMAT, n) for n in (1, 4, 5)]
    assert [d.immutable for d in docs] == [True, True, False]


def test_small_scope_has_no_archives(client: FlaskClient) -> None:
    _, links, _ = parse(fetch(client, f"{SITE_URL}/sections/business/atom.xml"), "atom.xml")
    assert "prev-archive" in links  # 24 articles: one full block and a partial one
    assert client.get("/sections/business/archive/3/atom.xml").status_code == 404
    assert client.get("/feeds/archive/0/atom.xml").status_code == 404
    assert client.get("/feeds/archive/6/atom.xml").status_code == 404


@pytest.mark.slow
def test_every_xml_feed_parses_cleanly_with_feedparser(
    client: FlaskClient, app: Flask, catalog: Catalog
) -> None:
    every = site_paths(app.config["FEEDSVC"])[0]
    paths = [path for path in every if path.rsplit("/", 1)[-1] in FEED_FILENAMES]
    assert len(paths) == 3 * (1 + 5) + 4 * 3 * (1 + 2)
    for path in paths:
        body = fetch(client, SITE_URL + path)
        if path.endswith(".json"):
            jsonschema.validate(json.loads(body), SCHEMA)
            continue
        parsed = feedparser.parse(body)
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert parsed.entries


def test_same_id_string_in_every_format(client: FlaskClient) -> None:
    atom = parse(fetch(client, f"{SITE_URL}/feeds/atom.xml"), "atom.xml")[0]
    rss_root = etree.fromstring(fetch(client, f"{SITE_URL}/feeds/rss.xml"))
    guids = rss_root.findall("channel/item/guid")
    assert all(g.get("isPermaLink") == "false" for g in guids)
    items = json.loads(fetch(client, f"{SITE_URL}/feeds/feed.json"))["items"]
    assert atom == [g.text for g in guids] == [item["id"] for item in items]


def test_json_feed_matches_the_atom_feed(client: FlaskClient) -> None:
    atom_body = fetch(client, f"{SITE_URL}/feeds/atom.xml")
    atom = feedparser.parse(atom_body)
    contents = [
        e.findtext(f"{ATOM}content") for e in etree.fromstring(atom_body).iter(f"{ATOM}entry")
    ]
    response = client.get("/feeds/feed.json")
    assert response.content_type == "application/feed+json"
    doc = json.loads(response.data)
    assert doc["language"] == "en"
    assert doc["authors"] == [{"name": "feedsvc newsroom"}]
    assert doc["home_page_url"] == f"{SITE_URL}/"
    assert doc["feed_url"] == f"{SITE_URL}/feeds/feed.json"
    items = doc["items"]
    for entry, content, item in zip(atom.entries, contents, items, strict=True):
        assert (item["id"], item["title"], item["url"]) == (entry.id, entry.title, entry.link)
        assert item["content_html"] == content
        # JSON Feed's summary is plain text; Atom's is that text as HTML.
        assert item["summary"] == html.fromstring(entry.summary).text_content()
        assert item["tags"] == [entry.tags[0].term]
        assert item["date_published"] == entry.published
        assert item["date_modified"] == entry.updated
        assert item["authors"] == [{"name": entry.author}]


def test_section_pages_and_discovery(client: FlaskClient) -> None:
    page = html.fromstring(client.get("/sections/economie-societe/").data)
    assert page.xpath("//h1/text()") == ["Économie & Société"]
    # The newest block, and the one before it while the newest is less than half full.
    assert SIZE // 2 <= len(page.xpath("//main//article")) < SIZE + SIZE // 2
    alternates = page.xpath("//link[@rel='alternate']/@href")
    assert alternates == [
        f"{SITE_URL}/feeds/atom.xml",
        f"{SITE_URL}/feeds/rss.xml",
        f"{SITE_URL}/feeds/feed.json",
        f"{SITE_URL}/sections/economie-societe/atom.xml",
        f"{SITE_URL}/sections/economie-societe/rss.xml",
        f"{SITE_URL}/sections/economie-societe/feed.json",
    ]
    assert client.get("/sections/no-such-section/").status_code == 404
    assert client.get("/sections/no-such-section/atom.xml").status_code == 404
    front = html.fromstring(client.get("/").data)
    assert front.xpath("//nav[@aria-label='Sections']//a/@href") == [
        f"{SITE_URL}/sections/{slug}/"
        for slug in ("business", "science", "world-news", "economie-societe")
    ]


def test_feeds_page_lists_every_feed(client: FlaskClient) -> None:
    page = html.fromstring(client.get("/feeds/").data)
    urls = page.xpath("//main//dd/code/text()")  # addresses to copy; links go to subscribe pages
    assert len(urls) == 3 * 5
    for url in urls:
        assert client.get(url.removeprefix(SITE_URL)).status_code == 200


def test_opml_lists_every_feed_and_each_answers(client: FlaskClient) -> None:
    response = client.get("/feeds.opml")
    assert response.status_code == 200
    assert response.content_type == "text/x-opml; charset=utf-8"
    parsed = listparser.parse(response.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    urls = {feed.url for feed in parsed.feeds}
    assert len(urls) == 3 * 5
    for url in urls:
        assert client.get(url.removeprefix(SITE_URL)).status_code == 200


def test_sitemap_and_robots(client: FlaskClient) -> None:
    robots = client.get("/robots.txt")
    assert robots.content_type == "text/plain; charset=utf-8"
    assert f"Sitemap: {SITE_URL}/sitemap.xml" in robots.get_data(as_text=True)
    root = etree.fromstring(client.get("/sitemap.xml").data)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = root.xpath("//s:url/s:loc/text()", namespaces=ns)
    assert len(locs) == 1 + 4 + COUNT
    assert f"{SITE_URL}/sections/science/" in locs
    assert all(lastmod.endswith("Z") for lastmod in root.xpath("//s:lastmod/text()", namespaces=ns))
    for loc in locs[:10]:
        assert client.get(loc.removeprefix(SITE_URL)).status_code == 200


def test_bytes_identical_across_restart_and_reingest(
    app: Flask, corpus: Path, database: Path, catalog: Catalog
) -> None:
    paths = [
        "/feeds/atom.xml",
        "/feeds/rss.xml",
        "/feeds/feed.json",
        "/feeds/archive/2/rss.xml",
        "/sections/science/atom.xml",
        "/feeds.opml",
        "/sitemap.xml",
        "/",
    ]
    first = {p: app.test_client().get(p).data for p in paths}
    report = run_ingest(catalog, corpus, now=T0 + timedelta(days=30))
    assert not report.changed_anything
    restarted = make_app(corpus, database)
    assert {p: restarted.test_client().get(p).data for p in paths} == first


def test_site_url_change_never_changes_ids(app: Flask, corpus: Path, database: Path) -> None:
    before = parse(app.test_client().get("/feeds/atom.xml").data, "atom.xml")[0]
    moved = make_app(corpus, database, SITE_URL="https://elsewhere.example.net/news")
    body = moved.test_client().get("/feeds/atom.xml").data
    assert parse(body, "atom.xml")[0] == before
    assert b"https://elsewhere.example.net/news/articles/" in body


@pytest.fixture
def served_corpus(corpus: Path, tmp_path: Path) -> Iterator[str]:
    process, base = start_server(corpus, tmp_path, env={"FEEDSVC_FEED_SIZE": str(SIZE)})
    yield base
    assert stop_server(process) == 0


@pytest.mark.slow
@pytest.mark.e2e
def test_reader_library_subscribes_to_every_site_feed(served_corpus: str, tmp_path: Path) -> None:
    from reader import make_reader

    reader = make_reader(str(tmp_path / "reader.sqlite"))
    try:
        urls = [f"{served_corpus}/feeds/{name}" for name in ("atom.xml", "rss.xml", "feed.json")]
        for url in urls:
            reader.add_feed(url)
        reader.update_feeds()
        by_feed: dict[str, list[Any]] = {}
        for url in urls:
            feed = reader.get_feed(url)
            assert feed.last_exception is None, feed.last_exception
            assert feed.link == f"{served_corpus}/"
            by_feed[url] = sorted(reader.get_entries(feed=url), key=lambda e: e.id)
        atom, rss, jsonfeed = by_feed.values()
        assert len(atom) == len(rss) == len(jsonfeed) == SIZE
        for a, r, j in zip(atom, rss, jsonfeed, strict=True):
            assert a.id == r.id == j.id
            assert a.link == r.link == j.link
            assert a.link.startswith(f"{served_corpus}/articles/")
            assert a.title == r.title == j.title
            # One date per article, in whole seconds: the same in every format.
            assert a.published == r.published == j.published
            assert a.updated == j.updated
            assert j.published.tzinfo is not None
        assert len({r.published for r in rss}) == SIZE  # no two RSS items share a date
    finally:
        reader.close()


def test_large_sitemaps_become_an_index_of_parts(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import feedsvc.urlmap.shapes

    monkeypatch.setattr(feedsvc.urlmap.shapes, "SITEMAP_PART_SIZE", 20)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    index = etree.fromstring(client.get("/sitemap.xml").data)
    assert index.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    parts = index.xpath("//s:sitemap/s:loc/text()", namespaces=ns)
    assert parts == [f"{SITE_URL}/sitemaps/{n}.xml" for n in range(1, 6)]  # 1 + 4 + 95 URLs
    dated = index.xpath("//s:sitemap/s:lastmod/text()", namespaces=ns)
    locs: list[str] = []
    for part, lastmod in zip(parts, dated, strict=True):
        urlset = etree.fromstring(client.get(part.removeprefix(SITE_URL)).data)
        found = urlset.xpath("//s:url/s:loc/text()", namespaces=ns)
        assert len(found) <= 20
        locs += found
        # A part is dated by its newest URL (ISO text in UTC sorts as time does).
        assert lastmod == max(urlset.xpath("//s:url/s:lastmod/text()", namespaces=ns))
    assert len(locs) == len(set(locs)) == 1 + 4 + COUNT
    assert locs[0] == f"{SITE_URL}/"
    assert client.get("/sitemaps/6.xml").status_code == 404
