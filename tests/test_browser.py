"""A real browser: headless Chromium (Debian's) driven by Selenium with the system driver.

Screenshots land in test-artifacts/ (ignored by git) for a person to look at.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import need, start_server, stop_server

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


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
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def console_problems(driver: Any) -> list[str]:
    """Return console messages at warning level or above (CSP violations are errors)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


@pytest.fixture
def site(seeds: Path, tmp_path: Path) -> Iterator[str]:
    process, base = start_server(seeds, tmp_path)
    yield base
    assert stop_server(process) == 0


def test_reader_follows_an_article_link(browser: Any, site: str) -> None:
    from selenium.webdriver.common.by import By

    ARTIFACTS.mkdir(exist_ok=True)
    browser.get(site + "/")
    assert browser.title == "feedsvc"
    link = browser.find_element(By.CSS_SELECTOR, "main article h2 a")
    title = link.text
    link.click()
    assert browser.current_url.startswith(site + "/articles/")
    assert browser.find_element(By.TAG_NAME, "h1").text == title
    assert browser.title == f"{title} · feedsvc"
    # The stylesheet applied (CSP let it through): the body font is the serif stack.
    assert "serif" in browser.execute_script("return getComputedStyle(document.body).fontFamily")
    assert console_problems(browser) == []
    browser.save_screenshot(str(ARTIFACTS / "article-desktop.png"))
    browser.set_window_size(360, 800)
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 360, "the page scrolls sideways at 360 px"
    browser.save_screenshot(str(ARTIFACTS / "article-360.png"))
    assert console_problems(browser) == []


def test_embed_card_renders_in_a_frame_on_another_origin(
    browser: Any, site: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    ARTIFACTS.mkdir(exist_ok=True)
    browser.get(site + "/")
    article_url = browser.find_element(By.CSS_SELECTOR, "main article h2 a").get_attribute("href")
    title = browser.find_element(By.CSS_SELECTOR, "main article h2 a").text
    host = tmp_path / "host"
    host.mkdir()
    (host / "index.html").write_text(
        "<!doctype html><html lang=en><meta charset=utf-8><title>Host</title>"
        "<link rel=icon href='data:,'>"
        f'<h1>Someone else\'s page</h1><iframe id="card" src="{article_url}embed/" width="560" '
        'height="240" style="border:0"></iframe>'
        f'<iframe id="page" src="{article_url}" width="300" height="100"></iframe>',
        encoding="utf-8",
    )
    handler = functools.partial(_QuietHandler, directory=str(host))
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=other.serve_forever, daemon=True)
    thread.start()
    try:
        browser.set_window_size(900, 700)
        browser.get(f"http://127.0.0.1:{other.server_address[1]}/")
        browser.switch_to.frame(browser.find_element(By.ID, "card"))
        heading = browser.find_element(By.CSS_SELECTOR, "h1 a")
        assert heading.text == title
        assert heading.get_attribute("target") == "_blank"
        assert browser.find_element(By.TAG_NAME, "article").size["height"] > 100
        browser.switch_to.default_content()
        browser.find_element(By.ID, "card").screenshot(str(ARTIFACTS / "embed.png"))
        # The full article page refuses to be framed elsewhere (frame-ancestors 'none').
        problems = console_problems(browser)
        assert any("frame-ancestors" in p for p in problems), problems
        assert all("frame-ancestors" in p for p in problems), problems
    finally:
        other.shutdown()
        other.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass
