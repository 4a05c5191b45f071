"""Reading the deployed record back before an ingest, so that a machine without the catalog
keeps the ids and dates readers were shown: from a deploy target, from an export folder, or
from the live site (a plain GET). Each record is checked whole (catalog/deployed.py) and
against this publication's identity before anything is adopted from it.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from feedsvc import urlmap
from feedsvc.catalog import open_catalog
from feedsvc.catalog.deployed import DeployedRecord, check_publication, decode
from feedsvc.catalog.safekeeping import publication_of
from feedsvc.config.settings import Settings
from feedsvc.deploy.plan import Target
from feedsvc.errors import CatalogError, RecordError
from feedsvc.export.names import file_name

RECORD_NAME = file_name(urlmap.RECORD)  # its file in an export, its key at a target
MAX_BYTES = 64 * 1024 * 1024  # the record of ~280,000 articles (about 230 bytes each)
TIMEOUT = 30.0  # seconds a server may keep us waiting for one answer or one block
DEADLINE = 300.0  # seconds a whole download may take
_BLOCK = 1 << 20
_SCHEMES = ("http", "https")


@dataclass(frozen=True, slots=True)
class Found:
    """A deployed record, checked, and where it was read."""

    record: DeployedRecord
    where: str


def known_identity(settings: Settings) -> str | None:
    """Return the identity this publication's ids are minted from, as far as it is known before
    ingest (None: none yet, a fresh machine); see catalog.safekeeping.publication_of."""
    stored = None
    try:
        catalog = open_catalog(settings.database, readonly=True)
    except CatalogError:
        catalog = None  # none yet, or one the ingest will migrate or refuse with its own words
    if catalog is not None:
        try:
            stored = catalog.meta("identity")
        except CatalogError:
            stored = None
        finally:
            catalog.close()
    return publication_of(settings, stored)


def checked(data: bytes | None, settings: Settings, where: str) -> Found | None:
    """Return the record in `data` (None: there is none) once it is whole and this
    publication's; raise RecordError otherwise."""
    if data is None:
        return None
    record = decode(data, where)
    check_publication(record, known_identity(settings), where)
    return Found(record, where)


def from_target(target: Target, settings: Settings) -> Found | None:
    """Return the record a deploy target holds (None: nothing was deployed there yet)."""
    where = f"{target.name.rstrip('/')}/{RECORD_NAME}"
    return checked(target.read(RECORD_NAME, MAX_BYTES), settings, where)


def from_export(out_dir: Path, settings: Settings) -> Found | None:
    """Return the record of the export in `out_dir` (None: no export there yet)."""
    path = out_dir / RECORD_NAME
    return checked(_read_file(path), settings, str(path))


def from_source(source: str, settings: Settings) -> Found | None:
    """Return the record at `source`: an http(s) URL (a 404 is no record yet), a file, or a
    folder holding an export."""
    if "://" in source:
        return checked(fetch(source, limit=MAX_BYTES), settings, source)
    path = Path(source)
    if path.is_dir():
        path /= RECORD_NAME
    return checked(_read_file(path), settings, str(path))


def _read_file(path: Path) -> bytes | None:
    try:
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise RecordError(str(path), f"cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise RecordError(str(path), f"is larger than {_size(MAX_BYTES)}")
    return data


def _size(limit: int) -> str:
    return f"{limit // 1_048_576} MiB" if limit >= 1_048_576 else f"{limit} bytes"


class _WebOnly(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) URLs only (urllib would follow one to ftp:)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urlsplit(newurl).scheme.lower() not in _SCHEMES:
            fp.close()
            raise RecordError(req.full_url, f"redirects to {newurl[:200]}, not an http(s) URL")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(url: str, *, limit: int = MAX_BYTES, timeout: float = TIMEOUT) -> bytes | None:
    """Return the body of a plain GET of `url` (None on 404 or 410: no record yet); raise
    RecordError on anything else that is not a 200 of at most `limit` bytes."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in _SCHEMES or not parts.hostname:
        raise RecordError(url, "is not an http:// or https:// URL (nor a path to a file)")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        headers={
            "Accept": "application/json",
            # A CDN's older copy lacks what the last deploy added, which would get new ids.
            "Cache-Control": "no-cache",
            "User-Agent": "feedsvc",
        },
    )
    opener = urllib.request.build_opener(_WebOnly)
    deadline = time.monotonic() + DEADLINE
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > limit:
                raise RecordError(url, f"is larger than {_size(limit)}")
            blocks: list[bytes] = []
            size = 0
            while block := response.read(_BLOCK):
                blocks.append(block)
                size += len(block)
                if size > limit:
                    raise RecordError(url, f"is larger than {_size(limit)}")
                if time.monotonic() > deadline:
                    raise RecordError(url, f"took more than {DEADLINE:.0f} s to download")
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code in (404, 410):
            return None
        # urllib refuses a redirect to file: itself, as a 3xx whose reason says so.
        wanted = "" if 300 <= exc.code < 400 else " instead of 200 OK"
        raise RecordError(url, f"answered {exc.code} {exc.reason}{wanted}") from None
    except urllib.error.URLError as exc:
        raise RecordError(url, f"cannot be fetched: {exc.reason}") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        reason = "no answer in time" if isinstance(exc, TimeoutError) else str(exc)
        raise RecordError(url, f"cannot be fetched: {reason or type(exc).__name__}") from None
    return b"".join(blocks)
