"""The bundled static assets and their fingerprinted names (framework-free: the server, the
export's listing and the pages' links all ask here)."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

from werkzeug.security import safe_join

from feedsvc import urlmap
from feedsvc.config.settings import Site

STATIC_DIR = Path(__file__).resolve().parent / "static"
FINGERPRINTED = re.compile(r"^(?P<stem>[\w.-]+)\.(?P<digest>[0-9a-f]{12})(?P<ext>\.\w+)$")


@lru_cache(maxsize=64)
def read_asset(name: str) -> tuple[bytes, str] | None:
    """Return (bytes, fingerprint) of a bundled asset, or None when there is none."""
    joined = safe_join(str(STATIC_DIR), name)
    if joined is None or not Path(joined).is_file():
        return None
    body = Path(joined).read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:12]


def fingerprinted(name: str) -> str:
    """Return the fingerprinted file name of a bundled asset ('site.css' -> 'site.<hash>.css')."""
    found = read_asset(name)
    if found is None:
        raise LookupError(f"no bundled asset {name!r}")
    stem, dot, ext = name.rpartition(".")
    return f"{stem}.{found[1]}{dot}{ext}"


def asset_url(site: Site, name: str) -> str:
    """Return the absolute, fingerprinted URL of a bundled asset."""
    return site.absolute(urlmap.static(fingerprinted(name)))


def exported_names() -> list[str]:
    """Return the asset names a static export holds: each plain name, then its fingerprinted
    one."""
    names = sorted(path.name for path in STATIC_DIR.iterdir() if path.is_file())
    return [variant for name in names for variant in (name, fingerprinted(name))]
