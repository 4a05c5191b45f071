"""Settings: defaults, then FEEDSVC_* environment variables, then explicit overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from feedsvc.errors import ConfigError

ENV_PREFIX = "FEEDSVC_"
DEFAULT_SITE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True, slots=True)
class Site:
    """What the publication says about itself; every absolute URL starts with `url`."""

    url: str = DEFAULT_SITE_URL
    title: str = "feedsvc"
    description: str = "News articles published by feedsvc"
    author: str = "feedsvc newsroom"
    language: str = "en"

    def absolute(self, path: str) -> str:
        """Return the absolute URL of a site path such as '/feeds/atom.xml'."""
        return self.url + path

    @property
    def host(self) -> str:
        """Return the host name of the site URL."""
        return urlsplit(self.url).hostname or "localhost"


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting feedsvc reads, typed; build it with `load_settings`."""

    seeds_dir: Path = Path("seeds")
    database: Path = Path("instance/feedsvc.sqlite3")
    site: Site = field(default_factory=Site)
    feed_size: int = 20


# setting name (the part after FEEDSVC_) -> (where it goes, how to read it)
_SITE_KEYS = {
    "SITE_URL": "url",
    "SITE_TITLE": "title",
    "SITE_DESCRIPTION": "description",
    "SITE_AUTHOR": "author",
    "SITE_LANGUAGE": "language",
}
_KEYS = {"SEEDS_DIR", "DATABASE", "FEED_SIZE", *_SITE_KEYS}


def _site_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError("FEEDSVC_SITE_URL", f"{value!r} is not an absolute http(s) URL")
    if parts.query or parts.fragment:
        raise ConfigError("FEEDSVC_SITE_URL", f"{value!r} must not have a query or fragment")
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")


def _positive_int(name: str, value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"FEEDSVC_{name}", f"{value!r} is not a whole number") from None
    if not 1 <= number <= 10_000:
        raise ConfigError(f"FEEDSVC_{name}", f"{number} is not between 1 and 10000")
    return number


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Return the settings: defaults, then FEEDSVC_* variables, then `overrides`.

    Override names are the variable names without the FEEDSVC_ prefix.
    """
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {
        key[len(ENV_PREFIX) :]: value
        for key, value in environ.items()
        if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX) :] in _KEYS
    }
    for key, value in (overrides or {}).items():
        if key.upper() not in _KEYS:
            raise ConfigError(key, f"unknown setting (known: {', '.join(sorted(_KEYS))})")
        raw[key.upper()] = value

    site_values: dict[str, str] = {}
    for key, attr in _SITE_KEYS.items():
        if key in raw:
            text = str(raw[key]).strip()
            if not text:
                raise ConfigError(f"FEEDSVC_{key}", "must not be empty")
            site_values[attr] = text
    site_values["url"] = _site_url(site_values.get("url", DEFAULT_SITE_URL))

    defaults = Settings()
    return Settings(
        seeds_dir=Path(raw["SEEDS_DIR"]) if "SEEDS_DIR" in raw else defaults.seeds_dir,
        database=Path(raw["DATABASE"]) if "DATABASE" in raw else defaults.database,
        site=Site(**site_values),
        feed_size=_positive_int("FEED_SIZE", raw["FEED_SIZE"])
        if "FEED_SIZE" in raw
        else defaults.feed_size,
    )
