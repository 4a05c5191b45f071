"""A real browser picks a right-sized copy of an article's image: headless Chromium (Debian's)
driven by Selenium, against `feedsvc serve`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.articles.test_image_derivatives import photo
from tests.conftest import start_server, stop_server, write_article
from tests.web.test_browser import browser, console_problems

__all__ = ["browser"]  # the fixture, shared
pytestmark = [pytest.mark.e2e, pytest.mark.external, pytest.mark.slow]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    write_article(seeds, "040_wide", "World", "A wide picture", "Body.")
    photo((2400, 1600)).save(seeds / "040_wide.jpg", "JPEG", quality=92)
    process, base = start_server(seeds, tmp_path)
    yield base
    assert stop_server(process) == 0


def _shown(browser: Any, base: str, width: int) -> tuple[str, int, float]:
    """Open the article in a window `width` CSS pixels wide; return the URL its image shows,
    that copy's width in pixels, and the width it needs on screen (in device pixels)."""
    from selenium.webdriver.common.by import By

    browser.set_window_size(width, 900)
    browser.get(base + "/")
    browser.get(browser.find_element(By.CSS_SELECTOR, "main article h2 a").get_attribute("href"))
    src, shown, dpr, done = browser.execute_script(
        "const img = document.querySelector('figure.lead img');"
        "return [img.currentSrc, img.getBoundingClientRect().width, window.devicePixelRatio,"
        " img.complete];"
    )
    assert done
    match = re.search(r"/images/[0-9a-f]{16}-([0-9]+)w-[0-9a-f]{8}\.webp$", src)
    assert match is not None, src  # a copy, in WebP: Chromium takes the <source> it supports
    assert src.startswith(base)
    return src, int(match.group(1)), shown * dpr


def test_a_narrow_window_loads_a_small_copy_in_webp(browser: Any, site: str) -> None:
    _src, narrow, needed = _shown(browser, site, 360)
    # The narrowest copy that covers the image on screen, not the 2400 px original.
    assert needed <= narrow <= 640
    assert console_problems(browser) == []
    _src, wide, needed = _shown(browser, site, 1280)
    assert needed <= wide <= 1280
    assert narrow < wide
