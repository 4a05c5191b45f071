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

from tests.conftest import need, start_server, stop_server

pytestmark = [pytest.mark.e2e, pytest.mark.external]
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"


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


@pytest.mark.external
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


@pytest.mark.external
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


READERS = [
    "Feedly",
    "Inoreader",
    "NewsBlur",
    "Feedbin",
    "The Old Reader",
    "Your feed app (feed: link)",
]
FEED_ENDINGS = ("/atom.xml", "/rss.xml", "/feed.json", ".opml", "/subscribe/", "/feeds/")


def _feed_links(driver: Any) -> list[tuple[str, str]]:
    """Return (text, href) of every visible link about feeds on the current page."""
    from selenium.webdriver.common.by import By

    found = []
    for link in driver.find_elements(By.TAG_NAME, "a"):
        href = link.get_attribute("href") or ""
        if link.is_displayed() and href.endswith(FEED_ENDINGS):
            found.append((link.text, href))
    return found


@pytest.mark.external
def test_every_feed_link_leads_to_a_readable_subscribe_page(browser: Any, site: str) -> None:
    from selenium.webdriver.common.by import By

    ARTIFACTS.mkdir(exist_ok=True)
    browser.get(site + "/")
    article = browser.find_element(By.CSS_SELECTOR, "main article h2 a").get_attribute("href")
    clicked = 0
    for start in (site + "/", article):
        browser.get(start)
        links = _feed_links(browser)
        assert links, start
        # No visible link leads to raw feed markup: each goes to a subscribe page.
        assert all(href.endswith("/subscribe/") for _text, href in links), links
        for index, (text, href) in enumerate(links):
            browser.get(start)
            browser.find_elements(By.XPATH, f"//a[@href='{href}']")[0].click()
            assert browser.current_url == href, text
            assert browser.execute_script("return document.contentType") == "text/html"
            assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Subscribe to")
            addresses = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "code.address")]
            assert [a.rsplit("/", 1)[1] for a in addresses] == ["atom.xml", "rss.xml", "feed.json"]
            readers = browser.find_elements(By.CSS_SELECTOR, ".readers a")
            assert [r.text for r in readers] == READERS
            assert all(r.is_displayed() for r in readers)
            assert browser.find_elements(By.CSS_SELECTOR, ".preview h3 a"), index
            assert console_problems(browser) == []
            clicked += 1
    assert clicked >= 3  # the masthead and footer of both pages, the article's section link
    # One click selects a whole address, ready to copy (CSS user-select, no script on the page).
    address = browser.find_element(By.CSS_SELECTOR, "code.address")
    address.click()
    assert browser.execute_script("return String(window.getSelection())") == address.text
    browser.get(site + "/subscribe/")
    browser.save_screenshot(str(ARTIFACTS / "subscribe.png"))
    # The preview whole (an element is captured only as far as the window shows it).
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, height + 100)
    browser.find_element(By.CSS_SELECTOR, ".preview").screenshot(
        str(ARTIFACTS / "subscribe-preview.png")
    )
    browser.set_window_size(360, 800)
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 360, "the subscribe page scrolls sideways at 360 px"


@pytest.mark.external
def test_a_raw_feed_url_shows_its_text_naming_the_subscribe_page(browser: Any, site: str) -> None:
    """What README says: Chromium shows Atom and RSS served with their registered media types
    as plain text (it applies no XSLT to them), so each feed's first lines are a comment that
    names the subscribe page; JSON Feed says the same in `user_comment`."""
    from selenium.webdriver.common.by import By

    ARTIFACTS.mkdir(exist_ok=True)
    subscribe = site + "/subscribe/"
    for name in ("atom.xml", "rss.xml", "feed.json"):
        url = f"{site}/feeds/{name}"
        browser.get(url)
        assert browser.current_url == url
        kind = browser.execute_script("return document.contentType")
        text = browser.find_element(By.TAG_NAME, "body").text
        if name == "feed.json":
            assert kind == "application/feed+json"
            assert subscribe in text
        else:
            assert kind == "text/plain", name  # the raw text, not a transformed page
            first, second = text.splitlines()[:2]
            assert first.startswith("<?xml")
            assert second.startswith("<!-- This is a web feed.")
            assert subscribe in second
        assert console_problems(browser) == []  # and no XSLT deprecation warning
        if name == "atom.xml":
            browser.save_screenshot(str(ARTIFACTS / "raw-feed.png"))
