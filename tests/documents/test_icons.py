"""The publication's icon: every size served fingerprinted and immutable, favicon.ico and
apple-touch-icon, linked from pages, carried by every feed format, exported, and a broken
FEEDSVC_SITE_ICON refused at start."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from feedsvc import urlmap
from feedsvc.catalog import Catalog
from feedsvc.cli import cli
from feedsvc.config.settings import load_settings
from feedsvc.documents.icons import icon_set, icons_for, initials
from feedsvc.errors import ConfigError
from feedsvc.export.builder import build
from feedsvc.web.app import create_app
from tests.conftest import SITE_URL, run_ingest
from tests.export.test_export import corpus_app  # noqa: F401  (the fixture)

IMMUTABLE = "public, max-age=31536000, immutable"


def _icon_paths(client: FlaskClient) -> list[str]:
    html = client.get("/").get_data(as_text=True)
    links = re.findall(r'<link rel="(?:icon|apple-touch-icon)" href="([^"]+)"', html)
    return [link.removeprefix(SITE_URL) for link in links]


def test_initials() -> None:
    assert initials("feedsvc") == "F"
    assert initials("Test News") == "TN"
    assert initials("Le Monde diplomatique") == "LM"
    assert initials("東京 Times") == "DT"
    assert initials("— · —") == "?"


def test_icons_are_deterministic_and_follow_the_title() -> None:
    drawn = icon_set.__wrapped__("Test News", None)
    assert drawn == icon_set.__wrapped__("Test News", None)
    assert drawn.names.keys() == {"icon.svg", *(f"icon-{s}.png" for s in urlmap.ICON_SIZES)}
    other = icon_set.__wrapped__("Other", None)
    assert set(other.files).isdisjoint(drawn.files)


def test_every_icon_answers_with_its_type_and_size(client: FlaskClient) -> None:
    icons = icons_for(client.application.config["FEEDSVC"])
    assert len(icons.files) == 5
    for name, body in icons.files.items():
        response = client.get(urlmap.icon(name))
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert response.get_data() == body
        if name.endswith(".svg"):
            assert response.mimetype == "image/svg+xml"
            assert response.get_data().startswith(b"<svg ")
            continue
        assert response.mimetype == "image/png"
        size = int(name.split(".")[0].removeprefix("icon-"))
        image = Image.open(io.BytesIO(response.get_data()))
        assert (image.format, image.size) == ("PNG", (size, size))
    assert client.get(urlmap.icon("icon-64.000000000000.png")).status_code == 404
    touch = client.get(urlmap.APPLE_TOUCH_ICON)
    assert touch.mimetype == "image/png"
    assert Image.open(io.BytesIO(touch.get_data())).size == (180, 180)


def test_favicon_is_a_real_ico(client: FlaskClient) -> None:
    response = client.get(urlmap.FAVICON)
    assert response.status_code == 200
    assert response.mimetype == "image/x-icon"
    assert response.get_data()[:4] == b"\x00\x00\x01\x00"
    image = Image.open(io.BytesIO(response.get_data()))
    assert image.format == "ICO"
    assert image.info["sizes"] == {(32, 32), (64, 64)}


def test_page_head_links_the_icons(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    for link in (
        r'<link rel="icon" href="[^"]+/icons/icon\.\w+\.svg" type="image/svg\+xml">',
        r'<link rel="icon" href="[^"]+/icons/icon-32\.\w+\.png" type="image/png" sizes="32x32">',
        r'<link rel="apple-touch-icon" href="[^"]+/icons/icon-180\.\w+\.png">',
    ):
        assert re.search(link, html), link
    for path in _icon_paths(client):
        assert client.get(path).status_code == 200


def test_feeds_carry_icon_and_logo(client: FlaskClient) -> None:
    icons = icons_for(client.application.config["FEEDSVC"])
    small = SITE_URL + urlmap.icon(icons.png_name(64))
    large = SITE_URL + urlmap.icon(icons.png_name(512))
    atom = feedparser.parse(client.get("/feeds/atom.xml").get_data())
    assert not atom.bozo
    assert atom.feed.icon == small
    assert atom.feed.logo == large
    rss = feedparser.parse(client.get("/feeds/rss.xml").get_data())
    assert not rss.bozo
    image = rss.feed.image
    assert image.href == small
    assert image.title == rss.feed.title == "Test News"
    assert image.link == rss.feed.link
    assert (image.width, image.height) == (64, 64)
    document = json.loads(client.get("/feeds/feed.json").get_data())
    assert document["icon"] == large
    assert document["favicon"] == small
    for url in (small, large):
        assert client.get(url.removeprefix(SITE_URL)).status_code == 200


def test_the_export_holds_every_icon(
    corpus_app: tuple[Flask, Path, Catalog],  # noqa: F811
    tmp_path: Path,
) -> None:
    app, _seeds, _catalog = corpus_app
    out = tmp_path / "site"
    build(app, out)
    client = app.test_client()
    icons = icons_for(app.config["FEEDSVC"])
    for name in icons.files:
        assert (out / "icons" / name).read_bytes() == icons.files[name]
    assert (out / "favicon.ico").read_bytes() == client.get(urlmap.FAVICON).get_data()
    assert (out / "apple-touch-icon.png").read_bytes() == icons.files[icons.png_name(180)]
    headers = (out / "_headers").read_text()
    assert "/icons/" in headers


def _png(path: Path, size: tuple[int, int]) -> Path:
    Image.new("RGB", size, (200, 30, 30)).save(path)
    return path


def test_an_icon_file_is_used_in_every_size(
    seeds: Path, database: Path, catalog: Catalog, tmp_path: Path
) -> None:
    run_ingest(catalog, seeds)
    source = _png(tmp_path / "logo.png", (300, 200))  # not square: centred on transparency
    app = create_app({"SEEDS_DIR": seeds, "DATABASE": database, "SITE_ICON": source})
    client = app.test_client()
    icons = icons_for(app.config["FEEDSVC"])
    drawn = icons_for(load_settings({}, {"SITE_TITLE": "x"}))
    assert set(icons.files).isdisjoint(drawn.files)
    for size in urlmap.ICON_SIZES:
        image = Image.open(io.BytesIO(client.get(urlmap.icon(icons.png_name(size))).get_data()))
        assert image.size == (size, size)
        assert image.convert("RGBA").getpixel((size // 2, size // 2)) == (200, 30, 30, 255)
        assert image.convert("RGBA").getpixel((size // 2, 0))[3] == 0
    svg = client.get(urlmap.icon(icons.names["icon.svg"])).get_data()
    assert b"data:image/png;base64," in svg


def test_new_bytes_in_the_icon_file_rebuild_the_icons(
    seeds: Path, database: Path, catalog: Catalog, tmp_path: Path
) -> None:
    """The export's build digest counts the icon file's bytes (not its path): new bytes at the
    same path give a full build and the new icons."""
    run_ingest(catalog, seeds)
    source = _png(tmp_path / "logo.png", (64, 64))
    settings = {"SEEDS_DIR": seeds, "DATABASE": database, "SITE_ICON": source}
    out = tmp_path / "site"
    build(create_app(settings), out)
    before = sorted(path.name for path in (out / "icons").iterdir())
    Image.new("RGB", (64, 64), (30, 200, 30)).save(source)
    icon_set.cache_clear()  # what a new process would draw
    report = build(create_app(settings), out)
    assert report.full
    after = sorted(path.name for path in (out / "icons").iterdir())
    assert set(after).isdisjoint(before)
    assert after == sorted(icons_for(load_settings({}, settings)).files)


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"not an image at all", "logo.png", "not an image Pillow can read"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "logo.png", "not an image Pillow can read"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "logo.svg", "give a PNG"),
        (None, "missing.png", "not an image Pillow can read"),
    ],
)
def test_a_broken_icon_file_is_refused_at_start(
    tmp_path: Path, runner: CliRunner, content: bytes | None, name: str, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match=f"FEEDSVC_SITE_ICON: .*{message}"):
        load_settings({"FEEDSVC_SITE_ICON": str(path)})
    result = runner.invoke(cli, ["check"], env={"FEEDSVC_SITE_ICON": str(path)})
    assert result.exit_code == 2
    assert "FEEDSVC_SITE_ICON" in result.output
    assert message in result.output
    assert "Traceback" not in result.output
