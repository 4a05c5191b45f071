"""The report's pictures, looked at: headless Chromium renders the HTML page and the SVG chart."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree, html

from feedsvc.stats.chart import COLOURS, chart, page, svg_text
from feedsvc.stats.lines import LineParser
from feedsvc.stats.report import Report, build
from feedsvc.stats.tally import Tally
from tests.conftest import need
from tests.stats import logs

FEEDS = ("/feeds/atom.xml", "/feeds/rss.xml", "/sections/science/atom.xml")


def _report() -> Report:
    """Ten days of a growing readership on three feeds."""
    tally, parser = Tally(), LineParser()
    for n in range(10):
        day = f"2024-03-{n + 1:02d}"
        for f, path in enumerate(FEEDS):
            agent = logs.FEEDLY.format(n=(3 - f) * 40 + 5 * n, id=f"id{f}")
            tally.add_line(logs.combined("54.0.0.1", logs.moment(day), path, agent), parser)
            for reader in range(n + f):
                agent = (logs.NEWSBOAT, logs.NETNEWSWIRE, logs.THUNDERBIRD)[reader % 3]
                client = f"192.0.2.{reader}"
                tally.add_line(logs.combined(client, logs.moment(day), path, agent), parser)
    return build(tally)


def test_the_page_is_self_contained_and_valid() -> None:
    report = _report()
    text = page(report)
    assert text.startswith("<!DOCTYPE html>")
    tree = html.fromstring(text)
    assert tree.xpath("//script") == []
    assert [e for e in tree.iter() if e.get("src") or e.get("href")] == []  # nothing fetched
    assert tree.findtext(".//h1") == f"{report.total:,} subscriptions on 2024-03-10"
    rows = tree.xpath("//table//tr")
    assert len(rows) == 1 + len(FEEDS)
    svg = etree.fromstring(svg_text(chart(report)).encode())  # well-formed XML on its own
    polylines = svg.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(polylines) == 1 + len(FEEDS)  # the total and each feed
    assert all(len(line.get("points").split()) == 10 for line in polylines)


def test_an_empty_report_still_draws() -> None:
    report = build(Tally())
    assert "<svg" in page(report)
    etree.fromstring(svg_text(chart(report)).encode())


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    chromium = need("chromium")
    chromedriver = need("chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1100,1400",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _colours(png: bytes) -> dict[tuple[int, int, int], int]:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    counts = image.getcolors(maxcolors=image.width * image.height)
    assert counts is not None
    return {colour: count for count, colour in counts}


def _rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


@pytest.mark.e2e
@pytest.mark.external
def test_chromium_draws_the_chart_and_the_shares(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    report = _report()
    report_file = tmp_path / "report.html"
    report_file.write_text(page(report), encoding="utf-8")
    browser.get(report_file.as_uri())
    charts = browser.find_elements(By.CSS_SELECTOR, "svg")
    assert len(charts) == 2
    for element in charts:
        size = element.size
        assert size["width"] > 300
        assert size["height"] > 50
    png = charts[0].screenshot_as_png
    (tmp_path / "chart.png").write_bytes(png)
    colours = _colours(png)
    total = sum(colours.values())
    white = colours.get((255, 255, 255), 0)
    assert white < total * 0.97  # not blank
    for colour in COLOURS[: len(FEEDS)]:  # each feed's line is drawn in its colour
        assert colours.get(_rgb(colour), 0) > 50, colour
    shares = _colours(charts[1].screenshot_as_png)
    assert shares.get(_rgb(COLOURS[0]), 0) > 500  # the biggest bar
    # The SVG file alone renders as well.
    svg_file = tmp_path / "chart.svg"
    svg_file.write_text(svg_text(chart(report)), encoding="utf-8")
    browser.get(svg_file.as_uri())
    alone = _colours(browser.get_screenshot_as_png())
    assert alone.get(_rgb(COLOURS[0]), 0) > 50
