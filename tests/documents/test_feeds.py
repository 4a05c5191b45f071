"""Feed builders: real feedgen output read back with feedparser and lxml."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import feedparser
import pytest
from lxml import etree
from markupsafe import escape

from feedsvc.catalog import Record
from feedsvc.config.settings import Site
from feedsvc.documents.feed_info import FeedInfo, content_html
from feedsvc.documents.feeds import ATOM, FORMATS, JSON_FEED, RSS, build_atom, build_rss
from tests.conftest import T0

SITE = Site(url="https://news.example.org", title="Test News", author="The Desk")
NS = {"a": "http://www.w3.org/2005/Atom", "dc": "http://purl.org/dc/elements/1.1/"}
HOSTILE = "Tom & Jerry <script>alert(\"x\")</script> 'quoted'"


def record(
    n: int, *, title: str | None = None, paragraphs: tuple[str, ...] = ("First.", "Second.")
) -> Record:
    return Record(
        key=f"{n:03d}",
        entry_id=f"tag:news.example.org,2024-03-01:{n:03d}",
        slug=f"story-{n}",
        section="World News",
        section_slug="world-news",
        title=title or f"Story {n}",
        paragraphs=paragraphs,
        content_hash="x",
        published=T0 + timedelta(hours=n),
        updated=T0 + timedelta(hours=n, minutes=n),
        summary=paragraphs[0],
    )


RECORDS = [record(3), record(2, title=HOSTILE, paragraphs=(HOSTILE, "Plain & simple.")), record(1)]


def info(fmt_filename: str = "atom.xml") -> FeedInfo:
    return FeedInfo(
        id="tag:news.example.org,2024-03-01:feed",
        title="Test News",
        subtitle="All the news",
        self_url=f"https://news.example.org/feeds/{fmt_filename}",
        page_url="https://news.example.org/",
        updated=RECORDS[0].updated,
        site=SITE,
    )


def atom() -> bytes:
    return build_atom(info("atom.xml"), RECORDS)


def rss() -> bytes:
    return build_rss(info("rss.xml"), RECORDS)


@pytest.mark.parametrize("build", [atom, rss])
def test_feedparser_reads_it_cleanly_in_order(build: object) -> None:
    parsed = feedparser.parse(build())  # type: ignore[operator]
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [e.id for e in parsed.entries] == [r.entry_id for r in RECORDS]
    assert [e.title for e in parsed.entries] == [r.title for r in RECORDS]
    assert [e.link for e in parsed.entries] == [
        f"https://news.example.org/articles/story-{n}/" for n in (3, 2, 1)
    ]
    assert all(e.author == "The Desk" for e in parsed.entries)
    assert parsed.feed.link == "https://news.example.org/"


def test_atom_structure() -> None:
    root = etree.fromstring(atom())
    assert root.findtext("a:id", namespaces=NS) == "tag:news.example.org,2024-03-01:feed"
    assert root.findtext("a:updated", namespaces=NS) == "2024-03-01T12:33:00+00:00"
    assert root.find("a:author/a:name", NS).text == "The Desk"
    links = {link.get("rel"): link.get("href") for link in root.findall("a:link", NS)}
    assert links == {
        "self": "https://news.example.org/feeds/atom.xml",
        "alternate": "https://news.example.org/",
    }
    entry = root.find("a:entry", NS)
    assert entry.findtext("a:published", namespaces=NS) == "2024-03-01T12:30:00+00:00"
    assert entry.findtext("a:updated", namespaces=NS) == "2024-03-01T12:33:00+00:00"
    assert entry.find("a:content", NS).get("type") == "html"
    # The summary is HTML, as RSS <description> is: no plain-text rival to the content.
    assert entry.find("a:summary", NS).get("type") == "html"
    assert entry.findtext("a:summary", namespaces=NS) == "First."
    assert entry.find("a:category", NS).get("term") == "World News"


def test_atom_escapes_titles_and_bodies() -> None:
    root = etree.fromstring(atom())
    entry = root.findall("a:entry", NS)[1]
    assert entry.findtext("a:title", namespaces=NS) == HOSTILE
    assert entry.findtext("a:summary", namespaces=NS) == str(escape(HOSTILE))
    html = entry.findtext("a:content", namespaces=NS)
    assert "<script>" not in html
    assert html.startswith(
        "<p>Tom &amp; Jerry &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &#39;quoted&#39;</p>"
    )
    parsed = feedparser.parse(atom())
    assert parsed.entries[1].content[0].value.count("<p>") == 2


def test_rss_structure() -> None:
    root = etree.fromstring(rss())
    channel = root.find("channel")
    assert channel.findtext("link") == "https://news.example.org/"  # the site, not the feed
    self_links = channel.findall("a:link", NS)
    assert [(link.get("rel"), link.get("href")) for link in self_links] == [
        ("self", "https://news.example.org/feeds/rss.xml")
    ]
    assert channel.findtext("lastBuildDate") == "Fri, 01 Mar 2024 12:33:00 +0000"
    item = channel.find("item")
    guid = item.find("guid")
    assert (guid.text, guid.get("isPermaLink")) == ("tag:news.example.org,2024-03-01:003", "false")
    assert item.findtext("pubDate") == "Fri, 01 Mar 2024 12:30:00 +0000"
    assert item.findtext("dc:creator", namespaces=NS) == "The Desk"
    assert item.find("author") is None  # RSS <author> must be an e-mail address
    assert item.findtext("category") == "World News"
    assert item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") == content_html(
        RECORDS[0]
    )


def test_rss_escapes_description_as_html() -> None:
    item = etree.fromstring(rss()).findall("channel/item")[1]
    assert item.findtext("title") == HOSTILE
    assert item.findtext("description") == (
        "Tom &amp; Jerry &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &#39;quoted&#39;"
    )
    parsed = feedparser.parse(rss())
    assert "<script>" not in parsed.entries[1].summary


@pytest.mark.parametrize("build", [atom, rss])
def test_same_records_give_the_same_bytes(build: object) -> None:
    assert build() == build()  # type: ignore[operator]


def test_no_clock_in_output() -> None:
    # feedgen stamps now() on feeds and entries unless told otherwise: no date but ours appears.
    for body in (atom(), rss()):
        text = body.decode()
        stamps = re.findall(r"\d{4}-\d\d-\d\dT[\d:]+|\d\d \w{3} \d{4} [\d:]+", text)
        assert len(stamps) >= 1 + len(RECORDS)
        assert {stamp[:10] for stamp in stamps} <= {"2024-03-01", "01 Mar 202"}


def test_empty_feed_is_still_valid() -> None:
    for fmt in (ATOM, RSS):
        parsed = feedparser.parse(fmt.build(info(fmt.filename), []))
        assert not parsed.bozo
        assert parsed.entries == []
    assert json.loads(JSON_FEED.build(info("feed.json"), []))["items"] == []


def test_format_table() -> None:
    assert FORMATS == {"atom.xml": ATOM, "rss.xml": RSS, "feed.json": JSON_FEED}
    assert JSON_FEED.media_type == "application/feed+json"
    assert ATOM.media_type == "application/atom+xml"
    assert RSS.media_type == "application/rss+xml"
