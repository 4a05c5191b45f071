"""How each setting's text is read: one parser per kind of value, raising ConfigError with
what is wrong (feedsvc.config.settings's table names which setting uses which)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from feedsvc.errors import ConfigError


def site_url(name: str, value: Any) -> str:
    text = str(value).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(name, f"{text!r} is not an absolute http(s) URL")
    if parts.query or parts.fragment:
        raise ConfigError(name, f"{text!r} must not have a query or fragment")
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")


def optional_url(name: str, value: Any) -> str | None:
    text = str(value).strip()
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(name, f"{text!r} is not an absolute http(s) URL")
    return text


# RFC 4151: taggingEntity = authorityName "," date (YYYY, YYYY-MM or YYYY-MM-DD).
_TAGGING_ENTITY = re.compile(
    r"^(?P<authority>[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|[^@\s,]+@[a-z0-9.-]+),"
    r"(?P<date>\d{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?)?)$"
)


def tagging_entity(name: str, value: Any) -> str | None:
    text = str(value).strip().lower().removeprefix("tag:").rstrip(":")
    if not text:
        return None
    if not _TAGGING_ENTITY.match(text):
        raise ConfigError(
            name,
            f"{value!r} is not an RFC 4151 tagging entity such as 'news.example.org,2024-03-01' "
            "(a domain or e-mail address you owned on that date)",
        )
    return text


def optional_text(name: str, value: Any) -> str | None:
    return str(value).strip() or None


def text(name: str, value: Any) -> str:
    text = str(value).strip()
    if not text:
        raise ConfigError(name, "must not be empty")
    return text


def whole(low: int, high: int) -> Callable[[str, Any], int]:
    def parse(name: str, value: Any) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(name, f"{value!r} is not a whole number") from None
        if not low <= number <= high:
            raise ConfigError(name, f"{number} is not between {low} and {high}")
        return number

    return parse


def flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(name, f"{value!r} is not a yes/no value (use 1 or 0)")


def path(name: str, value: Any) -> Path:
    return Path(text(name, value))


def icon_file(name: str, value: Any) -> Path:
    from feedsvc.config.icon_file import check_source  # Pillow: only when the setting is given

    path = Path(text(name, value))
    try:
        check_source(path)
    except ValueError as exc:
        raise ConfigError(name, str(exc)) from None
    return path


_ACCOUNT = re.compile(r"^[a-z0-9_]{1,30}$")
_HANDLE = re.compile(r"^@?([A-Za-z0-9_.-]{1,64})@([A-Za-z0-9.-]+\.[A-Za-z]{2,}(?::\d{1,5})?)$")


def account_name(name: str, value: Any) -> str | None:
    text = str(value).strip().lower()
    if text and not _ACCOUNT.match(text):
        raise ConfigError(name, f"{value!r} is not an account name (a-z, 0-9, _; at most 30)")
    return text or None


def handle(name: str, value: Any) -> str | None:
    text = str(value).strip()
    match = _HANDLE.match(text)
    if text and match is None:
        raise ConfigError(name, f"{value!r} is not a fediverse handle such as @jane@example.social")
    return f"@{match.group(1)}@{match.group(2).lower()}" if match else None


def author_handles(name: str, value: Any) -> str | None:
    pairs = []
    for part in str(value).split(";"):
        if not part.strip():
            continue
        author, equals, given = part.partition("=")
        if not equals or not author.strip():
            raise ConfigError(name, f"{part.strip()!r} is not 'Author Name=@user@host'")
        found = handle(name, given)
        if found is None:
            raise ConfigError(name, f"{part.strip()!r} has no handle after '='")
        pairs.append(f"{author.strip()}={found}")
    return "; ".join(pairs) or None
