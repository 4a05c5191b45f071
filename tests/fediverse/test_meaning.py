"""What a Note means once the fediverse reads it: its hashtags are the article's tags as Mastodon
files them (or no hashtag at all), they lead to the site's pages of those tags, and its image is
described by what the publisher wrote, never by a description made up for it.

Mastodon's hashtag grammar is checked with its own patterns as written (app/models/concerns/
tag/naming.rb), through the `regex` module, whose POSIX classes are Unicode's like Ruby's."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import lxml.html
import pytest
import regex
from flask.testing import FlaskClient
from PIL import Image

from feedsvc.catalog import Catalog
from feedsvc.fediverse.hashtags import hashtag
from tests.conftest import SITE_URL, write_article
from tests.fediverse.helpers import inbox_app

SEPARATORS = "_\u00b7\u30fb\u200c"
_CHUNK_ONE = f"[[:word:]_][[:word:]{SEPARATORS}]*[[:alpha:]{SEPARATORS}]"
_CHUNK_TWO = f"[[:word:]{SEPARATORS}]*[[:word:]_]"
NAME_PAT = f"({_CHUNK_ONE}{_CHUNK_TWO})|([[:word:]_]*[[:alpha:]][[:word:]_]*)"
HASHTAG_NAME_RE = regex.compile(rf"\A({NAME_PAT})\Z", regex.IGNORECASE | regex.V0)
# What a Mastodon user typing the tag gets: the longest hashtag at the start.
HASHTAG_RE = regex.compile(rf"(?<=^|[[:space:]])[#\uff03]({NAME_PAT})", regex.V0)

PERSIAN = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # "I want"
TAGS = [
    "C",
    "C++",
    "C#",
    "R&D",
    "Climate change",
    "COVID-19",
    "Zürich",
    "東京",
    "2024",
    "e-mail",
    "Email",
]


def _front(folder: Path, key: str, front: str, title: str) -> None:
    path = folder / f"{key}.txt"
    path.write_text(f"---\n{front}\n---\nScience\n\n{title}\n\nBody.", encoding="utf-8")


@pytest.fixture
def client(tmp_path: Path, database: Path, catalog: Catalog) -> FlaskClient:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    _front(seeds, "010_tags", "tags: " + json.dumps(TAGS, ensure_ascii=False), "Compilers")
    Image.new("RGB", (64, 48), (40, 90, 160)).save(seeds / "harbour.png", "PNG")
    _front(seeds, "011_bare", "image: harbour.png", "A harbour")
    _front(seeds, "012_told", "image: harbour.png\nimage_alt: Boats & <ships> at dawn", "Boats")
    write_article(seeds, "013_card", "Science", "A comet returns", "Astronomers saw it.")
    return inbox_app(seeds, database, catalog).test_client()


def _page_and_note(client: FlaskClient, slug: str) -> tuple[Any, dict[str, Any]]:
    """Return an article's page (parsed) and the Note it links as its ActivityPub form."""
    page = lxml.html.fromstring(client.get(f"/articles/{slug}/").text)
    (href,) = page.xpath('//link[@rel="alternate"][@type="application/activity+json"]/@href')
    response = client.get(href.removeprefix(SITE_URL))
    assert response.status_code == 200
    note: dict[str, Any] = json.loads(response.data)
    return page, note


def test_hashtags_are_the_tags_mastodon_files_them_under(client: FlaskClient) -> None:
    page, note = _page_and_note(client, "compilers")
    # The site's own links to its tag pages: where every mention of a tag must lead.
    tag_pages = {a.text: a.get("href") for a in page.xpath('//nav[@class="tags"]//a')}
    assert set(tag_pages) == set(TAGS)
    for href in tag_pages.values():
        assert "Compilers" in client.get(href.removeprefix(SITE_URL)).text
    hashtags = {tag["name"]: tag["href"] for tag in note["tag"] if tag["type"] == "Hashtag"}
    assert hashtags == {
        "#Science": f"{SITE_URL}/sections/science/",
        "#C": tag_pages["C"],
        "#ClimateChange": tag_pages["Climate change"],
        "#COVID19": tag_pages["COVID-19"],
        "#Zürich": tag_pages["Zürich"],
        "#東京": tag_pages["東京"],
        "#email": tag_pages["e-mail"],
    }
    for name in hashtags:
        assert HASHTAG_NAME_RE.match(name[1:]), name  # Mastodon takes it whole
    # C++, C# and R&D would be filed under #C and #RD, another topic: no hashtag names them.
    # 2024 has no letter, so it is no hashtag at all. Each stays a link to its page.
    content = lxml.html.fragment_fromstring(note["content"], create_parent="div")
    links = {a.text_content(): a for a in content.iter("a")}
    # Email is #email to Mastodon, as e-mail already is: the second one is a link too.
    for name in ("C++", "C#", "R&D", "2024", "Email"):
        link = links[name]
        assert link.get("href") == tag_pages[name]
        assert "hashtag" not in (link.get("class") or "")
        before = link.getprevious().tail if link.getprevious() is not None else None
        assert not (before or link.getparent().text or "").endswith("#")
    for name, href in hashtags.items():
        assert links[name].get("href") == href  # the #tag in the text leads where its object does
        assert "hashtag" in links[name].get("class")
    assert not [text for text in links if text.startswith("#") and text not in hashtags]


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("Science", "Science"),
        ("World News", "WorldNews"),
        ("climate change", "ClimateChange"),  # camel case: a screen reader reads two words
        ("iPhone tips", "iPhoneTips"),  # a word with a capital is kept as written
        ("COVID-19", "COVID19"),
        ("Women's health", "WomensHealth"),
        ("col·lecció", "col·lecció"),  # Catalan's middle dot is part of Mastodon's hashtags
        (PERSIAN, PERSIAN),  # so is the zero-width non-joiner of Persian
        ("हिन्दी", "हिन्दी"),
        ("ภาษาไทย", "ภาษาไทย"),
        ("東京", "東京"),
        ("snake_case", "snake_case"),
        ("C++", None),
        ("C#", None),
        ("R&D", None),
        (".NET", None),
        ("Node.js", None),
        ("AT&T", None),
        ("2024", None),
        ("_", None),
        ("·a", None),
    ],
)
def test_a_tag_is_a_hashtag_only_as_mastodon_reads_it_whole(tag: str, expected: str | None) -> None:
    assert hashtag(tag) == expected
    if expected is not None:
        assert HASHTAG_NAME_RE.match(expected)
        assert HASHTAG_RE.search(f"#{expected}").group(1) == expected
    elif " " not in tag:
        # What a Mastodon user typing the tag would get is something else: shorter, or none.
        typed = HASHTAG_RE.search(f"#{tag}")
        assert typed is None or typed.group(1) != tag


def test_an_image_is_described_by_its_publisher_only(client: FlaskClient) -> None:
    _page, bare = _page_and_note(client, "a-harbour")
    (attachment,) = bare["attachment"]
    assert attachment["url"].startswith(f"{SITE_URL}/images/")
    assert "name" not in attachment  # no alt text was given: none is made up
    _page, told = _page_and_note(client, "boats")
    assert told["attachment"][0]["name"] == "Boats & <ships> at dawn"
    # The preview card is a picture of text the site drew: its description is that text,
    # the same one the page gives it.
    page, carded = _page_and_note(client, "a-comet-returns")
    (card,) = carded["attachment"]
    assert re.search(r"/card\.[0-9a-f]+\.png$", card["url"])
    (og_alt,) = page.xpath('//meta[@property="og:image:alt"]/@content')
    assert card["name"] == og_alt
    assert og_alt.startswith("A comet returns — Science, ")
