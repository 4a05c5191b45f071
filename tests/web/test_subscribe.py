"""Subscribe pages: one per scope at `<scope page>subscribe/`, linked from every visible feed link,
with the addresses to copy, one-click reader links and the newest articles; the raw feeds keep
their URLs and media types and tell a person who opens them where that page is."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import feedparser
import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree, html

from feedsvc import urlmap
from feedsvc.catalog import Catalog
from feedsvc.documents.feeds import FORMATS
from feedsvc.documents.scopes import PREVIEW_SIZE
from feedsvc.export.fingerprints import fingerprints
from feedsvc.export.listing import site_paths
from feedsvc.web.app import create_app
from feedsvc.web.subscribe import reader_links
from tests.conftest import SITE_URL, T0, run_ingest, write_article
from tests.corpus import write_corpus

SCIENCE = "/sections/science/"
FEED_SUFFIXES = (*(f"/{name}" for name in urlmap.FEED_FILENAMES), ".opml")


@pytest.fixture
def corpus_app(seeds: Path, database: Path, catalog: Catalog) -> Flask:
    write_corpus(seeds, 30)
    run_ingest(catalog, seeds, now=T0.replace(hour=10))
    return create_app({"SEEDS_DIR": seeds, "DATABASE": database, "SITE_URL": SITE_URL})


def _page(client: FlaskClient, path: str) -> html.HtmlElement:
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.mimetype == "text/html"
    assert "script-src" not in response.headers["Content-Security-Policy"]
    return html.fromstring(response.data)


@pytest.mark.parametrize("page_path", ["/", SCIENCE])
def test_subscribe_page_gives_addresses_reader_links_and_the_newest_articles(
    corpus_app: Flask, page_path: str
) -> None:
    client = corpus_app.test_client()
    path = urlmap.subscribe(page_path)
    assert path == ("/subscribe/" if page_path == "/" else f"{SCIENCE}subscribe/")
    page = _page(client, path)
    assert page.xpath("//script") == []
    assert page.xpath("//link[@rel='canonical']/@href") == [SITE_URL + path]
    folder = "/feeds/" if page_path == "/" else page_path
    feeds = [f"{SITE_URL}{folder}{name}" for name in urlmap.FEED_FILENAMES]
    # The addresses to copy are the real feed URLs, as text (no link to raw markup).
    assert page.xpath("//main//code[@class='address']/text()") == feeds
    hrefs = page.xpath("//body//a/@href")
    feed_link = "feed://" + feeds[0].removeprefix("https://")
    assert [h for h in hrefs if h.endswith(FEED_SUFFIXES[:3])] == [feed_link]
    # Autodiscovery keeps the real URLs with their registered media types.
    alternates = dict(
        zip(
            page.xpath("//link[@rel='alternate']/@href"),
            page.xpath("//link[@rel='alternate']/@type"),
            strict=True,
        )
    )
    for url, fmt in zip(feeds, FORMATS.values(), strict=True):
        assert alternates[url] == fmt.media_type
    # One click per reader, each carrying the Atom feed's URL.
    readers = dict(
        zip(
            page.xpath("//ul[@class='readers']//a/text()"),
            page.xpath("//ul[@class='readers']//a/@href"),
            strict=True,
        )
    )
    assert readers == {link.name: link.href for link in reader_links(feeds[0])}
    assert len(readers) == 6
    assert readers["Your feed app (feed: link)"] == feed_link
    # The preview is the feed's newest articles, in the feed's order.
    entries = feedparser.parse(client.get(feeds[0].removeprefix(SITE_URL)).data).entries
    shown = page.xpath("//section[@class='preview']//h3/a")
    assert len(shown) == (PREVIEW_SIZE if page_path == "/" else 8)  # 8 science articles
    assert [(a.text, a.get("href")) for a in shown] == [
        (entry.title, entry.link) for entry in entries[:PREVIEW_SIZE]
    ]
    assert len(page.xpath("//section[@class='preview']//time[@datetime]")) == len(shown)


def test_reader_links_encode_the_whole_feed_url() -> None:
    url = "https://news.example.org/sections/économie/atom.xml?x=1&y=2"
    links = {link.name: link.href for link in reader_links(url)}
    assert links["Feedly"] == (
        "https://feedly.com/i/subscription/feed/"
        "https%3A%2F%2Fnews.example.org%2Fsections%2F%C3%A9conomie%2Fatom.xml%3Fx%3D1%26y%3D2"
    )
    for name, key in (
        ("Inoreader", "add_feed"),
        ("NewsBlur", "url"),
        ("Feedbin", "subscribe"),
        ("The Old Reader", "url"),
    ):
        assert parse_qs(urlsplit(links[name]).query) == {key: [url]}, name
    assert unquote(links["Feedly"].rsplit("/feed/", 1)[1]) == url
    assert links["Your feed app (feed: link)"] == (
        "feed://news.example.org/sections/économie/atom.xml?x=1&y=2"
    )


def test_every_visible_feed_link_leads_to_a_subscribe_page(corpus_app: Flask) -> None:
    client = corpus_app.test_client()
    article = html.fromstring(client.get("/").data).xpath("//main//article//h2/a/@href")[0]
    pages = ("/", "/page/1/", SCIENCE, article.removeprefix(SITE_URL), "/feeds/", "/subscribe/")
    for path in pages:
        page = _page(client, path)
        hrefs = page.xpath("//body//a/@href")
        raw = [h for h in hrefs if h.endswith(FEED_SUFFIXES) and not h.startswith("feed://")]
        # The one raw document a page may link to is the OPML list, as a download to import.
        assert all(h.endswith(".opml") for h in raw), (path, raw)
        opml = page.xpath("//a[contains(@href, '.opml')]")
        assert all(a.get("download") is not None for a in opml)
        subscribe = [h for h in hrefs if h.endswith("/subscribe/")]
        assert subscribe, path
        for href in subscribe:
            assert client.get(href.removeprefix(SITE_URL)).status_code == 200, href
    # A section's page and an article of it lead to the section's subscribe page.
    for path in (SCIENCE, "/articles/story-2-science-update/"):
        hrefs = _page(client, path).xpath("//main//a/@href")
        assert f"{SITE_URL}{SCIENCE}subscribe/" in hrefs, path
    # The feeds page still shows every feed's real address, and each scope's subscribe page.
    feeds_page = _page(client, "/feeds/")
    addresses = feeds_page.xpath("//main//dd/code/text()")
    assert len(addresses) == 3 * 5
    for url in addresses:
        assert client.get(url.removeprefix(SITE_URL)).status_code == 200


def test_raw_feeds_keep_their_types_and_name_the_subscribe_page(corpus_app: Flask) -> None:
    client = corpus_app.test_client()
    for folder, page in (("/feeds/", "/"), (SCIENCE, SCIENCE)):
        subscribe = SITE_URL + urlmap.subscribe(page)
        for fmt in FORMATS.values():
            response = client.get(folder + fmt.filename)
            assert response.mimetype == fmt.media_type
            if fmt.filename == "feed.json":
                assert subscribe in json.loads(response.data)["user_comment"]
                continue
            root = etree.fromstring(response.data)
            before = list(root.itersiblings(preceding=True))
            # No stylesheet instruction: the comment is the only thing before the root.
            assert [type(node) for node in before] == [etree._Comment]
            assert subscribe in str(before[0].text)
            assert b"xml-stylesheet" not in response.data
            parsed = feedparser.parse(response.data)
            assert not parsed.bozo
            assert parsed.feed.link == SITE_URL + page
    assert client.get("/static/feed.xsl").status_code == 404


def test_a_site_url_with_a_double_hyphen_still_gives_well_formed_feeds(
    seeds: Path, database: Path, catalog: Catalog
) -> None:
    run_ingest(catalog, seeds)
    site = "https://xn--nachrichten--c9a.example/news--today"
    app = create_app({"SEEDS_DIR": seeds, "DATABASE": database, "SITE_URL": site})
    body = app.test_client().get("/feeds/rss.xml").data
    comment = next(etree.fromstring(body).itersiblings(preceding=True))
    assert "--" not in str(comment.text)
    # "-%2D" is the same URL: a browser given the text opens the subscribe page.
    assert f"{site}/subscribe/".replace("--", "-%2D") in str(comment.text)


def test_subscribe_pages_are_exported_and_answer(corpus_app: Flask) -> None:
    paths, _ = site_paths(corpus_app.config["FEEDSVC"])
    pages = [path for path in paths if path.endswith("/subscribe/")]
    assert pages[:2] == ["/subscribe/", "/sections/business/subscribe/"]
    assert len(pages) == 1 + 4
    client = corpus_app.test_client()
    for path in pages:
        assert client.get(path).status_code == 200


def test_the_subscribe_digest_moves_with_the_newest_articles_only(
    seeds: Path, database: Path, catalog: Catalog
) -> None:
    write_corpus(seeds, 30)
    run_ingest(catalog, seeds)
    app = create_app({"SEEDS_DIR": seeds, "DATABASE": database, "SITE_URL": SITE_URL})
    settings = app.config["FEEDSVC"]
    client = app.test_client()
    before, page = fingerprints(catalog, settings), client.get("/subscribe/").data
    # An old article's new text: not in the preview, so neither digest nor bytes move.
    write_article(seeds, "00000_story", "World News", "Story 0: World News update", "Changed.")
    run_ingest(catalog, seeds, now=T0.replace(hour=12))
    after = fingerprints(catalog, settings)
    assert after["/subscribe/"] == before["/subscribe/"]
    assert client.get("/subscribe/").data == page
    # The newest article retitled: both move.
    write_article(seeds, "00029_story", "Business", "Story 29, retitled", "Changed.")
    run_ingest(catalog, seeds, now=T0.replace(hour=13))
    assert fingerprints(catalog, settings)["/subscribe/"] != after["/subscribe/"]
    assert b"Story 29, retitled" in client.get("/subscribe/").data


def test_an_empty_publication_has_a_subscribe_page(
    tmp_path: Path, database: Path, catalog: Catalog
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    run_ingest(catalog, empty)
    app = create_app({"SEEDS_DIR": empty, "DATABASE": database, "SITE_URL": SITE_URL})
    page = _page(app.test_client(), "/subscribe/")
    assert "Nothing has been published yet" in page.text_content()
    assert len(page.xpath("//ul[@class='readers']//a")) == 6
    assert app.test_client().get("/sections/none/subscribe/").status_code == 404


def test_tag_and_author_scopes_have_subscribe_pages(
    tmp_path: Path, database: Path, catalog: Catalog
) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "001.txt").write_text(
        "---\ntags: [Climate]\nauthor: Ana Lima\n---\nWorld\n\nHeat record\n\nHot.",
        encoding="utf-8",
    )
    run_ingest(catalog, folder)
    app = create_app({"SEEDS_DIR": folder, "DATABASE": database, "SITE_URL": SITE_URL})
    client = app.test_client()
    paths, _ = site_paths(app.config["FEEDSVC"])
    for folder_name, heading in (
        ("tags", "Subscribe to articles tagged “Climate”"),
        ("authors", "Subscribe to articles by Ana Lima"),
    ):
        scope_page = next(
            p for p in paths if p.startswith(f"/{folder_name}/") and p.count("/") == 3
        )
        path = urlmap.subscribe(scope_page)
        assert path in paths
        page = _page(client, path)
        assert page.xpath("//h1/text()") == [heading]
        assert page.xpath("//main//code/text()")[0] == f"{SITE_URL}{scope_page}atom.xml"
        assert page.xpath("//section[@class='preview']//h3/a/text()") == ["Heat record"]
        assert f"{SITE_URL}{path}" in _page(client, scope_page).xpath("//main//a/@href")
