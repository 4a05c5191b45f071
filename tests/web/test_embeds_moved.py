"""What embedding sites keep working after a retitle or a removal: every URL of an article (its
embed card, oEmbed documents and preview card) follows an old slug, and a withdrawn article's
embed card is a framable card that says so. Served, exported, and framed in Chromium."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html

from feedsvc.catalog import Catalog, open_catalog
from feedsvc.export.builder import build
from tests.conftest import SITE_URL, T0, run_ingest, start_server, stop_server, write_article
from tests.web.test_browser import _QuietHandler, browser, console_problems  # noqa: F401

OLD, NEW = "a-comet-returns", "the-comet-is-back"


def retitle(seeds: Path, catalog: Catalog) -> None:
    write_article(seeds, "002_comet", "Science", "The comet is back", "Seen.")
    run_ingest(catalog, seeds, now=T0.replace(hour=10))


def withdraw(seeds: Path, catalog: Catalog) -> None:
    (seeds / "002_comet.txt").unlink()
    run_ingest(catalog, seeds, now=T0.replace(hour=10))


def _framable(response: Any) -> None:
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]


def test_an_old_slug_redirects_every_url_of_the_article(
    client: FlaskClient, catalog: Catalog, seeds: Path
) -> None:
    old_card = html.fromstring(client.get(f"/articles/{OLD}/").data).xpath(
        "string(//meta[@property='og:image']/@content)"
    )
    retitle(seeds, catalog)
    new_card = html.fromstring(client.get(f"/articles/{NEW}/").data).xpath(
        "string(//meta[@property='og:image']/@content)"
    )
    assert old_card != new_card  # the title is drawn: a new version
    for old, new in (
        (f"/articles/{OLD}/embed/", f"{SITE_URL}/articles/{NEW}/embed/"),
        (f"/articles/{OLD}/oembed.json", f"{SITE_URL}/articles/{NEW}/oembed.json"),
        (f"/articles/{OLD}/oembed.xml", f"{SITE_URL}/articles/{NEW}/oembed.xml"),
        (old_card.removeprefix(SITE_URL), new_card),
    ):
        response = client.get(old)
        assert (response.status_code, response.headers.get("Location")) == (301, new), old
        assert response.headers["Cache-Control"] == "public, max-age=86400"
        assert client.get(new.removeprefix(SITE_URL)).status_code == 200, new
    # A consumer's fetch() follows a redirect only if it passes CORS too.
    for fmt in ("json", "xml"):
        moved = client.get(f"/articles/{OLD}/oembed.{fmt}")
        assert moved.headers["Access-Control-Allow-Origin"] == "*"
    # A frame follows the redirect to a card: nothing on the way forbids framing.
    _framable(client.get(f"/articles/{OLD}/embed/"))
    doc = client.get(f"/articles/{NEW}/oembed.json").get_json()
    assert f'src="{SITE_URL}/articles/{NEW}/embed/"' in doc["html"]


def test_a_withdrawn_articles_embed_is_a_framable_card(
    client: FlaskClient, catalog: Catalog, seeds: Path
) -> None:
    withdraw(seeds, catalog)
    response = client.get(f"/articles/{OLD}/embed/")
    assert response.status_code == 410
    assert response.mimetype == "text/html"
    _framable(response)
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    page = html.fromstring(response.data)
    assert "withdrawn" in page.xpath("string(//article[@class='card']//h1)")
    assert page.xpath("//script | //img | //link[@rel='stylesheet'] | //iframe") == []
    for path in (f"/articles/{OLD}/oembed.json", f"/articles/{OLD}/oembed.xml"):
        assert client.get(path).status_code == 410, path
    assert client.get(f"/articles/{OLD}/card.0123456789ab.png").status_code == 410
    assert client.get("/articles/never-was/embed/").status_code == 404


def test_the_static_export_answers_an_old_slugs_embed_and_oembed(
    app: Flask, client: FlaskClient, catalog: Catalog, seeds: Path, tmp_path: Path
) -> None:
    retitle(seeds, catalog)
    out = tmp_path / "site"
    report = build(app, out)
    for suffix in ("", "embed/", "oembed.json", "oembed.xml"):
        pair = (f"/articles/{OLD}/{suffix}", f"/articles/{NEW}/{suffix}")
        assert pair in report.redirects
        assert f"{pair[0]} {SITE_URL}{pair[1]} 301" in (out / "_redirects").read_text()
    embed = (out / "articles" / OLD / "embed" / "index.html").read_text("utf-8")
    assert f'content="0; url={SITE_URL}/articles/{NEW}/embed/"' in embed
    for name in ("oembed.json", "oembed.xml"):  # a host serves files: the current document
        current = client.get(f"/articles/{NEW}/{name}").data
        assert (out / "articles" / OLD / name).read_bytes() == current
        assert (out / "articles" / NEW / name).read_bytes() == current
    again = build(app, out)  # and an export that is current stays as it is
    assert (again.written, again.rendered) == (0, 0)


@pytest.mark.external
@pytest.mark.slow
@pytest.mark.e2e
def test_embedding_sites_show_a_card_after_a_retitle_and_a_removal(
    browser: Any,  # noqa: F811
    seeds: Path,
    tmp_path: Path,
) -> None:
    from selenium.webdriver.common.by import By

    write_article(seeds, "003_gone", "Science", "Soon withdrawn", "Text.")
    catalog = open_catalog(tmp_path / "served.sqlite3", create=True)
    try:
        run_ingest(catalog, seeds)
        retitle(seeds, catalog)
        (seeds / "003_gone.txt").unlink()
        run_ingest(catalog, seeds, now=T0.replace(hour=11))
    finally:
        catalog.close()
    process, site = start_server(seeds, tmp_path)
    host = tmp_path / "host"
    host.mkdir()
    (host / "index.html").write_text(
        "<!doctype html><html lang=en><meta charset=utf-8><title>Host</title>"
        "<link rel=icon href='data:,'><h1>Someone else's page</h1>"
        f'<iframe id="moved" src="{site}/articles/{OLD}/embed/" width="560" height="240"></iframe>'
        f'<iframe id="gone" src="{site}/articles/soon-withdrawn/embed/" width="560" '
        'height="240"></iframe>',
        encoding="utf-8",
    )
    handler = functools.partial(_QuietHandler, directory=str(host))
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=other.serve_forever, daemon=True)
    thread.start()
    try:
        browser.get(f"http://127.0.0.1:{other.server_address[1]}/")
        browser.switch_to.frame(browser.find_element(By.ID, "moved"))
        assert browser.find_element(By.CSS_SELECTOR, "h1 a").text == "The comet is back"
        browser.switch_to.default_content()
        browser.switch_to.frame(browser.find_element(By.ID, "gone"))
        assert "withdrawn" in browser.find_element(By.TAG_NAME, "h1").text
        browser.switch_to.default_content()
        problems = console_problems(browser)
        assert all("410" in problem for problem in problems), problems  # the status, logged
    finally:
        other.shutdown()
        other.server_close()
        assert stop_server(process) == 0
