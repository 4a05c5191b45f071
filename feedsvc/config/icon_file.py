"""The icon file FEEDSVC_SITE_ICON names: read as a square image, or refused with the reason
(Pillow is imported only when the setting is given)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image


def read_source(path: Path) -> Image.Image:
    """Return the icon file as a square RGBA image (ValueError with the reason if it is not
    one Pillow can read)."""
    if path.suffix.lower() == ".svg":
        raise ValueError(f"{path}: SVG files cannot be drawn in PNG sizes here; give a PNG")
    try:
        with Image.open(path) as opened:
            opened.load()
            image = opened.convert("RGBA")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(f"{path}: not an image Pillow can read ({exc})") from None
    side = max(image.size)
    square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    square.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
    return square


def check_source(path: Path) -> None:
    """Raise ValueError unless `path` is an icon file feedsvc can use."""
    read_source(path)
