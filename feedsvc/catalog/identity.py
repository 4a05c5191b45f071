"""The publication's identity: the one source of every entry and feed id it mints.

Readers re-show an item whose id changes, and several merge items by id across feeds, so ids
must be unique in the world and survive a rebuilt catalog. The identity is one of:

- `tag:<authority>,<date>` (RFC 4151): from FEEDSVC_PUBLICATION_ID, or minted from a public site
  host and the day of the first ingest;
- `urn:uuid:<namespace>`: minted at random for a site on a loopback, private or reserved host
  (a loopback host and a day are no tagging authority: every local try would share them).

It is minted once, stored in the catalog and in a small file beside it, so a catalog rebuilt
from the same folder with the same settings mints the same ids.
"""

from __future__ import annotations

import ipaddress
import os
import uuid
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from feedsvc.errors import CatalogError
from feedsvc.urlmap import feed_id_name

_RESERVED_SUFFIXES = (".localhost", ".local", ".test", ".example", ".invalid", ".internal", ".lan")


def public_host(host: str) -> bool:
    """Return whether `host` names something only its owner can have (a public DNS name/IP)."""
    host = host.lower().rstrip(".")
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        pass
    if "." not in host or host == "localhost" or host.endswith(_RESERVED_SUFFIXES):
        return False
    return host not in {"example.com", "example.org", "example.net"}


def mint(host: str, today: datetime) -> str:
    """Return a new identity for a publication on `host`, first ingested `today`."""
    if public_host(host):
        return f"tag:{quote(host.lower(), safe='.-')},{today.strftime('%Y-%m-%d')}"
    return f"urn:uuid:{uuid.uuid4()}"


def from_setting(entity: str) -> str:
    """Return the identity of a FEEDSVC_PUBLICATION_ID tagging entity."""
    return f"tag:{entity}"


def entry_id(identity: str, key: str) -> str:
    """Return the entry id of the article file `key`."""
    return _child(identity, quote(key, safe=""))


def feed_id(identity: str, section_slug: str | None = None, *, kind: str = "section") -> str:
    """Return the id of the site's feed, or of one section's (tag's, author's)."""
    return _child(identity, feed_id_name(section_slug, kind=kind))


def _child(identity: str, name: str) -> str:
    if identity.startswith("urn:uuid:"):
        return f"urn:uuid:{uuid.uuid5(uuid.UUID(identity.removeprefix('urn:uuid:')), name)}"
    return f"{identity}:{name}"


def read_file(path: Path) -> str | None:
    """Return the identity kept in `path`, or None when there is none."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CatalogError(str(path), f"cannot read the publication id: {exc.strerror}") from exc
    return text or None


def write_file(path: Path, identity: str) -> None:
    """Keep `identity` in `path` (atomically; a failure leaves no temporary file)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(identity + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise CatalogError(str(path), f"cannot keep the publication id: {exc.strerror}") from exc
