"""Clients read the same thing: tombstones that are not the feed's link, each record's own RSS
date, bounded summaries everywhere, plain text the W3C validator accepts, the oEmbed
author from the article. Read back with feedparser, reader, extruct and lxml."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from flask.testing import FlaskClient
from lxml import etree, html

from feedsvc.articles.text_format import SUMMARY_CHARS, bounded_summary
from feedsvc.catalog import Catalog, Tombstone
from feedsvc.documents.feeds import build_atom, build_rss
from tests.conftest import SITE_URL, T0, run_ingest
from tests.documents.test_feeds import RECORDS, info, record

AT = "{http://purl.org/atompub/tombstones/1.0}"
GONE = Tombstone("tag:news.example.org,2024-03-01:009", T0, "/articles/gone/")
WORDS = " ".join(f"word{n}" for n in range(120))  # about 800 characters
TRICKY = "Tom & Jerry: R&D, x < y, use <b> for bold"


def test_a_tombstone_is_never_taken_for_the_feeds_link(tmp_path: Path) -> None:
    body = build_atom(replace(info(), tombstones=(GONE,)), RECORDS)
    assert b"ns0" not in body
    assert b'xmlns:at="http://purl.org/atompub/tombstones/1.0"' in body.split(b">", 2)[1]
    parsed = feedparser.parse(body)
    assert not parsed.bozo
    assert parsed.feed.link == "https://news.example.org/"
    assert "/articles/gone/" not in body.decode()
    (deleted,) = etree.fromstring(body).iter(f"{AT}deleted-entry")
    assert deleted.attrib == {"ref": GONE.entry_id, "when": "2024-03-01T09:30:00+00:00"}

    from reader import make_reader

    path = tmp_path / "atom.xml"
    path.write_bytes(body)
    reader = make_reader(str(tmp_path / "reader.sqlite"), feed_root=str(tmp_path))
    try:
        reader.add_feed("file:atom.xml")
        reader.update_feeds()
        feed = reader.get_feed("file:atom.xml")
        assert feed.last_exception is None
        assert feed.link == "https://news.example.org/"
    finally:
        reader.close()


def rss_dates(body: bytes) -> list[str]:
    return [item.findtext("pubDate") for item in etree.fromstring(body).iter("item")]


def test_rss_writes_each_records_own_date() -> None:
    # The catalog gives every article its own whole second; RSS writes it as is, whatever the
    # items around it (dates nudged per document to keep a feed's order differed from feed to
    # feed, and moved when a neighbour was removed). Even a tie the catalog never makes is
    # written as it is.
    tied = [replace(record(n), published=T0) for n in (1, 2)]
    older = replace(record(9), published=T0 - timedelta(seconds=1))
    body = build_rss(info("rss.xml"), [*tied, older])
    assert rss_dates(body) == [
        "Fri, 01 Mar 2024 09:30:00 +0000",
        "Fri, 01 Mar 2024 09:30:00 +0000",
        "Fri, 01 Mar 2024 09:29:59 +0000",
    ]
    assert rss_dates(build_rss(info("rss.xml"), [tied[0], older])) == rss_dates(body)[::2]
    assert rss_dates(build_rss(info("rss.xml"), RECORDS)) == [
        "Fri, 01 Mar 2024 12:30:00 +0000",
        "Fri, 01 Mar 2024 11:30:00 +0000",
        "Fri, 01 Mar 2024 10:30:00 +0000",
    ]
    parsed = feedparser.parse(body)
    assert [entry.published_parsed[:6] for entry in parsed.entries] == [
        (2024, 3, 1, 9, 30, 0),
        (2024, 3, 1, 9, 30, 0),
        (2024, 3, 1, 9, 29, 59),
    ]


def test_summary_rule() -> None:
    short = "A short first paragraph."
    assert bounded_summary(None, (short, "More.")) == short
    long = bounded_summary(None, (WORDS, "More."))
    assert long.endswith("…")
    assert len(long) <= SUMMARY_CHARS + 1
    assert len(long) >= SUMMARY_CHARS - 10
    assert WORDS.startswith(long[:-1])
    assert WORDS[len(long) - 1] == " "  # cut where a word ends
    assert bounded_summary("x" * 900, (WORDS,)) == "x" * 900  # front matter wins untouched
    unbroken = "東" * 400
    assert bounded_summary(None, (unbroken,)) == "東" * (SUMMARY_CHARS - 1) + "…"


def test_one_summary_in_feeds_pages_and_embeds(
    client: FlaskClient, catalog: Catalog, seeds: Path
) -> None:
    (seeds / "010_long.txt").write_text(f"Science\n\nLong story\n\n{WORDS}\n\nMore.\n", "utf-8")
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=1))
    record_ = catalog.lookup("long-story").record
    assert record_ is not None
    summary = record_.summary
    assert summary == bounded_summary(None, (WORDS,))
    atom = feedparser.parse(client.get("/feeds/atom.xml").data)
    assert next(e for e in atom.entries if e.title == "Long story").summary == summary
    rss = etree.fromstring(client.get("/feeds/rss.xml").data)
    item = next(i for i in rss.iter("item") if i.findtext("title") == "Long story")
    assert item.findtext("description") == summary  # no character that HTML escapes
    items = json.loads(client.get("/feeds/feed.json").data)["items"]
    assert next(i for i in items if i["title"] == "Long story")["summary"] == summary
    page = html.fromstring(client.get("/articles/long-story/").data)
    for query in (
        "//meta[@name='description']/@content",
        "//meta[@property='og:description']/@content",
        "//meta[@name='twitter:description']/@content",
    ):
        assert page.xpath(f"string({query})") == summary, query
    ld = json.loads(page.xpath("string(//script[@type='application/ld+json'])"))
    assert ld["description"] == summary
    front = html.fromstring(client.get("/sections/science/").data)
    assert summary in front.text_content()
    embed = html.fromstring(client.get("/articles/long-story/embed/").data)
    assert summary in embed.text_content()


def validator_warnings(body: bytes) -> list[str]:
    """Return the plain-text elements the W3C feed validator's RSS Profile heuristics warn
    about (CharacterData, ContainsUndeclaredHTML), restated from its nonhtml check: decoded
    text holding "<" + a letter or "/", "&#", or an HTML entity name after "&", on lines with
    no hexadecimal reference ("&#x")."""
    from html.entities import name2codepoint

    warned = []
    lines = body.decode("utf-8").split("\n")
    for element in etree.fromstring(body).iter("{*}title", "title", "{*}name", "{*}creator"):
        text = element.text or ""
        names = re.findall(r"&(#?\w+)", text)
        entity = any(n in name2codepoint or n == "apos" or not n.isalpha() for n in names)
        if (entity or re.search(r"&#[x0-9]|<[/a-zA-Z]", text)) and "&#x" not in lines[
            element.sourceline - 1
        ]:
            warned.append(text)
    return warned


ORDINARY = "Tom & Jerry: R&D, x < y && y > z"


@pytest.mark.parametrize("build", [build_atom, build_rss])
def test_plain_text_is_escaped_the_ordinary_way_and_markup_the_validators_way(
    build: object,
) -> None:
    records = [
        record(2, title=ORDINARY, paragraphs=(ORDINARY, "More.")),
        record(1, title=TRICKY, paragraphs=(TRICKY, "More.")),
    ]
    body = build(info(), records)  # type: ignore[operator]
    # "&amp;" and "&lt;", which every client decodes (some decode "&#x26;" in no field).
    assert b"<title>Tom &amp; Jerry: R&amp;D, x &lt; y &amp;&amp; y &gt; z</title>" in body
    # Text that looks like markup keeps hexadecimal references on its line.
    assert b"<title>Tom &#x26; Jerry: R&#x26;D, x &#x3C; y, use &#x3C;b&gt; for bold" in body
    assert validator_warnings(body) == []
    parsed = feedparser.parse(body)
    assert not parsed.bozo
    assert [e.title for e in parsed.entries] == [ORDINARY, TRICKY]
    root = etree.fromstring(body)
    texts = [el.text for el in root.iter() if el.text and el.text.startswith("Tom")]
    assert ORDINARY in texts  # XML readers (reader, newsboat) get the very same titles
    assert TRICKY in texts
    # The summary is HTML in both formats (RSS <description>, Atom summary type="html").
    assert parsed.entries[0].summary_detail.type == "text/html"
    assert html.fromstring(parsed.entries[0].summary).text_content() == ORDINARY


def test_oembed_author_is_the_articles(client: FlaskClient, catalog: Catalog, seeds: Path) -> None:
    (seeds / "010_jane.txt").write_text(
        "---\nauthor: Jane Doe\n---\nScience\n\nJane's story\n\nBody.\n", "utf-8"
    )
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=1))
    for path in ("/articles/janes-story/oembed.json", "/articles/a-comet-returns/oembed.json"):
        doc = client.get(path).get_json()
        expected = "Jane Doe" if "jane" in path else "feedsvc newsroom"
        assert doc["author_name"] == expected
        # The author's own page when the article names one; the site is the newsroom's.
        page = f"{SITE_URL}/authors/jane-doe/" if "jane" in path else f"{SITE_URL}/"
        assert doc["author_url"] == page
        assert client.get(page.removeprefix(SITE_URL)).status_code == 200
