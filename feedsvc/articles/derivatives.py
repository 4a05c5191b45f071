"""Right-sized copies of an article's image: a few widths for pages (srcset), a thumbnail for
Media RSS and lists, and WebP beside them where it is smaller.

Drawn once from the checked original's bytes (images.py calls in here when it keeps an
image), upright (the EXIF orientation applied to the pixels) and without metadata: no EXIF,
XMP or text chunks, so no location; only the ICC colour profile of an RGB image stays, as
colours change without it. Never wider than the original. The fallback format is JPEG for an
opaque image and PNG for one that shows transparency; WebP is offered as a set, when the set
is smaller in total than the fallback set. The original stays the enclosure, untouched.

Every file is kept beside the original in its content-addressed store, named
"<original's digest>-<width>w-<recipe>.<ext>", and a small manifest "<digest>-<recipe>.json",
written last, says which exist. The recipe is a digest of every setting and of Pillow's and
its codecs' versions: the same original gives the same bytes under the same name (exports are
reproducible), and other encoders give other names (a URL served immutable never changes).
Framework-free, no catalog.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import PIL
from PIL import Image, ImageOps, features

from feedsvc.support.atomic import write_file

WIDTHS = (320, 640, 960, 1280, 1920)
THUMBNAIL = 640  # the thumbnail fits in a square of this side
JPEG: dict[str, object] = {
    "quality": 82,
    "optimize": True,
    "progressive": True,
    "subsampling": "4:2:0",
}
PNG: dict[str, object] = {"compress_level": 6}
WEBP: dict[str, object] = {"quality": 80, "method": 2, "exact": False}  # 4: 2x slower, 3% smaller
# A format: Pillow's name, the file extension, the media type, the encoder's settings.
_Kind = tuple[str, str, str, dict[str, object]]
_FALLBACK: dict[bool, _Kind] = {
    False: ("JPEG", "jpg", "image/jpeg", JPEG),
    True: ("PNG", "png", "image/png", PNG),
}
_MODERN: _Kind = ("WEBP", "webp", "image/webp", WEBP)
# Modes whose ICC profile still describes the pixels once they are converted to RGB(A).
_RGB_MODES = frozenset({"RGB", "RGBA", "RGBX", "P", "PA"})
RECIPE = hashlib.sha256(
    repr(
        (
            1,
            PIL.__version__,
            features.version("jpg"),
            features.version("webp"),
            WIDTHS,
            THUMBNAIL,
            sorted(JPEG.items()),
            sorted(PNG.items()),
            sorted(WEBP.items()),
        )
    ).encode()
).hexdigest()[:8]
_ORIENTATION = 0x0112  # EXIF
_SWAPPED = frozenset({5, 6, 7, 8})  # orientations shown turned a quarter
DERIVED = re.compile(r"^([0-9a-f]{16})-([1-9][0-9]{0,4})w-([0-9a-f]{8})\.(jpg|png|webp)$")


@dataclass(frozen=True, slots=True)
class Derivative:
    """One drawn copy of an image."""

    name: str  # fingerprinted file name in the image store (and under /images/)
    media_type: str
    width: int
    height: int
    length: int


@dataclass(frozen=True, slots=True)
class Derivatives:
    """Every copy drawn of one original, narrowest first."""

    fallback: tuple[Derivative, ...]  # JPEG (opaque) or PNG (transparent), every width
    modern: tuple[Derivative, ...]  # WebP at the same widths; () when not smaller
    thumbnail: Derivative  # one of `fallback`: every reader can show it

    @property
    def names(self) -> tuple[str, ...]:
        """Return the names of every kept file, sorted."""
        return tuple(sorted(d.name for d in (*self.fallback, *self.modern)))


def original_stem(name: str) -> str | None:
    """Return the original's digest a derivative's name starts with (None: not one)."""
    match = DERIVED.match(name)
    return match.group(1) if match else None


def widths(width: int, height: int) -> tuple[tuple[int, ...], int]:
    """Return the widths drawn of an image of this displayed size, and the thumbnail's."""
    thumbnail = max(1, min(width, THUMBNAIL, round(width * THUMBNAIL / height)))
    return tuple(sorted({min(w, width) for w in WIDTHS} | {thumbnail})), thumbnail


def _translucent(image: Image.Image) -> bool:
    """Return whether any pixel of the image is not fully opaque."""
    if not image.has_transparency_data:
        return False
    low, _high = image.convert("RGBA").getchannel("A").getextrema()
    return bool(low < 255)  # type: ignore[operator]


def _reduce(image: Image.Image) -> None:
    """Let a JPEG decode at 1/2, 1/4 or 1/8 of its size when the widest copy needs no more
    (a 24-megapixel photograph decodes and resizes in a quarter of the time)."""
    if image.format != "JPEG":
        return
    width, height = image.size
    shown = height if image.getexif().get(_ORIENTATION) in _SWAPPED else width
    scale = max(WIDTHS) / shown
    if scale < 0.5:
        image.draft(image.mode, (math.ceil(width * scale), math.ceil(height * scale)))


def _encode(image: Image.Image, kind: _Kind, icc: bytes) -> bytes:
    fmt, _ext, _type, options = kind
    out = io.BytesIO()
    # Only what is passed is written: Pillow would copy PNG's profile from `info` otherwise.
    image.info = {}
    image.save(out, fmt, **options, **({"icc_profile": icc} if icc else {}))
    return out.getvalue()


def draw(data: bytes, original: str) -> tuple[Derivatives, dict[str, bytes]] | None:
    """Return the derivatives of an original's bytes (already checked by images.inspect: a
    whole JPEG, PNG or WebP image within the pixel limit) and their bytes by name; None when
    Pillow cannot draw them (pages then show the original)."""
    try:
        return _draw(data, original.split(".", 1)[0])
    except (OSError, ValueError, TypeError, EOFError, SyntaxError):
        return None


def _draw(data: bytes, stem: str) -> tuple[Derivatives, dict[str, bytes]]:
    with Image.open(io.BytesIO(data)) as opened:
        icc = opened.info.get("icc_profile") if opened.mode in _RGB_MODES else None
        _reduce(opened)
        upright = ImageOps.exif_transpose(opened)
    if upright.mode == "P":  # a palette's transparency, in the palette: converts cleanly
        upright.apply_transparency()
    translucent = _translucent(upright)
    image = upright.convert("RGBA" if translucent else "RGB")
    width, height = image.size
    drawn, thumbnail_width = widths(width, height)
    files: dict[str, bytes] = {}
    sets: dict[str, list[Derivative]] = {"fallback": [], "modern": []}
    for w in drawn:
        h = max(1, round(height * w / width))
        small = image if w == width else image.resize((w, h), Image.Resampling.LANCZOS)
        for key, kind in (("fallback", _FALLBACK[translucent]), ("modern", _MODERN)):
            body = _encode(small.copy(), kind, icc or b"")
            name = f"{stem}-{w}w-{RECIPE}.{kind[1]}"
            files[name] = body
            sets[key].append(Derivative(name, kind[2], w, h, len(body)))
    fallback, modern = tuple(sets["fallback"]), tuple(sets["modern"])
    if sum(d.length for d in modern) >= sum(d.length for d in fallback):
        for item in modern:
            del files[item.name]
        modern = ()
    thumbnail = next(d for d in fallback if d.width == thumbnail_width)
    return Derivatives(fallback, modern, thumbnail), files


def _manifest(store: Path, original: str) -> Path:
    return store / f"{original.split('.', 1)[0]}-{RECIPE}.json"


def kept(store: Path, original: str) -> Derivatives | None:
    """Return the derivatives kept of an original (by its fingerprinted name), or None."""
    try:
        raw = json.loads(_manifest(store, original).read_text(encoding="utf-8"))
        fallback = tuple(Derivative(**item) for item in raw["fallback"])
        modern = tuple(Derivative(**item) for item in raw["modern"])
        thumbnail = next(d for d in fallback if d.name == raw["thumbnail"])
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        return None
    return Derivatives(fallback, modern, thumbnail)


def make(store: Path, original: str, data: bytes) -> Derivatives | None:
    """Draw an original's derivatives and keep them, unless they are kept already (None:
    they cannot be drawn); raise OSError when they cannot be written."""
    found = kept(store, original)
    if found is not None:
        return found
    drawn = draw(data, original)
    if drawn is None:
        return None
    found, files = drawn
    store.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        if not (store / name).exists():
            write_file(store / name, body)
    manifest = {
        "fallback": [_fields(d) for d in found.fallback],
        "modern": [_fields(d) for d in found.modern],
        "thumbnail": found.thumbnail.name,
    }
    # Last: a manifest names only files that are there.
    write_file(_manifest(store, original), json.dumps(manifest, sort_keys=True).encode())
    return found


def _fields(item: Derivative) -> dict[str, object]:
    return {
        "name": item.name,
        "media_type": item.media_type,
        "width": item.width,
        "height": item.height,
        "length": item.length,
    }


def derivatives(store: Path, original: str, load: Callable[[], bytes | None]) -> Derivatives | None:
    """Return an original's derivatives: as kept, else drawn now from `load()` (a store that
    lost them, or an image kept before derivatives existed) and kept when the store allows;
    None when the original's bytes are gone too."""
    found = kept(store, original)
    if found is not None:
        return found
    data = load()
    if data is None:
        return None
    try:
        return make(store, original, data)
    except OSError:  # a full or read-only store: serve them anyway
        drawn = draw(data, original)
        return None if drawn is None else drawn[0]


def derivative_bytes(
    store: Path, name: str, original: str, load: Callable[[], bytes | None]
) -> bytes | None:
    """Return the bytes of the derivative `name` of `original`: kept, else drawn again when
    it is one the current recipe makes; None otherwise."""
    if not DERIVED.match(name):
        return None
    try:
        return (store / name).read_bytes()
    except OSError:
        pass
    found = derivatives(store, original, load)
    if found is None or name not in found.names:
        return None
    try:
        return (store / name).read_bytes()
    except OSError:
        data = load()
        drawn = None if data is None else draw(data, original)
        return None if drawn is None else drawn[1].get(name)
