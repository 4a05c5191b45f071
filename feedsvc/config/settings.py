"""Settings: defaults, then FEEDSVC_* environment variables, then explicit overrides."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from feedsvc.config.table import SETTINGS
from feedsvc.errors import ConfigError, MissingExtra

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
    locale: str = "en_US"

    def absolute(self, path: str) -> str:
        """Return the absolute URL of a site path such as urlmap.feed(None, 'atom.xml')."""
        return self.url + path

    @property
    def host(self) -> str:
        """Return the host name of the site URL."""
        return urlsplit(self.url).hostname or "localhost"

    @property
    def origin(self) -> str:
        """Return the scheme://host[:port] of the site URL."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting feedsvc reads, typed; build it with `load_settings`."""

    seeds_dir: Path = Path("seeds")
    database: Path = Path("instance/feedsvc.sqlite3")
    site: Site = field(default_factory=Site)
    feed_size: int = 20
    page_size: int = 20
    card_dir: Path | None = None  # default: "cards" beside the database
    feed_max_age: int = 300
    page_max_age: int = 60
    cache_mb: int = 16
    state_check_ms: int = 100
    trust_proxy: bool = False
    access_log: bool = True
    max_file_kb: int = 1024
    file_seconds: int = 30  # the time budget of one article file (read in a worker process)
    tombstone_days: int = 30
    watch: bool = True
    rescan_seconds: int = 30
    websub_hub: str | None = None
    settle_ms: int = 1000
    publication_id: str | None = None  # RFC 4151 tagging entity 'authority,date'
    git_dates: bool = True  # date articles by the git history of their folder, where it has one
    backups: int = 5
    backup_hours: int = 6
    health_max_lag: int = 60
    writer_stall_seconds: int = 120
    run_dir: Path | None = None  # default: a private folder per catalog in the temp folder
    # What `feedsvc deploy` sends: absolute from the start, as to_environ hands paths on.
    export_dir: Path = field(default_factory=lambda: Path("instance/site").resolve())
    deploy_target: str | None = None  # continuous publishing: where the writer deploys
    s3_endpoint: str | None = None  # an S3-compatible service's endpoint (R2, B2, MinIO)
    site_icon: Path | None = None  # a PNG the icons are made from (default: drawn from the title)
    # -- fediverse: the site and each section as ActivityPub actors --
    fediverse: bool = False
    fediverse_name: str | None = None  # the site actor's account name (default: from the title)
    fediverse_handle: str | None = None  # @user@host for fediverse:creator on every article
    fediverse_authors: str | None = None  # "Name=@user@host; ..." per front-matter author
    fediverse_allow_private: bool = False  # remote fetches may reach private addresses (tests)
    fediverse_timeout: int = 10  # seconds a remote fetch or delivery may take
    fediverse_concurrency: int = 4  # deliveries in flight at once
    fediverse_retry_ms: int = 60_000  # first retry delay; doubles each time (at most an hour)
    fediverse_give_up_seconds: int = 86_400  # a delivery (an inbox) failing this long is dropped

    @property
    def cards(self) -> Path:
        """Return the folder preview cards are kept in."""
        return self.card_dir or self.database.parent / "cards"

    @property
    def runtime(self) -> Path:
        """Return the folder of the running server's state (writer, supervisor).

        It is kept apart from the catalog's disk by default (a full or read-only catalog disk
        must not silence health), one per catalog file.
        """
        if self.run_dir is not None:
            return self.run_dir
        digest = hashlib.sha256(str(self.database.resolve()).encode()).hexdigest()[:16]
        base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
        return Path(base) / f"feedsvc-{os.getuid()}-{digest}"


# setting name (after FEEDSVC_) -> (Settings field, or "site." + Site field; parser)
_TABLE: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    setting.name: (setting.target, setting.parse) for setting in SETTINGS
}


def _text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def to_environ(settings: Settings) -> dict[str, str | None]:
    """Return the settings as FEEDSVC_* variables, the way `load_settings` reads them back.

    This is how the server's worker processes get the settings (granian starts them with the
    environment); None means the variable must be unset. Relative paths are made absolute.
    """
    environ: dict[str, str | None] = {}
    for key, (target, _parse) in _TABLE.items():
        holder: Any = settings.site if target.startswith("site.") else settings
        value = getattr(holder, target.removeprefix("site."))
        if isinstance(value, Path):
            value = value.resolve()
        environ[ENV_PREFIX + key] = None if value is None else _text_of(value)
    return environ


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Return the settings: defaults, then FEEDSVC_* variables, then `overrides`.

    Override names are the variable names without the FEEDSVC_ prefix.
    """
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {
        key.removeprefix(ENV_PREFIX): value
        for key, value in environ.items()
        if key.startswith(ENV_PREFIX) and key.removeprefix(ENV_PREFIX) in _TABLE
    }
    for key, value in (overrides or {}).items():
        if key.upper() not in _TABLE:
            raise ConfigError(key, f"unknown setting (known: {', '.join(sorted(_TABLE))})")
        raw[key.upper()] = value
    top: dict[str, Any] = {}
    site: dict[str, Any] = {}
    for key, value in raw.items():
        target, parse = _TABLE[key]
        parsed = parse(ENV_PREFIX + key, value)
        if target.startswith("site."):
            site[target.removeprefix("site.")] = parsed
        else:
            top[target] = parsed
    settings = replace(Settings(), site=Site(**site), **top)
    _check_extras(settings)
    return settings


def _check_extras(settings: Settings) -> None:
    """Refuse settings whose optional dependency is not installed, saying which extra to install."""
    if settings.fediverse and importlib.util.find_spec("cryptography") is None:
        raise MissingExtra("FEEDSVC_FEDIVERSE", "cryptography", "fediverse")
    target = settings.deploy_target or ""
    if target.startswith("s3://") and importlib.util.find_spec("boto3") is None:
        raise MissingExtra("FEEDSVC_DEPLOY=s3://", "boto3", "s3")
