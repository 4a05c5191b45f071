"""Preview cards: a 1200x630 PNG per article version for link previews (Open Graph, Twitter).

Drawn with Pillow in the bundled DejaVu Sans (openly licensed, see fonts/LICENSE-DejaVu.txt).
Characters the font lacks are transliterated (東京 -> "Dong Jing") rather than drawn as empty
boxes. Cards are made once per version and kept on disk; the version is part of the URL, so
a card can be cached forever.
"""

from __future__ import annotations

import errno
import hashlib
import io
import logging
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import PIL
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont
from text_unidecode import unidecode

from feedsvc.catalog import Record
from feedsvc.support.atomic import write_file
from feedsvc.support.dates import human_date

WIDTH, HEIGHT = 1200, 630
# Bump STYLE when the drawing changes: every card gets a new version. Pillow's version is part
# of it too: another Pillow may encode other bytes (and enclosures state the card's length).
STYLE = "3-pillow-" + PIL.__version__
FONTS = Path(__file__).resolve().parent / "fonts"
REGULAR, BOLD = FONTS / "DejaVuSans.ttf", FONTS / "DejaVuSans-Bold.ttf"
MARGIN = 72

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Card:
    """What a card shows."""

    title: str
    section: str
    date: str
    site: str

    @property
    def version(self) -> str:
        """Return a short digest of everything drawn: it changes exactly when the picture does."""
        text = "\x1f".join((STYLE, self.title, self.section, self.date, self.site))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


@lru_cache(maxsize=4)
def _coverage(path: Path) -> frozenset[int]:
    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())


def drawable(text: str, font_path: Path = BOLD) -> str:
    """Return `text` with every character the font lacks transliterated (or dropped)."""
    covered = _coverage(font_path)
    out = []
    for char in text:
        if ord(char) in covered or char.isspace():
            out.append(char)
        else:
            out.append("".join(c for c in unidecode(char) if ord(c) in covered))
    return " ".join("".join(out).split())


@lru_cache(maxsize=32)
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _fit_title(draw: ImageDraw.ImageDraw, title: str) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    width = WIDTH - 2 * MARGIN
    for size in (76, 68, 60, 54, 48, 42):
        font = _font(BOLD, size)
        lines = _wrap(draw, title, font, width)
        if len(lines) <= 4 and all(draw.textlength(line, font=font) <= width for line in lines):
            return font, lines
    font = _font(BOLD, 42)
    lines = _wrap(draw, title, font, width)[:4]
    while draw.textlength(lines[-1] + "…", font=font) > width and " " in lines[-1]:
        lines[-1] = lines[-1].rsplit(" ", 1)[0]
    lines[-1] += "…"
    return font, lines


def _palette() -> list[int]:
    """Return a palette: indices 0-254 run from the background to white, 255 is the accent."""
    background, ink = (0x10, 0x24, 0x3E), (0xFF, 0xFF, 0xFF)
    palette: list[int] = []
    for level in range(255):
        palette += [round(b + (i - b) * level / 254) for b, i in zip(background, ink, strict=True)]
    return [*palette, 0xFF, 0xB7, 0x03]


_PALETTE = _palette()
WHITE, LIGHT, MUTED, ACCENT = 254, 205, 170, 255


def render_card(card: Card) -> bytes:
    """Return the card as PNG bytes (deterministic for the same card and Pillow).

    Text is drawn antialiased in one channel and stored as a palette image: a third of the
    bytes of RGB to compress, so a card costs milliseconds, not tens of them.
    """
    image = Image.new("L", (WIDTH, HEIGHT), 0)
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN, 60), drawable(card.section).upper(), font=_font(BOLD, 30), fill=LIGHT)
    font, lines = _fit_title(draw, drawable(card.title) or "Untitled")
    line_height = int(font.size * 1.18)
    top = (HEIGHT - line_height * len(lines)) // 2
    for n, line in enumerate(lines):
        draw.text((MARGIN, top + n * line_height), line, font=font, fill=WHITE)
    footer = _font(REGULAR, 30)
    draw.text((MARGIN, HEIGHT - 96), drawable(card.site, REGULAR), font=footer, fill=WHITE)
    date = drawable(card.date, REGULAR)
    width = draw.textlength(date, font=footer)
    draw.text((WIDTH - MARGIN - width, HEIGHT - 96), date, font=footer, fill=MUTED)
    draw.rectangle((0, 0, 15, HEIGHT), fill=ACCENT)
    image.putpalette(_PALETTE)  # the levels become palette indices in place (no copy)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=3)
    return out.getvalue()


# What each card folder last failed with to keep a card (absent: it keeps them). A store is made per
# request, so this lives here: a full disk is logged once when it fills and once when it has
# room again, not once per card.
_FAILING: dict[Path, str] = {}
_FAILING_LOCK = threading.Lock()


def card_for(record: Record, site_title: str) -> Card:
    """Return what an article's preview card shows."""
    return Card(
        title=record.title,
        section=record.section,
        date=human_date(record.published),
        site=site_title,
    )


def card_alt(record: Record) -> str:
    """Return the text alternative of an article's preview card (what it shows)."""
    return f"{record.title} — {record.section}, {human_date(record.published)}"


class CardStore:
    """Cards on disk, by version: made once, shared by every worker, written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def length(self, card: Card) -> int:
        """Return the card's size in bytes (what RSS enclosures state): the kept file's,
        else the card drawn (and kept) now."""
        try:
            return (self.folder / f"{card.version}.png").stat().st_size
        except OSError:
            return len(self.get(card))

    def get(self, card: Card) -> bytes:
        """Return the card's PNG, drawing and keeping it on first use."""
        path = self.folder / f"{card.version}.png"
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
        body = render_card(card)
        try:
            self._keep(path, body)
        except OSError as exc:
            # Not keeping a card only costs drawing it again: serve it anyway.
            full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
            until = "there is room" if full else "the folder is writable"
            self._note(f"{exc.strerror or exc}; cards are drawn on every request until {until}")
        else:
            self._note(None)
        return body

    def _keep(self, path: Path, body: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_file(path, body)

    def _note(self, reason: str | None) -> None:
        """Log when keeping cards in the folder starts or stops failing (or fails anew)."""
        with _FAILING_LOCK:
            before = _FAILING.get(self.folder)
            if reason == before:
                return
            if reason is None:
                del _FAILING[self.folder]
            else:
                _FAILING[self.folder] = reason
        if reason is None:
            log.info("preview cards are kept in %s again", self.folder)
        else:
            log.warning(
                "cannot keep preview cards in %s: %s (or set FEEDSVC_CARD_DIR to another folder)",
                self.folder,
                reason,
            )
