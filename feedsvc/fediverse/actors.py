"""Who the publication is on the fediverse: the site's actor and one per section, and the
account names (`acct:name@host`) WebFinger resolves to them."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from text_unidecode import unidecode

from feedsvc import urlmap
from feedsvc.config.settings import Settings
from feedsvc.errors import ConfigError

_NOT_NAME = re.compile(r"[^a-z0-9_]+")


def username(text: str) -> str:
    """Return an account name Mastodon accepts ([a-z0-9_]) made from a title or slug."""
    name = _NOT_NAME.sub("_", unidecode(text).lower()).strip("_")
    return name[:30] or "news"


def site_username(settings: Settings) -> str:
    """Return the site actor's account name (FEEDSVC_FEDIVERSE_NAME, or from the title)."""
    return settings.fediverse_name or username(settings.site.title)


def check_site_url(settings: Settings) -> None:
    """Refuse (ConfigError) to federate from a site URL other servers cannot use: it must be
    https (they fetch actors and check signatures over it, and Mastodon follows no http actor),
    except a loopback site with private addresses allowed (a test setup)."""
    parts = urlsplit(settings.site.url)
    if parts.scheme == "https":
        return
    host = (parts.hostname or "").lower()
    loopback = host == "localhost" or host.endswith(".localhost") or _is_loopback(host)
    if loopback and settings.fediverse_allow_private:
        return
    raise ConfigError(
        "FEEDSVC_SITE_URL",
        f"federation needs an https:// site URL, not {settings.site.url[:200]} (plain http only "
        "on a loopback address with FEEDSVC_FEDIVERSE_ALLOW_PRIVATE=1, for tests)",
    )


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def account_host(settings: Settings) -> str:
    """Return the host of every account: the site URL's host, with its port where it has one."""
    return urlsplit(settings.site.url).netloc.lower()


@dataclass(frozen=True, slots=True)
class Actor:
    """One of the publication's actors: the site's (section_slug None) or a section's."""

    section_slug: str | None
    username: str
    name: str

    @property
    def scope(self) -> str:
        """Return the key its followers are kept under: '' for the site, else the slug."""
        return self.section_slug or ""

    def id(self, settings: Settings) -> str:
        """Return the actor's id (the absolute URL of its document)."""
        return settings.site.absolute(urlmap.actor(self.section_slug))

    def key_id(self, settings: Settings) -> str:
        """Return the id of the actor's public key."""
        return self.id(settings) + "#main-key"

    def page(self, settings: Settings) -> str:
        """Return the HTML page the actor stands for."""
        return settings.site.absolute(urlmap.listing(self.section_slug))

    def account(self, settings: Settings) -> str:
        """Return its `acct:` URI."""
        return f"acct:{self.username}@{account_host(settings)}"


def site_actor(settings: Settings) -> Actor:
    """Return the site's actor."""
    return Actor(None, site_username(settings), settings.site.title)


def section_actor(settings: Settings, slug: str, name: str) -> Actor:
    """Return a section's actor: its account name is the section's slug."""
    return Actor(slug, username(slug), f"{settings.site.title}: {name}")


def actor_by_id(settings: Settings, url: str) -> tuple[str | None] | None:
    """Return (section slug or None,) when `url` is one of the publication's actor ids."""
    site_url = settings.site.url
    if not url.startswith(site_url):
        return None
    return urlmap.actor_section(url.removeprefix(site_url))
