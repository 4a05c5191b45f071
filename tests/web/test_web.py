"""The web edge through Flask's test client: every route, media types, errors, escaping."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from flask.testing import FlaskClient
from lxml import html

from feedsvc.catalog import Catalog
from tests.conftest import SITE_URL, T0, run_ingest

SEED_SLUG = "iranian-top-diplomat-meets-syrian-counterpart-pm-in-damascus"


def test_front_page_lists_articles_and_links_feeds(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    page = html.fromstring(response.data)
    links = page.xpath("//article//h2/a/@href")
    assert f"{SITE_URL}/articles/{SEED_SLUG}/" in links
    assert len(links) == 3
    assert page.xpath("//link[@rel='alternate']/@type") == [
        "application/atom+xml",
        "application/rss+xml",
        "application/feed+json",
    ]
    assert page.xpath("//link[@rel='alternate']/@href") == [
        f"{SITE_URL}/feeds/atom.xml",
        f"{SITE_URL}/feeds/rss.xml",
        f"{SITE_URL}/feeds/feed.json",
    ]
    sections = page.xpath("//nav[@aria-label='Sections']//a/text()")
    assert sections == ["Business", "Science", "World News"]
    # The newest of three files ingested at once: the third whole second from the ingest.
    assert page.xpath("//time/@datetime")[0] == "2024-03-01T09:30:02Z"
    assert "Science" in page.text_content()
    assert "Astronomers saw it." in page.text_content()


def test_article_page(client: FlaskClient) -> None:
    response = client.get(f"/articles/{SEED_SLUG}/")
    assert response.status_code == 200
    page = html.fromstring(response.data)
    assert page.xpath("//h1/text()") == [
        "Iranian Top Diplomat Meets Syrian Counterpart, PM in Damascus"
    ]
    assert page.xpath("string(//html/@lang)") == "en"
    assert len(page.xpath("//main//article/p")) == 13
    assert page.xpath("//time/@datetime") == ["2024-03-01T09:30:00Z"]
    assert page.xpath("//link[@rel='canonical']/@href") == [f"{SITE_URL}/articles/{SEED_SLUG}/"]
    assert f"{SITE_URL}/" in page.xpath("//a/@href")
    # The site's feeds, then the feeds of the article's section.
    feeds = "//link[@rel='alternate'][not(contains(@type, 'oembed'))]/@href"
    assert page.xpath(feeds)[3:] == [
        f"{SITE_URL}/sections/world-news/{name}" for name in ("atom.xml", "rss.xml", "feed.json")
    ]


def test_article_text_is_escaped(client: FlaskClient) -> None:
    response = client.get("/articles/markets-bonds-rally/")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<b>" not in body
    assert "<bonds>" not in body
    assert "Markets &amp; &lt;bonds&gt; &#34;rally&#34;" in body
    page = html.fromstring(response.data)
    assert page.xpath("//h1/text()") == ['Markets & <bonds> "rally"']


def test_unknown_article_is_a_404_page(client: FlaskClient) -> None:
    response = client.get("/articles/no-such-thing/")
    assert response.status_code == 404
    assert response.content_type == "text/html; charset=utf-8"
    assert b"Not found" in response.data


def test_unknown_path_is_a_404_page(client: FlaskClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert b"<!doctype html>" in response.data


def test_old_slug_redirects_permanently(client: FlaskClient, catalog: Catalog, seeds: Path) -> None:
    (seeds / "002_comet.txt").write_text("Science\n\nThe comet is back\n\nSeen.", encoding="utf-8")
    run_ingest(catalog, seeds, now=T0.replace(hour=10))
    response = client.get("/articles/a-comet-returns/")
    assert response.status_code == 301
    assert response.headers["Location"] == f"{SITE_URL}/articles/the-comet-is-back/"


def test_removed_article_is_gone(client: FlaskClient, catalog: Catalog, seeds: Path) -> None:
    (seeds / "002_comet.txt").unlink()
    run_ingest(catalog, seeds, now=T0.replace(hour=10))
    response = client.get("/articles/a-comet-returns/")
    assert response.status_code == 410
    assert b"withdrawn" in response.data


def test_feeds_are_served_with_their_media_types(client: FlaskClient) -> None:
    for path, media_type in (
        ("/feeds/atom.xml", "application/atom+xml"),
        ("/feeds/rss.xml", "application/rss+xml"),
    ):
        response = client.get(path)
        assert response.status_code == 200
        assert response.content_type == f"{media_type}; charset=utf-8"
        parsed = feedparser.parse(response.data)
        assert not parsed.bozo
        assert len(parsed.entries) == 3
        for entry in parsed.entries:
            assert entry.link.startswith(f"{SITE_URL}/articles/")
            assert client.get(entry.link.removeprefix(SITE_URL)).status_code == 200


def test_links_never_come_from_the_host_header(client: FlaskClient) -> None:
    body = client.get("/feeds/atom.xml", headers={"Host": "evil.example"}).data
    body += client.get("/", headers={"Host": "evil.example"}).data
    assert b"evil.example" not in body
    assert b"localhost" not in body


def test_unknown_feed_is_404(client: FlaskClient) -> None:
    assert client.get("/feeds/atom.json").status_code == 404


def test_feed_respects_feed_size(seeds: Path, database: Path, catalog: Catalog) -> None:
    from feedsvc.web.app import create_app

    run_ingest(catalog, seeds)
    app = create_app({"SEEDS_DIR": seeds, "DATABASE": database, "FEED_SIZE": 2})
    assert len(feedparser.parse(app.test_client().get("/feeds/rss.xml").data).entries) == 2


def test_missing_catalog_is_a_clear_503(tmp_path: Path) -> None:
    from feedsvc.web.app import create_app

    app = create_app({"DATABASE": tmp_path / "none.sqlite3"})
    response = app.test_client().get("/")
    assert response.status_code == 503
    assert b"catalog" in response.data


def test_a_server_error_shows_in_health(
    seeds: Path, database: Path, catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedsvc.documents.scopes import Publication
    from feedsvc.web.app import create_app

    run_ingest(catalog, seeds)
    run_dir = tmp_path / "run"
    app = create_app(
        {"SEEDS_DIR": seeds, "DATABASE": database, "SITE_URL": SITE_URL, "RUN_DIR": run_dir}
    )
    client = app.test_client()
    assert "server errors" not in client.get("/healthz").get_data(as_text=True)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug in a feed builder")

    monkeypatch.setattr(Publication, "feed", broken)
    assert client.get("/feeds/atom.xml").status_code == 500
    answer = client.get("/healthz")
    document = answer.get_json()
    assert any(
        "answered 500 to /feeds/atom.xml" in problem and "1 server errors" in problem
        for problem in document["problems"]
    ), document
    assert answer.status_code == 503
