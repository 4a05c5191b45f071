"""The publication's icon in every size readers use: square PNGs, an SVG and a favicon.ico.

Drawn from the site title by default (its initials, white on the preview cards' dark blue, in
the bundled DejaVu Sans Bold; the SVG carries the glyphs as outlines, so it looks the same
without the font), or made from the PNG named by FEEDSVC_SITE_ICON. Deterministic bytes, made
once per process; every file is served under a name fingerprinted by its bytes.
Framework-free: the web layer, the pages, the feeds and the export ask here.
"""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fontTools.pens.boundsPen import BoundsPen
from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.pens.transformPen import TransformPen
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw

from feedsvc import urlmap
from feedsvc.config.icon_file import read_source
from feedsvc.config.settings import Settings
from feedsvc.documents.cards import BOLD, _font, drawable
from feedsvc.errors import ConfigError

SIZES = urlmap.ICON_SIZES  # 32 and 64: favicons; 180: apple-touch-icon; 512: app and feed logo
SMALL, LARGE = 64, 512  # Atom icon, RSS image, JSON Feed favicon / Atom logo, JSON Feed icon
TOUCH = 180
BACKGROUND = (0x10, 0x24, 0x3E)  # the preview cards' dark blue
SETTING = "FEEDSVC_SITE_ICON"
MEDIA_TYPES = {".png": "image/png", ".svg": "image/svg+xml", ".ico": "image/x-icon"}


def initials(title: str) -> str:
    """Return what a drawn icon shows: the first letter of the title, or of its first two words."""
    words = [w for w in (drawable(word) for word in title.split()) if any(c.isalnum() for c in w)]
    letters = [next(c for c in word if c.isalnum()) for word in words[:2]]
    return "".join(letters).upper() or "?"


def _text_size(text: str, size: int) -> int:
    return round(size * (0.62 if len(text) == 1 else 0.46))


def _drawn_png(text: str, size: int) -> Image.Image:
    image = Image.new("RGB", (size, size), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = _font(BOLD, _text_size(text, size))
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x, y = (size - (right - left)) / 2 - left, (size - (bottom - top)) / 2 - top
    draw.text((x, y), text, font=font, fill=(255, 255, 255))
    return image


def _drawn_svg(text: str) -> bytes:
    """Return the icon as SVG: the glyphs' outlines, centred on a 512 square."""
    with TTFont(BOLD, lazy=True) as font:
        glyphs, cmap, scale = font.getGlyphSet(), font.getBestCmap(), _text_size(text, LARGE)
        per_unit = scale / font["head"].unitsPerEm
        names = [cmap.get(ord(c), ".notdef") for c in text]
        bounds = BoundsPen(glyphs)
        advance = 0.0
        for name in names:
            glyphs[name].draw(TransformPen(bounds, (1, 0, 0, 1, advance, 0)))
            advance += glyphs[name].width
        x0, y0, x1, y1 = bounds.bounds or (0, 0, 0, 0)
        pen = SVGPathPen(glyphs, ntos=lambda n: f"{n:.1f}".rstrip("0").rstrip("."))
        # Font units have y upwards: flip, scale and centre the ink box in the square.
        dx = LARGE / 2 - (x0 + x1) / 2 * per_unit
        dy = LARGE / 2 + (y0 + y1) / 2 * per_unit
        advance = 0.0
        for name in names:
            offset = (per_unit, 0, 0, -per_unit, dx + advance * per_unit, dy)
            glyphs[name].draw(TransformPen(pen, offset))
            advance += glyphs[name].width
    fill = "#" + bytes(BACKGROUND).hex()
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {LARGE} {LARGE}">'
        f'<rect width="{LARGE}" height="{LARGE}" fill="{fill}"/>'
        f'<path fill="#fff" d="{pen.getCommands()}"/></svg>\n'
    ).encode()


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class IconSet:
    """Every icon file: {fingerprinted name: bytes}, and the bytes of the unfingerprinted ones."""

    files: dict[str, bytes]
    names: dict[str, str]  # plain name ("icon-64.png") -> fingerprinted name
    favicon: bytes  # /favicon.ico
    digest: str  # changes exactly when any icon does

    def url(self, site_url: str, plain: str) -> str:
        """Return the absolute, fingerprinted URL of one icon ("icon-64.png", "icon.svg")."""
        return site_url + urlmap.icon(self.names[plain])

    def png_name(self, size: int) -> str:
        """Return the fingerprinted name of the PNG of `size`."""
        return self.names[f"icon-{size}.png"]


def _fingerprinted(plain: str, body: bytes) -> str:
    stem, dot, ext = plain.rpartition(".")
    return f"{stem}.{hashlib.sha256(body).hexdigest()[:12]}{dot}{ext}"


@lru_cache(maxsize=8)
def icon_set(title: str, source: Path | None) -> IconSet:
    """Return the icons drawn from `title`, or made from the PNG `source`."""
    plain: dict[str, bytes] = {}
    images: dict[int, Image.Image] = {}
    if source is None:
        text = initials(title)
        images = {size: _drawn_png(text, size) for size in SIZES}
        plain["icon.svg"] = _drawn_svg(text)
    else:
        square = read_source(source)
        for size in SIZES:
            images[size] = square.resize((size, size), Image.Resampling.LANCZOS)
        data = base64.b64encode(_png(images[LARGE])).decode()
        plain["icon.svg"] = (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {LARGE} {LARGE}">'
            f'<image width="{LARGE}" height="{LARGE}" href="data:image/png;base64,{data}"/>'
            "</svg>\n"
        ).encode()
    for size in SIZES:
        plain[f"icon-{size}.png"] = _png(images[size])
    out = io.BytesIO()
    images[SMALL].save(out, "ICO", sizes=[(32, 32), (64, 64)], append_images=[images[32]])
    names = {name: _fingerprinted(name, body) for name, body in plain.items()}
    files = {names[name]: body for name, body in plain.items()}
    digest = hashlib.sha256(repr(sorted(names.values())).encode()).hexdigest()[:12]
    return IconSet(files, names, out.getvalue(), digest)


def icons_for(settings: Settings) -> IconSet:
    """Return the publication's icons (ConfigError when FEEDSVC_SITE_ICON cannot be used)."""
    try:
        return icon_set(settings.site.title, settings.site_icon)
    except ValueError as exc:
        raise ConfigError(SETTING, str(exc)) from None
