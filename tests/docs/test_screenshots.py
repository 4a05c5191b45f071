"""The manual's screenshots are made by a script that runs: headless Chromium on the real server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import need
from tests.docs.screenshots import NAMES

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "images"


def test_the_committed_screenshots_are_the_scripts_and_each_is_shown() -> None:
    assert sorted(path.name for path in IMAGES.iterdir()) == sorted(NAMES)
    pages = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").rglob("*.md"))
    for name in NAMES:
        assert f"images/{name})" in pages, f"{name} is shown on no page"


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.external
def test_the_screenshot_script_makes_every_picture(tmp_path: Path) -> None:
    need("chromium")
    need("chromedriver")
    done = subprocess.run(
        [sys.executable, "-m", "tests.docs.screenshots", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env={k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for name in NAMES:
        with Image.open(tmp_path / name) as image:
            assert image.format == "PNG"
            assert image.width >= 360, name
            assert image.height >= 200, name
