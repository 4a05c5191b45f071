"""An article's own image: the checks it must pass and the store it is served from.

An article's image is the file its front matter names (`image:`, relative to the articles
folder) or else the file beside it with the same name and a .jpg, .jpeg, .png or .webp
extension. Pillow decodes it once, when the article is read (in the reading process), and
refuses what it should not publish: a file that leads out of the folder, an unknown type, a
file whose bytes are another format than its name says, a file it cannot decode, and a huge
one (bytes or pixels: decompression bombs). A refused image is reported with its `image-*`
code (problems.py) and the article is published with its preview card instead.

Accepted bytes are kept, unchanged, in a content-addressed folder beside the catalog under
"<digest>.<ext>" (the ext from the bytes): the name is the URL's, so it is served immutable,
and an old name keeps working for readers that cached it. Its right-sized copies
(derivatives.py) are drawn when it is kept, into the same folder. Framework-free, no catalog.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import struct
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from feedsvc.articles.derivatives import make
from feedsvc.articles.text_format import ArticleImage
from feedsvc.errors import ArticleError
from feedsvc.support.atomic import write_file

# What an image file may be called, and the format its bytes must then be.
SUFFIXES = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}
# The extension and media type each published format is served with.
PUBLISHED = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}
MEDIA_TYPES = {f".{ext}": media_type for ext, media_type in PUBLISHED.values()}
# Formats Pillow may recognise, so that a GIF named .png is called disguised, not broken.
_RECOGNISED = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000
_SWAPPED = frozenset({5, 6, 7, 8})  # EXIF orientations shown rotated a quarter turn
_EXIF_ORIENTATION = 0x0112
NAME = re.compile(r"^[0-9a-f]{16}\.(?:jpg|png|webp)$")


def store_dir(database: Path) -> Path:
    """Return the folder the accepted images are kept in: "images" beside the catalog."""
    return database.parent / "images"


def _refuse(path: Path, code: str, reason: str) -> ArticleError:
    return ArticleError(str(path), code, reason)


def _read(path: Path) -> bytes:
    try:
        if not path.exists():
            raise _refuse(path, "image-missing", "does not exist")
        if not path.is_file():  # a folder, a FIFO, a device: never opened
            raise _refuse(path, "image-unreadable", "is not a regular file")
        with path.open("rb") as handle:
            data = handle.read(MAX_IMAGE_BYTES + 1)
    except FileNotFoundError:
        raise _refuse(path, "image-missing", "disappeared while it was being read") from None
    except OSError as exc:
        raise _refuse(path, "image-unreadable", exc.strerror or str(exc)) from None
    if len(data) > MAX_IMAGE_BYTES:
        limit = MAX_IMAGE_BYTES // (1024 * 1024)
        raise _refuse(path, "image-too-large", f"is over the limit of {limit} MiB")
    return data


def inspect(path: Path, data: bytes) -> tuple[str, int, int]:
    """Return the format and the displayed width and height of an image file's bytes; raise
    ArticleError unless they are a whole JPEG, PNG or WebP image, of the format its name
    says, of at most MAX_PIXELS."""
    suffix = path.suffix.lower()
    try:
        with warnings.catch_warnings():
            # Pillow warns (and later refuses) on its own bomb limit: one answer for both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=_RECOGNISED) as image:
                found = str(image.format)
                if found not in PUBLISHED:
                    raise _refuse(
                        path, "image-disguised", f"is a {found} image; only JPEG, PNG and WebP are"
                    )
                if found != SUFFIXES[suffix]:
                    raise _refuse(path, "image-disguised", f"is a {found} image named {suffix}")
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise _refuse(
                        path,
                        "image-too-large",
                        f"is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels), "
                        f"over the limit of {MAX_PIXELS // 1_000_000}",
                    )
                orientation = image.getexif().get(_EXIF_ORIENTATION)
                image.load()  # decodes every pixel: a truncated or damaged file fails here
    except ArticleError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(path, "image-too-large", "is too many pixels to decode safely") from None
    except UnidentifiedImageError:
        raise _refuse(path, "image-broken", "is not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise _refuse(path, "image-broken", f"cannot be decoded ({exc})") from None
    if orientation in _SWAPPED:
        width, height = height, width
    return found, width, height


def check_image(path: Path, seeds_dir: Path, *, alt: str, store: Path | None) -> ArticleImage:
    """Check one article's image file and keep its bytes in `store` (None: keep nothing, as
    `feedsvc check` does); raise ArticleError with an `image-*` code when it is refused."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        what = f"a {suffix} file" if suffix else "a file without an extension"
        raise _refuse(path, "image-type", f"is {what}; images are .jpg, .png or .webp")
    try:
        inside = path.resolve().is_relative_to(seeds_dir.resolve())
    except (OSError, RuntimeError):  # a loop of links
        inside = False
    if not inside:
        raise _refuse(path, "image-outside", "leads outside the articles folder")
    data = _read(path)
    found, width, height = inspect(path, data)
    ext, media_type = PUBLISHED[found]
    name = f"{hashlib.sha256(data).hexdigest()[:16]}.{ext}"
    if store is not None:
        try:
            keep(store, name, data)
            make(store, name, data)  # right-sized copies, drawn once (derivatives.py)
        except OSError as exc:
            raise _refuse(
                path, "image-unkept", f"cannot be kept in {store}: {exc.strerror or exc}"
            ) from None
    # Resolved on both sides: `image:` may be absolute, the folder relative or behind a link.
    source = path.resolve().relative_to(seeds_dir.resolve()).as_posix()
    return ArticleImage(name, media_type, width, height, len(data), alt, source)


def keep(store: Path, name: str, data: bytes) -> None:
    """Write `data` to store/name once, atomically (a name is its bytes: never rewritten)."""
    target = store / name
    if target.exists():
        return
    store.mkdir(parents=True, exist_ok=True)
    write_file(target, data)


def stored(store: Path, name: str) -> bytes | None:
    """Return the kept bytes of a fingerprinted image name, or None."""
    if not NAME.match(name):
        return None
    try:
        return (store / name).read_bytes()
    except OSError:
        return None


def matches(data: bytes, name: str) -> bool:
    """Return whether `data` are the bytes the fingerprinted `name` was made from."""
    return hashlib.sha256(data).hexdigest()[:16] == name.split(".", 1)[0]


def recover(store: Path, name: str, seeds_dir: Path, source: str) -> bytes | None:
    """Return an image's bytes from the articles folder when its store lost them (a catalog
    copied without `images/`) and the file there still has them, keeping them again; None
    otherwise. The file is read with the checks ingest makes (inside the folder, a regular
    file, within the size limit), so nothing else under that name is ever served."""
    path = seeds_dir / source
    try:
        if not path.resolve().is_relative_to(seeds_dir.resolve()):
            return None
        data = _read(path)
    except (ArticleError, OSError, RuntimeError):
        return None
    if not matches(data, name):
        return None
    with contextlib.suppress(OSError):  # serving it matters more than keeping it
        keep(store, name, data)
    return data
