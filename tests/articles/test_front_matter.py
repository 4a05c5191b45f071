"""Optional YAML front matter: dates, author, tags and summary reach every output."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from flask.testing import FlaskClient
from lxml import etree, html

from feedsvc.articles.text_format import parse_article
from feedsvc.catalog import Catalog
from feedsvc.errors import ArticleError
from tests.conftest import T0, run_ingest

FRONT = """---
date: 2023-05-04T10:00:00Z
author: Jane Doe
tags: [Diplomacy, Syria]
summary: Talks in Damascus ahead of an offensive.
---
World News

Zarif in Damascus

First paragraph.

Second paragraph.
"""


def test_front_matter_is_parsed() -> None:
    article = parse_article(FRONT, source="a.txt")
    assert article.front.date == datetime(2023, 5, 4, 10, tzinfo=UTC)
    assert article.front.author == "Jane Doe"
    assert article.front.tags == ("Diplomacy", "Syria")
    assert article.summary == "Talks in Damascus ahead of an offensive."
    assert article.paragraphs == ("First paragraph.", "Second paragraph.")


def test_plain_files_keep_their_hash() -> None:
    plain = parse_article("S\n\nT\n\nBody.", source="a.txt")
    empty_front = parse_article("---\n---\nS\n\nT\n\nBody.", source="a.txt")
    assert plain.content_hash == empty_front.content_hash
    tagged = parse_article("---\ntags: x\n---\nS\n\nT\n\nBody.", source="a.txt")
    assert tagged.content_hash != plain.content_hash


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\ndate: [1, 2\n---\nS\n\nT\n\nB", "not valid YAML"),
        ("---\ntitle: x\n---\nS\n\nT\n\nB", "unknown front matter title"),
        ("---\ndate: yesterday\n---\nS\n\nT\n\nB", "'date': 'yesterday' is not a date"),
        ("---\ntags: {a: 1}\n---\nS\n\nT\n\nB", "'tags' must be a list"),
        ("---\nauthor: [a, b]\n---\nS\n\nT\n\nB", "'author' must be text"),
        ("---\n- a\n- b\n---\nS\n\nT\n\nB", "name: value"),
        ("---\ndate: 2024-01-01\nS\n\nT\n\nB", "never closed"),
        ("---\ndate: 2024-01-01\n---\n", "no article after it"),
        (
            "---\ntags: [" + ", ".join(f"t{n}" for n in range(30)) + "]\n---\nS\n\nT\n\nB",
            "more than 20",
        ),
    ],
)
def test_invalid_front_matter_rejects_the_file(text: str, message: str) -> None:
    with pytest.raises(ArticleError, match=message) as caught:
        parse_article(text, source="bad.txt")
    assert caught.value.code in ("front-matter", "no-section")


def test_dates_without_zone_are_utc() -> None:
    article = parse_article(
        "---\ndate: 2024-01-02\nupdated: 2024-01-03 12:00\n---\nS\n\nT\n\nB", source="a.txt"
    )
    assert article.front.date == datetime(2024, 1, 2, tzinfo=UTC)
    assert article.front.updated == datetime(2024, 1, 3, 12, tzinfo=UTC)


def test_front_matter_reaches_feeds_and_pages(
    client: FlaskClient, catalog: Catalog, seeds: Path
) -> None:
    (seeds / "010_front.txt").write_text(FRONT, encoding="utf-8")
    run_ingest(catalog, seeds, now=T0.replace(hour=11))
    record = catalog.lookup("zarif-in-damascus").record
    assert record is not None
    assert record.published == datetime(2023, 5, 4, 10, tzinfo=UTC)  # overrides first-seen
    assert record.updated == record.published

    atom = feedparser.parse(client.get("/feeds/atom.xml").data)
    entry = next(e for e in atom.entries if e.title == "Zarif in Damascus")
    assert entry.author == "Jane Doe"
    assert [t.term for t in entry.tags] == ["World News", "Diplomacy", "Syria"]
    assert entry.summary == "Talks in Damascus ahead of an offensive."
    assert entry.published == "2023-05-04T10:00:00+00:00"
    assert atom.entries[-1].title == "Zarif in Damascus"  # the oldest date sorts last

    rss = etree.fromstring(client.get("/feeds/rss.xml").data)
    item = next(i for i in rss.iter("item") if i.findtext("title") == "Zarif in Damascus")
    assert [c.text for c in item.findall("category")] == ["World News", "Diplomacy", "Syria"]
    assert item.findtext("{http://purl.org/dc/elements/1.1/}creator") == "Jane Doe"
    assert item.findtext("description") == "Talks in Damascus ahead of an offensive."

    items = json.loads(client.get("/feeds/feed.json").data)["items"]
    item_json = next(i for i in items if i["title"] == "Zarif in Damascus")
    assert item_json["authors"] == [{"name": "Jane Doe"}]
    assert item_json["tags"] == ["World News", "Diplomacy", "Syria"]
    assert item_json["date_published"] == "2023-05-04T10:00:00+00:00"

    page = html.fromstring(client.get("/articles/zarif-in-damascus/").data)
    assert page.xpath("//meta[@property='article:tag']/@content") == [
        "World News",
        "Diplomacy",
        "Syria",
    ]
    assert page.xpath("string(//meta[@name='description']/@content)") == record.summary
    ld = json.loads(page.xpath("string(//script[@type='application/ld+json'])"))
    assert ld["author"] == [{"@type": "Person", "name": "Jane Doe"}]
    assert ld["datePublished"] == "2023-05-04T10:00:00Z"


def test_front_matter_updated_controls_updated(catalog: Catalog, seeds: Path) -> None:
    path = seeds / "011_dated.txt"
    path.write_text("---\ndate: 2024-01-01\n---\nS\n\nDated\n\nBody.", encoding="utf-8")
    run_ingest(catalog, seeds, now=T0)
    path.write_text(
        "---\ndate: 2024-01-01\nupdated: 2024-02-01\n---\nS\n\nDated\n\nBody!", encoding="utf-8"
    )
    run_ingest(catalog, seeds, now=T0.replace(hour=12))
    record = catalog.lookup("dated").record
    assert record is not None
    assert record.published == datetime(2024, 1, 1, tzinfo=UTC)
    assert record.updated == datetime(2024, 2, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    ["0999-01-01", "0999-12-31T23:00:00Z", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59Z"],
)
def test_a_date_no_format_can_carry_is_rejected_before_it_is_stored(value: str) -> None:
    text = f"---\ndate: {value}\n---\nWorld\n\nOld news\n\nBody."
    with pytest.raises(ArticleError, match="outside the years 1000 to 9999") as caught:
        parse_article(text, source="old.txt")
    assert caught.value.code == "front-matter"


def test_an_old_date_never_breaks_the_lists(tmp_path: Path, catalog: Catalog) -> None:
    from feedsvc.web.app import create_app

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "old.txt").write_text("---\ndate: 0999-01-01\n---\nWorld\n\nOld\n\nBody.")
    (seeds / "new.txt").write_text("---\ndate: 1000-01-01\n---\nWorld\n\nEarliest\n\nBody.")
    report = run_ingest(catalog, seeds)
    assert [item.code for item in report.rejected] == ["front-matter"]
    app = create_app({"SEEDS_DIR": seeds, "DATABASE": catalog.path, "SITE_URL": "https://n.org"})
    client = app.test_client()
    for path in ("/", "/feeds/atom.xml", "/feeds/rss.xml", "/feeds/feed.json", "/sitemap.xml"):
        answer = client.get(path)
        assert answer.status_code == 200, path
    assert b"1000-01-01" in client.get("/feeds/atom.xml").data


def test_a_catalog_that_stored_an_early_year_the_old_way_still_serves(
    seeds: Path, catalog: Catalog
) -> None:
    from feedsvc.web.app import create_app

    run_ingest(catalog, seeds)
    with catalog.connection as db:  # as format_time wrote year 999 before (no padding)
        db.execute("UPDATE articles SET published = '999-01-01T00:00:00.000000Z'")
    app = create_app({"SEEDS_DIR": seeds, "DATABASE": catalog.path, "SITE_URL": "https://n.org"})
    client = app.test_client()
    for path in ("/", "/feeds/atom.xml", "/feeds/rss.xml", "/feeds/feed.json", "/sitemap.xml"):
        assert client.get(path).status_code == 200, path


def test_a_huge_tag_list_is_refused_at_once() -> None:
    tags = ", ".join(f"t{number}" for number in range(140_000))
    text = f"---\ntags: [{tags}]\n---\nWorld\n\nTitle\n\nBody."
    # Refused by its size, before any YAML is parsed (the tag check took minutes of CPU).
    with pytest.raises(ArticleError, match="front matter is longer than") as caught:
        parse_article(text, source="tags.txt")
    assert caught.value.code == "front-matter"


def test_many_tags_within_the_size_bound_are_refused_without_quadratic_work() -> None:
    tags = ", ".join(f"t{number}" for number in range(2_000))
    text = f"---\ntags: [{tags}]\n---\nWorld\n\nTitle\n\nBody."
    with pytest.raises(ArticleError, match="more than 20 tags"):
        parse_article(text, source="tags.txt")


@pytest.mark.parametrize("value", ["2024-13-01", "2024-02-30", "2024-01-01 25:00:00"])
def test_a_date_yaml_cannot_build_is_a_front_matter_problem(value: str) -> None:
    # Found by the folder fuzzer: YAML took it for a timestamp and raised ValueError.
    with pytest.raises(ArticleError) as caught:
        parse_article(f"---\ndate: {value}\n---\nWorld\n\nTitle\n\nBody.", source="bad.txt")
    assert caught.value.code == "front-matter"
