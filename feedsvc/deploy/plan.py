"""What a deploy sends, in which order, and what it deletes.

The export's manifest lists every file with the headers the server sends for its URL; each
file becomes an object under its file name (`articles/x/index.html`, `feeds/atom.xml`), and
each renamed article's old page becomes a redirect to the new URL. The order is the order of
publication: whatever links to something is sent after it, so that at no moment does a
published page or feed link to an object that is not there yet. The deployed record, which
describes all of it, comes after everything it describes; deletions come last.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from feedsvc.deploy.state import Meta, SentObject
from feedsvc.documents.headers import CACHE_CONTROL
from feedsvc.errors import DeployError
from feedsvc.export.manifest import NAME, Entry
from feedsvc.urlmap.publication import stage_of


@dataclass(frozen=True, slots=True)
class Item:
    """One file of the export, as the object (or file) a target should hold."""

    key: str  # the export's file name: the key below the target's prefix
    path: str  # the URL path it answers ("" for the files beside the site)
    file: Path | None  # where its bytes are; None when `data` holds them
    md5: str
    size: int
    meta: Meta  # object-storage headers, as put_object parameters
    stage: int
    sibling: bool = False  # a precompressed .gz/.br copy of another file
    data: bytes | None = None

    @property
    def redirect(self) -> str | None:
        """Return the URL an old slug redirects to, or None."""
        return dict(self.meta).get("WebsiteRedirectLocation")

    def body(self, target: str) -> bytes:
        """Return the bytes to send, checked against the manifest's MD5."""
        if self.data is not None:
            return self.data
        assert self.file is not None
        try:
            body = self.file.read_bytes()
        except OSError as exc:
            raise DeployError(target, f"cannot read {self.file}: {exc.strerror}") from None
        if hashlib.md5(body, usedforsecurity=False).hexdigest() != self.md5:
            raise DeployError(
                target, f"{self.file} differs from the export's manifest: build the export again"
            )
        return body


def read_redirects(export_dir: Path) -> dict[str, str]:
    """Return {file name of an old slug: absolute URL it redirects to} from `_redirects`."""
    try:
        lines = (export_dir / "_redirects").read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return {}
    found = {}
    for line in lines:
        fields = line.split()
        if len(fields) == 3 and not line.startswith("#") and fields[0].startswith("/"):
            name = fields[0].lstrip("/") + ("index.html" if fields[0].endswith("/") else "")
            found[name] = fields[1]
    return found


def export_digest(export_dir: Path) -> str | None:
    """Return a digest of what a deploy sends from an export: its manifest (every file's MD5
    and headers) and its redirects; reading them whole costs far less than parsing them.
    None when there is no manifest."""
    digest = hashlib.sha256()
    for name in (NAME, "_redirects"):
        try:
            digest.update((export_dir / name).read_bytes())
        except FileNotFoundError:
            if name == NAME:
                return None
            digest.update(b"\0none")
        except OSError as exc:
            raise DeployError(str(export_dir / name), f"cannot be read: {exc.strerror}") from None
        digest.update(b"\0")
    return digest.hexdigest()


def object_meta(entry: Entry, redirect: str | None = None) -> Meta:
    """Return what object storage can keep of the headers the server sends for a file."""
    return _meta(entry.content_type, entry.headers, redirect)


@lru_cache(maxsize=4096)  # a few sets of headers for tens of thousands of files
def _meta(content_type: str, pairs: tuple[tuple[str, str], ...], redirect: str | None) -> Meta:
    headers = {name.lower(): value for name, value in pairs}
    meta = {"ContentType": content_type}
    # An old slug is answered with a 301, and the server gives a 301 its own lifetime.
    cache = CACHE_CONTROL["redirect"] if redirect else headers.get("cache-control")
    if cache:
        meta["CacheControl"] = cache
    if "content-language" in headers:
        meta["ContentLanguage"] = headers["content-language"]
    if redirect:
        meta["WebsiteRedirectLocation"] = redirect
    return tuple(sorted(meta.items()))


def wanted(
    export_dir: Path, files: Mapping[str, Entry], state: dict[str, SentObject] | None = None
) -> tuple[list[Item], frozenset[str]]:
    """Return the files of the export (its manifest's entries, dot files aside) as items to
    deploy, and the names of those left out because `state` says the target holds them as they
    are (their bytes and headers): with a trusted state a deploy looks at what changed only."""
    redirects = read_redirects(export_dir)
    items = []
    same = set()
    for name, entry in files.items():
        if name[0] == "." or "/." in name:
            continue
        redirect = redirects.get(name)
        if state is not None:
            record = state.get(name)
            if record is not None and (record.md5, record.meta) == (
                entry.md5,
                object_meta(entry, redirect),
            ):
                same.add(name)
                continue
        source = files.get(entry.source) if entry.source else None
        path = source.path if source is not None else entry.path
        stage = stage_of(path, redirect=redirect is not None)
        items.append(
            Item(
                key=name,
                path=path,
                file=export_dir / name,
                md5=entry.md5,
                size=entry.size,
                meta=object_meta(entry, redirect),
                stage=stage,
                sibling=entry.source is not None,
            )
        )
    items.sort(key=lambda item: (item.stage, item.key))
    return items, frozenset(same)


class Target(Protocol):
    """Where a deploy sends the export: a bucket (s3.py) or a folder (folder.py)."""

    name: str  # as the user wrote it, for messages

    def select(self, items: list[Item]) -> list[Item]:
        """Return the items this kind of target holds (and how)."""

    def scan(self, expected: Sequence[str]) -> None:
        """Learn what the target holds now (raising DeployError when it cannot be reached);
        `expected` are the keys the deploy wants there."""

    def existing(self) -> Iterable[str]:
        """Return the keys the target holds that a deploy may delete."""

    def check(self, item: Item, record: SentObject | None) -> SentObject | None:
        """Return the record of an item the target already holds as it should, else None."""

    def load_state(self) -> dict[str, SentObject]:
        """Return the state the last deploy left (empty when there is none)."""

    def save_state(self, records: dict[str, SentObject]) -> None:
        """Store the state of the target."""

    def save_marker(self, token: str) -> None:
        """Store the marker naming the deploy `token` (state.MARKER_NAME)."""

    def put(self, item: Item) -> SentObject:
        """Send one item (atomically: readers see the old object or the new one)."""

    def delete(self, keys: list[str]) -> None:
        """Delete objects."""

    def read(self, key: str, limit: int) -> bytes | None:
        """Return the bytes of one object the target holds, or None when there is none
        (raising DeployError when it cannot be read or holds more than `limit` bytes)."""


@dataclass(frozen=True, slots=True)
class Plan:
    """What a deploy does: puts in the order of publication, then deletions."""

    puts: list[Item]
    deletes: list[str]
    keep: dict[str, SentObject]  # the records of what is already right, among the items
    present: frozenset[str]  # the keys the target holds (that a deploy may delete)
    unchanged: int  # files the target holds as they are


def make_plan(
    items: list[Item],
    target: Target,
    state: dict[str, SentObject],
    *,
    trusted: bool = False,
    same: frozenset[str] = frozenset(),
    gone: frozenset[str] | None = None,
) -> Plan:
    """Compare the items with what the target holds; return what to send and to delete.

    A `trusted` state is taken for what the target holds, unchecked (the target was not
    scanned): right while this machine is the only one deploying there. `same` are the
    files a trusted state already showed to be there as they are (see `wanted`). With `gone`,
    the items are the export's changed files only, and `gone` the ones it no longer has.
    """
    puts = []
    keep = {}
    for item in items:
        record = state.get(item.key)
        if trusted:
            right = record is not None and (record.md5, record.meta) == (item.md5, item.meta)
            record = record if right else None
        else:
            record = target.check(item, record)
        if record is None:
            puts.append(item)
        else:
            keep[item.key] = record
    if gone is not None:
        present = frozenset(key for key in gone if key in state)
        deletes = sorted(present - {item.key for item in items})
        unchanged = len(state) - len(deletes) - sum(item.key in state for item in puts)
        return Plan(puts, deletes, keep, present, unchanged)
    present = frozenset(state if trusted else target.existing())
    names = {item.key for item in items}
    deletes = sorted(key for key in present if key not in names and key not in same)
    return Plan(puts, deletes, keep, present, len(keep) + len(same))
