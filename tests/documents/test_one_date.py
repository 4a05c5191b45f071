"""One date per article: the same published and updated second in every document that carries
it (site, section, tag, author and archive feeds in Atom, RSS and JSON Feed; the sitemap; the
page's meta tags and JSON-LD; its ActivityPub Note), in whole seconds, distinct within the
publication, and never moved by a change to another article. Read back with feedparser."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree, html

from feedsvc.catalog import Catalog
from feedsvc.web.app import create_app
from tests.conftest import SITE_URL, T0, article_text, run_ingest

COUNT, SIZE = 20, 4
# Twenty files ingested at once, at a moment that is not a whole second.
MOMENT = T0 + timedelta(microseconds=123_456)
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
# Where each scope's subscription feeds are, by format; archive blocks hang off them.
FEEDS = (
    "/feeds/",
    "/sections/world/",
    "/sections/science/",
    "/tags/climate/",
    "/authors/ana-lima/",
)
FORMATS = ("atom.xml", "rss.xml", "feed.json")


def _write(folder: Path, number: int) -> None:
    section = ("World", "Science")[number % 2]
    front = "---\ntags: [Climate]\nauthor: Ana Lima\n---\n" if number % 3 else ""
    text = article_text(section, f"Story {number}", [f"Body of story {number}."])
    (folder / f"{number:03d}.txt").write_text(front + text, encoding="utf-8")


@pytest.fixture
def newsroom(tmp_path: Path) -> Path:
    folder = tmp_path / "news"
    folder.mkdir()
    for number in range(COUNT):
        _write(folder, number)
    return folder


@pytest.fixture
def app(newsroom: Path, database: Path, catalog: Catalog) -> Flask:
    run_ingest(catalog, newsroom, now=MOMENT)
    return create_app(
        {
            "SEEDS_DIR": newsroom,
            "DATABASE": database,
            "SITE_URL": SITE_URL,
            "FEED_SIZE": SIZE,
            "FEDIVERSE": True,
        }
    )


# What one document says of one article: its entry id or URL, which date, and the instant.
Said = dict[tuple[str, str], set[datetime]]


def _instant(text: str) -> datetime:
    moment = (
        parsedate_to_datetime(text)
        if text[:3].isalpha()
        else datetime.fromisoformat(text.replace("Z", "+00:00"))
    )
    assert moment.tzinfo is not None, text
    return moment


def _feed(body: bytes, filename: str, said: Said, where: str) -> str | None:
    """Note what a feed says of each entry; return its prev-archive link."""
    if filename == "feed.json":
        document = json.loads(body)
        for item in document["items"]:
            said[item["id"], "published"].add(_instant(item["date_published"]))
            said[item["id"], "updated"].add(_instant(item["date_modified"]))
        return document.get("next_url")  # type: ignore[no-any-return]
    parsed = feedparser.parse(body)
    assert not parsed.bozo, (where, parsed.get("bozo_exception"))
    for entry in parsed.entries:
        said[entry.id, "published"].add(_instant(entry.published))
        if filename == "atom.xml":
            said[entry.id, "updated"].add(_instant(entry.updated))
        # feedparser keeps whole seconds: what it keeps is the whole date.
        assert entry.published_parsed[:6] == _instant(entry.published).utctimetuple()[:6]
    links = {link.rel: link.href for link in parsed.feed.get("links", [])}
    return links.get("prev-archive")


def _everything(client: FlaskClient) -> tuple[Said, dict[str, str]]:
    """Return what every document says of every article's dates, and each entry id's page."""
    said: Said = defaultdict(set)
    for folder in FEEDS:
        for filename in FORMATS:
            url: str | None = SITE_URL + folder + filename
            blocks = 0
            while url:
                response = client.get(url.removeprefix(SITE_URL))
                assert response.status_code == 200, url
                url = _feed(response.data, filename, said, url)
                blocks += 1
            assert blocks > 1 or folder != "/feeds/", "the site feed has archive blocks"
    pages: dict[str, str] = {}
    sitemap = etree.fromstring(client.get("/sitemap.xml").data)
    for node in sitemap.iter(f"{SITEMAP}url"):
        loc = node.findtext(f"{SITEMAP}loc") or ""
        if "/articles/" in loc:
            said[loc, "updated"].add(_instant(node.findtext(f"{SITEMAP}lastmod") or ""))
            pages[loc] = loc
    for loc in pages:
        text = client.get(loc.removeprefix(SITE_URL)).text
        page = html.fromstring(text)
        (published,) = page.xpath("//meta[@property='article:published_time']/@content")
        (modified,) = page.xpath("//meta[@property='article:modified_time']/@content")
        said[loc, "published"].add(_instant(published))
        said[loc, "updated"].add(_instant(modified))
        (ld,) = page.xpath("//script[@type='application/ld+json']/text()")
        said[loc, "published"].add(_instant(json.loads(ld)["datePublished"]))
        said[loc, "updated"].add(_instant(json.loads(ld)["dateModified"]))
        for stamp in page.xpath("//article//time/@datetime"):
            assert _instant(stamp) in said[loc, "published"] | said[loc, "updated"]
        (note_url,) = re.findall(
            r'<link rel="alternate" type="application/activity\+json" href="([^"]+)"', text
        )
        note = json.loads(client.get(note_url.removeprefix(SITE_URL)).data)
        said[loc, "published"].add(_instant(note["published"]))
        said[loc, "updated"].add(_instant(note.get("updated", note["published"])))
    return said, pages


def _by_article(said: Said, catalog: Catalog) -> dict[str, tuple[datetime, datetime]]:
    """Return each article's one (published, updated), by key, checking every document agrees."""
    dates: dict[str, tuple[datetime, datetime]] = {}
    for record in catalog.latest(COUNT):
        names = (record.entry_id, SITE_URL + record.path)
        published = set().union(*(said[name, "published"] for name in names))
        updated = set().union(*(said[name, "updated"] for name in names))
        assert published == {record.published}, (record.key, sorted(published))
        assert updated == {record.updated}, (record.key, sorted(updated))
        dates[record.key] = (record.published, record.updated)
    return dates


def test_every_document_carries_the_same_whole_second(app: Flask, catalog: Catalog) -> None:
    said, pages = _everything(app.test_client())
    assert len(pages) == COUNT
    dates = _by_article(said, catalog)
    assert len(dates) == COUNT
    moments = [moment for pair in dates.values() for moment in pair]
    assert all(moment.microsecond == 0 for moment in moments)
    published = [dates[f"{n:03d}"][0] for n in range(COUNT)]
    # Distinct seconds, in the order the batch took its places (file-name order here).
    assert published == sorted(set(published))
    assert published[0] == MOMENT.replace(microsecond=0)
    assert all(pair[0] == pair[1] for pair in dates.values())  # none edited


def test_removing_one_article_moves_no_other_date(
    app: Flask, newsroom: Path, catalog: Catalog
) -> None:
    gone = catalog.lookup("story-7").record
    assert gone is not None
    before = _everything(app.test_client())[0]
    (newsroom / "007.txt").unlink()
    run_ingest(catalog, newsroom, now=MOMENT + timedelta(hours=1))
    after = _everything(app.test_client())[0]
    # Every document still carrying an article says what it said of it before.
    names = {gone.entry_id, SITE_URL + gone.path}
    assert {name for name in after if name[0] in names} == set()
    assert after == {name: said for name, said in before.items() if name[0] not in names}
    assert len(_by_article(after, catalog)) == COUNT - 1
