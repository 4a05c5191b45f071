"""Make the manual's screenshots with headless Chromium: python -m tests.docs.screenshots [OUT].

It serves the bundled seeds with the real `feedsvc serve` on a loopback port, opens the front
page, an article, its embed card, the subscribe page and a raw feed, and shows the site's Atom
feed in a feed reader (lemon24/reader's web app, the `docs` extra), then writes each view as a
PNG reduced to 64 colours into OUT (default docs/images/). Needs chromium and chromedriver.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
OUT = ROOT / "docs" / "images"
# Every file the manual shows; a test checks the script writes exactly these.
NAMES = (
    "front.png",
    "article.png",
    "article-360.png",
    "embed.png",
    "card.png",
    "subscribe.png",
    "subscribe-preview.png",
    "raw-feed.png",
    "reader.png",
)


@contextmanager
def chromium(profile: Path) -> Iterator[Any]:
    """Yield a headless Chromium driven by Selenium with the system's driver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    service = Service(executable_path=shutil.which("chromedriver") or "chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@contextmanager
def feed_reader(feed_url: str, workdir: Path) -> Iterator[str]:
    """Serve lemon24/reader's web app, subscribed to `feed_url`, on loopback; yield its URL."""
    from reader import make_reader
    from reader._app import create_app
    from werkzeug.serving import make_server

    database = str(workdir / "reader.sqlite")
    with make_reader(database) as reader:
        reader.add_feed(feed_url)
        reader.update_feeds()
    app = create_app({"": {"url": database}, "web": {}})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def viewport(driver: Any, width: int, height: int) -> None:
    """Size the page's viewport (the window's size also counts the browser's own frame)."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight];")
    driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])


def _reduced(path: Path) -> None:
    """Keep a screenshot small in git: 64 colours, as the browser tests keep theirs."""
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=64, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def take(site: str, out: Path, workdir: Path) -> list[Path]:
    """Write every screenshot of the site at `site` into `out`; return their paths."""
    from selenium.webdriver.common.by import By

    out.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []

    def save(driver: Any, name: str, element: str | None = None) -> None:
        path = out / name
        if element is None:
            driver.save_screenshot(str(path))
        else:
            driver.find_element(By.CSS_SELECTOR, element).screenshot(str(path))
        _reduced(path)
        shots.append(path)

    with chromium(workdir / "profile") as driver:
        driver.get(site + "/")
        save(driver, "front.png")
        article = driver.find_element(By.CSS_SELECTOR, "main article h2 a").get_attribute("href")
        driver.get(article)
        save(driver, "article.png")
        card = driver.find_element(By.CSS_SELECTOR, 'meta[property="og:image"]')
        with urllib.request.urlopen(card.get_attribute("content"), timeout=30) as response:
            (out / "card.png").write_bytes(response.read())
        _reduced(out / "card.png")
        shots.append(out / "card.png")
        viewport(driver, 560, 240)  # the embed card's natural size (its oEmbed says so)
        driver.get(article.rstrip("/") + "/embed/")
        save(driver, "embed.png")
        viewport(driver, 360, 900)
        driver.get(article)
        save(driver, "article-360.png")
        viewport(driver, 1280, 900)
        driver.get(site + "/subscribe/")
        save(driver, "subscribe.png")
        save(driver, "subscribe-preview.png", ".preview")
        driver.get(site + "/feeds/atom.xml")
        save(driver, "raw-feed.png")
        with feed_reader(site + "/feeds/atom.xml", workdir) as reader_site:
            driver.get(reader_site + "/?show=all")
            save(driver, "reader.png")
    return shots


def main(argv: list[str]) -> None:
    """Serve the bundled seeds and write the screenshots."""
    from tests.conftest import start_server, stop_server

    out = Path(argv[0]).resolve() if argv else OUT
    with tempfile.TemporaryDirectory(prefix="feedsvc-screenshots-") as temp:
        workdir = Path(temp)
        seeds = workdir / "seeds"
        shutil.copytree(SEEDS, seeds)
        process, site = start_server(seeds, workdir, workers=1)
        try:
            shots = take(site, out, workdir)
        finally:
            stop_server(process)
    for path in shots:
        sys.stdout.write(f"{path}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
