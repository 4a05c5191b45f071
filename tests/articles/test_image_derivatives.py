"""Right-sized images: a 5 MB PNG beside an article gives a small Media RSS thumbnail, a page
picture with srcset (WebP first where smaller) whose copies answer 200 immutable, no EXIF in
any copy (upright all the same), the original still the enclosure, the copies in a static
export (and served by nginx from it), byte for byte the same in two builds."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from flask import Flask
from lxml import etree, html
from PIL import Image, ImageFilter

from feedsvc import urlmap
from feedsvc.articles.derivatives import THUMBNAIL, WIDTHS, draw, kept
from feedsvc.articles.images import store_dir
from feedsvc.catalog import Catalog, Record, open_catalog
from feedsvc.documents.feed_images import MEDIA_NS
from feedsvc.export.builder import build
from feedsvc.web.app import create_app
from tests.conftest import SITE_URL, free_port, run_ingest, start_nginx, write_article

IMMUTABLE = "public, max-age=31536000, immutable"
GPS = 0x8825
ORIENTATION = 0x0112
SIZE = (2200, 1500)


def photo(size: tuple[int, int]) -> Image.Image:
    """Return a picture that compresses like a photograph (gradients and soft grain: pixel
    by pixel noise is what no lossy format compresses, WebP less than JPEG)."""
    gradient = Image.linear_gradient("L").resize(size)
    soft = ImageFilter.GaussianBlur(1)
    grain = [Image.effect_noise(size, 60 + 10 * n).convert("L").filter(soft) for n in range(3)]
    return Image.merge("RGB", [Image.blend(gradient, g, 0.5) for g in grain])


def exif_with_gps(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS)
    gps.update({1: "N", 2: (52.0, 22.0, 7.5), 3: "E", 4: (4.0, 53.0, 1.0)})
    return exif.tobytes()


@pytest.fixture(scope="module")
def big_png() -> bytes:
    """Return a PNG of over 5 MB that carries a GPS position in its EXIF."""
    out = io.BytesIO()
    photo(SIZE).save(out, "PNG", exif=exif_with_gps())
    data = out.getvalue()
    assert len(data) > 5_000_000
    return data


@pytest.fixture
def turned(tmp_path: Path) -> Path:
    """Return a folder with one article beside a JPEG shot turned a quarter (EXIF orientation
    6) that carries a GPS position."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    write_article(seeds, "031_turned", "World", "A picture shot sideways", "Body.")
    photo((900, 600)).save(
        seeds / "031_turned.jpg", "JPEG", quality=90, exif=exif_with_gps(orientation=6)
    )
    return seeds


@pytest.fixture
def folder(turned: Path, big_png: bytes) -> Path:
    """Return that folder with an article beside the 5 MB PNG too."""
    write_article(turned, "030_big", "World", "A very large picture", "Body.")
    (turned / "030_big.png").write_bytes(big_png)
    return turned


def app_over(folder: Path, database: Path) -> Flask:
    catalog = open_catalog(database, create=True)
    try:
        assert run_ingest(catalog, folder).rejected == ()
    finally:
        catalog.close()
    return create_app({"SEEDS_DIR": folder, "DATABASE": database, "SITE_URL": SITE_URL})


@pytest.fixture
def site(folder: Path, database: Path) -> Flask:
    return app_over(folder, database)


def records(database: Path) -> dict[str, Record]:
    catalog: Catalog = open_catalog(database, readonly=True)
    try:
        return {record.key: record for record in catalog.latest(100)}
    finally:
        catalog.close()


def local(url: str) -> str:
    assert url.startswith(SITE_URL + "/images/"), url
    return url.removeprefix(SITE_URL)


def decoded(body: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(body))
    image.load()
    return image


@pytest.mark.slow  # draws every copy of a 5 MB PNG
def test_a_5_mb_png_gets_a_small_thumbnail_and_stays_the_enclosure(
    site: Flask, database: Path, big_png: bytes
) -> None:
    own = records(database)["030_big"].image
    assert own is not None
    original = SITE_URL + urlmap.image(own.name)
    client = site.test_client()
    for path in ("/feeds/rss.xml", "/feeds/atom.xml"):
        parsed = feedparser.parse(client.get(path).get_data())
        (entry,) = [e for e in parsed.entries if e.title == "A very large picture"]
        (enclosure,) = entry.enclosures
        assert (enclosure.href, enclosure.type, int(enclosure.length)) == (
            original,
            "image/png",
            len(big_png),
        )
        (content,) = entry.media_content
        assert (content["url"], int(content["filesize"])) == (original, len(big_png))
        (thumbnail,) = entry.media_thumbnail
        assert thumbnail["url"] != original
        response = client.get(local(thumbnail["url"]))
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert response.mimetype == "image/jpeg"  # every reader shows JPEG
        body = response.get_data()
        assert len(body) < 200_000, len(body)  # from 5 MB
        image = decoded(body)
        assert image.size == (int(thumbnail["width"]), int(thumbnail["height"]))
        assert max(image.size) <= THUMBNAIL
        assert image.size == (THUMBNAIL, round(SIZE[1] * THUMBNAIL / SIZE[0]))
    # JSON Feed: the original, as the enclosure, unchanged.
    items = client.get("/feeds/feed.json").get_json()["items"]
    (item,) = [i for i in items if i["title"] == "A very large picture"]
    assert item["attachments"] == [
        {"url": original, "mime_type": "image/png", "size_in_bytes": len(big_png)}
    ]
    assert client.get(urlmap.image(own.name)).get_data() == big_png


def _candidates(srcset: str) -> list[tuple[str, int]]:
    found = []
    for candidate in srcset.split(","):
        url, width = candidate.split()
        assert width.endswith("w")
        found.append((url, int(width[:-1])))
    return found


@pytest.mark.slow  # draws every copy of a 5 MB PNG
def test_the_page_offers_right_sized_copies_webp_first(site: Flask, database: Path) -> None:
    record = records(database)["030_big"]
    assert record.image is not None
    client = site.test_client()
    page = html.fromstring(client.get(record.path).get_data())
    (picture,) = page.xpath("//figure[@class='lead']/picture")
    (source,) = picture.xpath("source")
    (img,) = picture.xpath(".//img")  # libxml2 does not know <source> is void
    assert source.get("type") == "image/webp"
    assert source.get("sizes") == img.get("sizes")
    assert (img.get("width"), img.get("height")) == tuple(str(n) for n in SIZE)
    original = SITE_URL + urlmap.image(record.image.name)
    expected = sorted({min(w, SIZE[0]) for w in WIDTHS} | {THUMBNAIL})
    sizes: dict[str, dict[int, int]] = {"image/webp": {}, "image/jpeg": {}}
    for srcset, media_type in ((source.get("srcset"), "image/webp"), (img.get("srcset"), None)):
        candidates = _candidates(srcset)
        assert [width for _url, width in candidates] == expected
        for url, width in candidates:
            assert url != original
            response = client.get(local(url))
            assert response.status_code == 200, url
            assert response.headers["Cache-Control"] == IMMUTABLE
            assert media_type in (None, response.mimetype)
            image = decoded(response.get_data())
            assert image.width == width
            assert image.get_format_mimetype() == response.mimetype
            sizes.setdefault(response.mimetype, {})[width] = len(response.get_data())
    assert sum(sizes["image/webp"].values()) < sum(sizes["image/jpeg"].values())
    assert img.get("src") in [url for url, _width in _candidates(img.get("srcset"))]
    # Open Graph and the oEmbed thumbnail still name the original (one answer everywhere).
    assert page.xpath("//meta[@property='og:image']/@content") == [original]


@pytest.mark.slow  # draws every copy of a 5 MB PNG
def test_no_copy_carries_exif_and_each_is_upright(
    site: Flask, database: Path, folder: Path
) -> None:
    turned = records(database)["031_turned"].image
    assert turned is not None
    assert (turned.width, turned.height) == (600, 900)  # displayed turned
    original = decoded((folder / "031_turned.jpg").read_bytes())
    assert original.getexif().get_ifd(GPS)  # the enclosure is the file as published
    client = site.test_client()
    for key in ("030_big", "031_turned"):
        own = records(database)[key].image
        assert own is not None
        found = kept(store_dir(database), own.name)
        assert found is not None
        assert found.modern  # these photographs are smaller in WebP
        for copy in (*found.fallback, *found.modern):
            body = client.get(urlmap.image(copy.name)).get_data()
            image = decoded(body)
            assert dict(image.getexif()) == {}, copy.name
            assert not {"exif", "xmp", "XML:com.adobe.xmp"} & image.info.keys(), copy.name
            # No EXIF block at all (a search for b"GPS" in compressed pixels would match by
            # chance now and then: the block's header is what cannot appear in a copy).
            assert b"Exif\x00\x00" not in body
            assert image.size == (copy.width, copy.height)
            assert copy.width * own.height == pytest.approx(copy.height * own.width, rel=0.01)
    # The sideways shot is drawn upright: taller than wide, as it is shown.
    thumbnail = kept(store_dir(database), turned.name).thumbnail  # type: ignore[union-attr]
    assert (thumbnail.width, thumbnail.height) == (round(600 * THUMBNAIL / 900), THUMBNAIL)


@pytest.mark.parametrize("mode", ["RGBA", "P"])
def test_a_transparent_image_keeps_its_transparency(mode: str) -> None:
    picture = Image.new("RGBA", (800, 400), (10, 120, 200, 255))
    picture.paste((0, 0, 0, 0), (0, 0, 400, 400))
    out = io.BytesIO()
    # "P": a palette with a transparent entry (PNG's tRNS), as image optimisers write.
    (picture.quantize(4) if mode == "P" else picture).save(out, "PNG")
    drawn = draw(out.getvalue(), "0123456789abcdef.png")
    assert drawn is not None
    found, files = drawn
    assert {d.media_type for d in found.fallback} == {"image/png"}
    for copy in (*found.fallback, *found.modern):
        image = decoded(files[copy.name]).convert("RGBA")
        assert image.getpixel((0, 0))[3] == 0  # type: ignore[index]
        assert image.getpixel((image.width - 1, 0))[3] == 255  # type: ignore[index]


def test_copies_lost_from_the_store_are_drawn_again_the_same(turned: Path, database: Path) -> None:
    site = app_over(turned, database)
    own = records(database)["031_turned"].image
    assert own is not None
    store = store_dir(database)
    found = kept(store, own.name)
    assert found is not None
    before = {name: (store / name).read_bytes() for name in found.names}
    for path in store.iterdir():
        if path.name != own.name:
            path.unlink()
    client = site.test_client()
    for name, body in before.items():
        assert client.get(urlmap.image(name)).get_data() == body
    assert client.get(urlmap.image(f"{own.name[:16]}-321w-{'0' * 8}.jpg")).status_code == 404


@pytest.mark.slow  # draws every copy of a 5 MB PNG
def test_the_export_holds_every_copy_the_same_in_two_builds(folder: Path, tmp_path: Path) -> None:
    outs = []
    for n in (1, 2):  # two catalogs, two stores: every copy drawn twice
        app = app_over(folder, tmp_path / f"instance{n}" / "catalog.sqlite3")
        out = tmp_path / f"site{n}"
        build(app, out)
        outs.append(out)
    first, second = (sorted(p.name for p in (out / "images").iterdir()) for out in outs)
    assert first == second
    for out in outs:
        database = out.parent / f"instance{outs.index(out) + 1}" / "catalog.sqlite3"
        for record in records(database).values():
            assert record.image is not None
            found = kept(store_dir(database), record.image.name)
            assert found is not None
            assert {record.image.name, *found.names} <= set(first)
    for name in first:
        assert (outs[0] / "images" / name).read_bytes() == (
            outs[1] / "images" / name
        ).read_bytes(), name
    # The exported page names only files the export holds.
    for page in (outs[0] / "articles").glob("*/index.html"):
        tree = html.fromstring(page.read_bytes())
        for srcset in tree.xpath("//picture/*/@srcset"):
            for url, _width in _candidates(srcset):
                assert (outs[0] / local(url).lstrip("/")).is_file(), url


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


@pytest.fixture
def nginx_export(site: Flask, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    out = tmp_path / "site"
    build(site, out)
    port = free_port()
    conf = (out / "_nginx.conf").read_text().replace("listen 80;", f"listen 127.0.0.1:{port};")
    process = start_nginx(tmp_path, conf, port)
    try:
        yield f"http://127.0.0.1:{port}", out
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.external
@pytest.mark.slow
def test_nginx_serves_the_exported_copies_immutable(
    nginx_export: tuple[str, Path], database: Path
) -> None:
    base, out = nginx_export
    own = records(database)["030_big"].image
    assert own is not None
    found = kept(store_dir(database), own.name)
    assert found is not None
    for copy in (*found.fallback, *found.modern):
        status, headers, body = _get(base + urlmap.image(copy.name))
        assert status == 200, copy.name
        assert headers["content-type"] == copy.media_type
        assert headers["cache-control"] == IMMUTABLE
        assert body == (out / "images" / copy.name).read_bytes()
    rss = etree.fromstring(_get(base + "/feeds/rss.xml")[2])
    thumbnails = rss.findall(f".//{{{MEDIA_NS}}}thumbnail")
    assert found.thumbnail.name in [t.get("url", "").rsplit("/", 1)[1] for t in thumbnails]
    assert json.loads(_get(base + "/feeds/feed.json")[2])["items"]
