"""Article pages worth sharing and embedding: Open Graph, Twitter, JSON-LD, preview cards, the
oEmbed provider and the embed card — read by real consumers (extruct, micawber, Pillow)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import extruct
import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree, html
from PIL import Image

from feedsvc.catalog import Catalog
from feedsvc.documents.cards import Card, drawable, render_card
from tests.conftest import SITE_URL, T0, run_ingest, start_server, stop_server, write_article

SEED_SLUG = "iranian-top-diplomat-meets-syrian-counterpart-pm-in-damascus"
SEED_URL = f"{SITE_URL}/articles/{SEED_SLUG}/"
TITLE = "Iranian Top Diplomat Meets Syrian Counterpart, PM in Damascus"


def metadata(client: FlaskClient, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200
    data = extruct.extract(
        response.get_data(as_text=True),
        base_url=SITE_URL + path,
        syntaxes=["opengraph", "json-ld"],
        uniform=True,
    )
    return {
        "og": data["opengraph"][0],
        "ld": data["json-ld"][0],
        "page": html.fromstring(response.data),
    }


def test_open_graph(client: FlaskClient, catalog: Catalog) -> None:
    record = catalog.lookup(SEED_SLUG).record
    assert record is not None
    og = metadata(client, f"/articles/{SEED_SLUG}/")["og"]
    assert og["@type"] == "article"
    assert og["og:title"] == TITLE
    assert og["og:description"] == record.summary
    assert og["og:url"] == SEED_URL
    assert og["og:site_name"] == "Test News"
    assert og["og:locale"] == "en_US"
    assert og["og:image"].startswith(f"{SEED_URL}card.")
    assert (og["og:image:width"], og["og:image:height"]) == ("1200", "630")
    assert og["og:image:alt"].startswith(TITLE)
    assert og["article:published_time"] == "2024-03-01T09:30:00Z"
    assert og["article:modified_time"] == "2024-03-01T09:30:00Z"
    assert og["article:section"] == "World News"
    assert og["article:tag"] == "World News"


def test_twitter_card_and_basics(client: FlaskClient) -> None:
    page = metadata(client, f"/articles/{SEED_SLUG}/")["page"]

    def meta(name: str) -> str:
        return str(page.xpath(f"string(//meta[@name='{name}']/@content)"))

    assert meta("twitter:card") == "summary_large_image"
    assert meta("twitter:title") == TITLE
    assert meta("twitter:image") == page.xpath("string(//meta[@property='og:image']/@content)")
    assert meta("twitter:image:alt")
    assert meta("description").startswith("Iranian Foreign Minister")
    assert page.xpath("string(//title)") == f"{TITLE} · Test News"
    assert page.xpath("//link[@rel='canonical']/@href") == [SEED_URL]


def test_json_ld_news_article(client: FlaskClient, catalog: Catalog) -> None:
    record = catalog.lookup(SEED_SLUG).record
    assert record is not None
    ld = metadata(client, f"/articles/{SEED_SLUG}/")["ld"]
    assert ld["@type"] == "NewsArticle"
    assert ld["headline"] == TITLE
    assert ld["description"] == record.summary
    assert ld["datePublished"] == ld["dateModified"] == "2024-03-01T09:30:00Z"
    assert ld["author"] == [{"@type": "Organization", "name": "feedsvc newsroom"}]
    assert ld["publisher"]["name"] == "Test News"
    assert ld["mainEntityOfPage"] == {"@type": "WebPage", "@id": SEED_URL}
    assert ld["articleSection"] == "World News"
    assert ld["inLanguage"] == "en"
    assert ld["url"] == SEED_URL
    assert ld["wordCount"] == sum(len(p.split()) for p in record.paragraphs)
    assert ld["image"][0].startswith(f"{SEED_URL}card.")


def test_metadata_cannot_break_out_of_its_context(
    client: FlaskClient, catalog: Catalog, seeds: Path
) -> None:
    hostile = 'Evil </script><script>alert(1)</script> "quoted" & <b>bold</b>'
    write_article(seeds, "009_hostile", "Se</script>ction", hostile, "Body </script> & more.")
    run_ingest(catalog, seeds, now=T0.replace(hour=11))
    slug = next(r.slug for r in catalog.latest(10) if r.key == "009_hostile")
    response = client.get(f"/articles/{slug}/")
    body = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert body.count("</script>") == 1  # only the JSON-LD block's own end tag
    data = metadata(client, f"/articles/{slug}/")
    assert data["ld"]["headline"] == hostile
    assert data["ld"]["articleSection"] == "Se</script>ction"
    assert data["og"]["og:title"] == hostile
    assert data["page"].xpath("//h1/text()") == [hostile]


def test_preview_card_is_a_1200x630_png_cached_forever(
    app: Flask, catalog: Catalog, seeds: Path, tmp_path: Path
) -> None:
    client = app.test_client()
    image_url = metadata(client, f"/articles/{SEED_SLUG}/")["og"]["og:image"]
    response = client.get(image_url.removeprefix(SITE_URL))
    assert response.status_code == 200
    assert response.content_type == "image/png"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    image = Image.open(io.BytesIO(response.data))
    assert (image.format, image.size) == ("PNG", (1200, 630))
    cards = list((tmp_path / "instance" / "cards").glob("*.png"))
    assert len(cards) == 1
    assert cards[0].read_bytes() == response.data  # made once, kept on disk for every worker
    # A new title is a new picture at a new address; the old address leads there (sites that
    # showed the card keep its URL), and a version that never was is not found.
    write_article(seeds, "000_5633a81924f3da7a", "World News", "A different title", "Text.")
    run_ingest(catalog, seeds, now=T0.replace(hour=12))
    new_url = metadata(client, "/articles/a-different-title/")["og"]["og:image"]
    assert new_url != image_url
    old = client.get(image_url.removeprefix(SITE_URL))
    assert (old.status_code, old.headers["Location"]) == (301, new_url)
    assert client.get(new_url.removeprefix(SITE_URL)).status_code == 200
    assert client.get("/articles/a-different-title/card.0123456789ab.png").status_code == 404


def test_card_drawing_never_shows_missing_glyphs() -> None:
    assert drawable("東京 ✓ Ωμέγα Привет 🙂") == "Dong Jing ✓ Ωμέγα Привет"
    a = render_card(Card("東京 rises", "Économie", "1 March 2024", "Site"))
    b = render_card(Card("Dong Jing rises", "Économie", "1 March 2024", "Site"))
    assert a == b  # the transliteration is what is drawn, never a box
    long = render_card(Card("word " * 200, "S", "d", "s"))
    assert Image.open(io.BytesIO(long)).size == (1200, 630)


def oembed(client: FlaskClient, **params: str) -> Any:
    return client.get("/oembed", query_string=params)


def test_oembed_json(client: FlaskClient) -> None:
    response = oembed(client, url=SEED_URL)
    assert response.status_code == 200
    assert response.content_type == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    doc = response.get_json()
    assert doc["version"] == "1.0"
    assert doc["type"] == "rich"
    assert doc["title"] == TITLE
    assert doc["author_name"] == "feedsvc newsroom"
    assert doc["provider_name"] == "Test News"
    assert doc["provider_url"] == f"{SITE_URL}/"
    assert doc["cache_age"] == 86400
    assert (doc["width"], doc["height"]) == (560, 240)
    iframe = html.fromstring(doc["html"])
    assert iframe.tag == "iframe"
    assert iframe.get("src") == f"{SEED_URL}embed/"
    assert (iframe.get("width"), iframe.get("height")) == ("560", "240")
    assert doc["thumbnail_url"].startswith(f"{SEED_URL}card.")
    assert (doc["thumbnail_width"], doc["thumbnail_height"]) == (1200, 630)


def test_oembed_respects_maxwidth_and_maxheight(client: FlaskClient) -> None:
    doc = oembed(client, url=SEED_URL, maxwidth="300", maxheight="150").get_json()
    assert (doc["width"], doc["height"]) == (300, 150)
    iframe = html.fromstring(doc["html"])
    assert (iframe.get("width"), iframe.get("height")) == ("300", "150")
    assert "thumbnail_url" not in doc  # a 1200x630 thumbnail would not fit
    assert oembed(client, url=SEED_URL, maxwidth="5000").get_json()["width"] == 560


def test_oembed_xml(client: FlaskClient) -> None:
    response = oembed(client, url=SEED_URL, format="xml")
    assert response.content_type == "text/xml; charset=utf-8"
    root = etree.fromstring(response.data)
    assert root.tag == "oembed"
    assert root.findtext("type") == "rich"
    assert root.findtext("title") == TITLE
    assert root.findtext("width") == "560"
    assert html.fromstring(root.findtext("html")).get("src") == f"{SEED_URL}embed/"


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"url": "https://elsewhere.example/articles/x/"}, 404),
        ({"url": f"{SITE_URL}/articles/no-such-article/"}, 404),
        ({"url": f"{SITE_URL}/feeds/atom.xml"}, 404),
        ({"url": "http://news.example.org/articles/a-comet-returns/"}, 404),  # other scheme
        ({"url": "javascript:alert(1)"}, 404),
        ({"url": "x" * 5000}, 404),
        ({}, 400),
        ({"url": SEED_URL, "format": "yaml"}, 501),
        ({"url": SEED_URL, "maxwidth": "wide"}, 400),
        ({"url": SEED_URL, "maxwidth": "0"}, 400),
        ({"url": SEED_URL, "maxwidth": "-5"}, 400),
        ({"url": SEED_URL, "maxheight": "99999999999999999999"}, 400),
        ({"url": SEED_URL, "maxwidth": "\uff11\uff12\uff13"}, 400),
    ],
)
def test_oembed_errors(client: FlaskClient, params: dict[str, str], status: int) -> None:
    response = oembed(client, **params)
    assert response.status_code == status
    assert response.mimetype == "text/plain"


def test_oembed_follows_an_old_slug(client: FlaskClient, catalog: Catalog, seeds: Path) -> None:
    write_article(seeds, "002_comet", "Science", "The comet is back", "Seen.")
    run_ingest(catalog, seeds, now=T0.replace(hour=11))
    doc = oembed(client, url=f"{SITE_URL}/articles/a-comet-returns/").get_json()
    assert doc["title"] == "The comet is back"


def test_static_oembed_documents_and_discovery(client: FlaskClient) -> None:
    page = html.fromstring(client.get(f"/articles/{SEED_SLUG}/").data)
    json_href = page.xpath("string(//link[@type='application/json+oembed']/@href)")
    xml_href = page.xpath("string(//link[@type='text/xml+oembed']/@href)")
    assert json_href == f"{SEED_URL}oembed.json"
    assert xml_href == f"{SEED_URL}oembed.xml"
    static = client.get(json_href.removeprefix(SITE_URL))
    assert static.get_json() == oembed(client, url=SEED_URL).get_json()
    assert (
        etree.fromstring(client.get(xml_href.removeprefix(SITE_URL)).data).findtext("type")
        == "rich"
    )


def test_embed_card(client: FlaskClient) -> None:
    response = client.get(f"/articles/{SEED_SLUG}/embed/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in csp
    assert "script-src" not in csp
    assert "default-src 'none'" in csp
    assert "X-Frame-Options" not in response.headers
    page = html.fromstring(response.data)
    assert page.xpath("//script") == []
    assert page.xpath("//img | //link[@rel='stylesheet'] | //iframe") == []  # no requests at all
    link = page.xpath("//h1/a")[0]
    assert (link.text, link.get("href"), link.get("target")) == (TITLE, SEED_URL, "_blank")
    assert "noopener" in link.get("rel")
    assert page.xpath("string(//p[@class='meta'])").startswith("World News")
    assert page.xpath("//time/@datetime") == ["2024-03-01T09:30:00Z"]


@pytest.mark.slow
@pytest.mark.e2e
def test_micawber_resolves_a_permalink(seeds: Path, tmp_path: Path) -> None:
    import micawber

    process, base = start_server(seeds, tmp_path)
    try:
        providers = micawber.ProviderRegistry()
        providers.register(rf"{base}/articles/\S+", micawber.Provider(f"{base}/oembed"))
        url = f"{base}/articles/{SEED_SLUG}/"
        data = providers.request(url, maxwidth=400)
        assert data["type"] == "rich"
        assert data["title"] == TITLE
        assert data["width"] == 400
        assert f'src="{url}embed/"' in data["html"]
        with pytest.raises(micawber.ProviderException):
            providers.request(f"{base}/articles/nothing-here/")
    finally:
        assert stop_server(process) == 0
