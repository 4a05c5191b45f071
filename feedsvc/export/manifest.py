"""The export's manifest: what each file was made from, so the next build renders only what a
catalog change touched (see feedsvc.export.fingerprints), and a deploy sends only what changed.

It lives in the export as `.feedsvc-manifest.json` (a dot file: never deployed, and the nginx
config refuses dot files). A build whose settings or feedsvc code differ from the manifest's, or
whose manifest is missing or damaged, is a full build.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from feedsvc.config.settings import Settings, to_environ

NAME = ".feedsvc-manifest.json"
FORMAT = 2  # 2: content types and header sets written once, named by index
# Settings that change no exported byte (where things run, how the server behaves).
_RUNTIME = frozenset(
    "FEEDSVC_" + name
    for name in [
        "SEEDS_DIR",
        "DATABASE",
        "CARD_DIR",
        "RUN_DIR",
        "ACCESS_LOG",
        "CACHE_MB",
        "STATE_CHECK_MS",
        "TRUST_PROXY",
        "WATCH",
        "RESCAN_SECONDS",
        "SETTLE_MS",
        "BACKUPS",
        "BACKUP_HOURS",
        "HEALTH_MAX_LAG",
        "WRITER_STALL_SECONDS",
        "MAX_FILE_KB",
        "TOMBSTONE_DAYS",
        "PUBLICATION_ID",
        "GIT_DATES",
        "SITE_ICON",  # a path: the icon's bytes count through _icon_source(settings)
        "EXPORT_DIR",
        "S3_ENDPOINT",
        "DEPLOY",
    ]
)
_PACKAGE = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Entry:
    """One file of the export."""

    path: str  # the URL path it answers ("" for deploy files)
    digest: str  # what it was made from (feedsvc.export.fingerprints); "" when always rebuilt
    size: int
    md5: str  # the body's MD5: an object store's ETag for a single-part upload
    content_type: str
    headers: tuple[tuple[str, str], ...]
    encoding: str | None = None  # "gzip" / "br" for a precompressed sibling
    source: str | None = None  # the file a sibling compresses


@lru_cache(maxsize=1)
def code_digest() -> str:
    """Return a digest of feedsvc's own files (code, templates, assets, fonts)."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(_PACKAGE)).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:32]


def build_digest(settings: Settings, *, gzip: bool, brotli: bool, include: tuple[str, ...]) -> str:
    """Return a digest of everything besides the catalog that an export's bytes depend on."""
    environ = {k: v for k, v in to_environ(settings).items() if k not in _RUNTIME}
    icons = _icon_source(settings)  # FEEDSVC_SITE_ICON names a file: its bytes count too
    parts = [code_digest(), _libraries(), sorted(environ.items()), icons, gzip, brotli, include]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def _icon_source(settings: Settings) -> str:
    """Return a digest of the file the icons are made from ("" when they are drawn from the
    title, which the settings hold): with the code and Pillow, what decides their bytes, known
    without drawing them (0.1 s)."""
    source = settings.site_icon
    if source is None:
        return ""
    try:
        return hashlib.sha256(source.read_bytes()).hexdigest()
    except OSError as exc:  # the build says why when it draws them (icons_for)
        return f"unreadable: {exc.strerror or exc}"


def _libraries() -> list[str]:
    """Return the versions of the encoders whose bytes the export holds: another zlib (zlib-ng),
    brotli or Pillow may write other bytes for the same input."""
    import PIL

    return [zlib.ZLIB_RUNTIME_VERSION, version("brotli"), PIL.__version__]


_FIELDS = [item.name for item in fields(Entry)]


@dataclass(frozen=True, slots=True)
class Manifest:
    """Every file of an export with what it was made from."""

    build: str
    files: dict[str, Entry]

    def to_bytes(self) -> bytes:
        """Return the manifest's file content (deterministic; compact: one short row a file,
        each distinct content type and header set written once and named by its place).

        The bytes are json.dumps(document, separators=(",", ":")) of the document _parse reads;
        each row is encoded by hand, and a row whose entry is the very object encoded last time
        (a writer rewriting its export's manifest after a small change) is not encoded again.
        """
        global _ROWS
        files = self.files
        earlier_tables, earlier = _ROWS  # one read: another thread may replace it
        # The same names as the last manifest (an edit): its order is theirs sorted.
        names = list(earlier) if earlier.keys() == files.keys() else sorted(files)
        items = [(name, files[name]) for name in names]
        types: dict[str, int] = {}
        header_sets: dict[tuple[tuple[str, str], ...], int] = {}
        for _name, entry in items:
            types.setdefault(entry.content_type, len(types))
            header_sets.setdefault(entry.headers, len(header_sets))
        tables = (tuple(types), tuple(header_sets))
        last = earlier if earlier_tables == tables else {}  # rows name tables by place
        rows: dict[str, tuple[Entry, str]] = {}
        for name, entry in items:
            known = last.get(name)
            if known is not None and known[0] is entry:
                rows[name] = known
            else:
                rows[name] = (entry, _row(name, entry, types, header_sets))
        _ROWS = (tables, rows)
        head = {
            "format": FORMAT,
            "fields": _FIELDS,
            "build": self.build,
            "content_types": list(types),
            "header_sets": [[list(pair) for pair in headers] for headers in header_sets],
        }
        document = json.dumps(head, separators=(",", ":"))[:-1]
        body = ",".join(row for _entry, row in rows.values())
        return f'{document},"files":{{{body}}}}}'.encode()


def _row(
    name: str,
    entry: Entry,
    types: dict[str, int],
    header_sets: dict[tuple[tuple[str, str], ...], int],
) -> str:
    """Return `"name":[path,digest,size,md5,type,headers,encoding,source]` as json.dumps does."""
    text = _json_string
    encoding = "null" if entry.encoding is None else text(entry.encoding)
    source = "null" if entry.source is None else text(entry.source)
    return (
        f"{text(name)}:[{text(entry.path)},{text(entry.digest)},{entry.size:d},"
        f"{text(entry.md5)},{types[entry.content_type]:d},{header_sets[entry.headers]:d},"
        f"{encoding},{source}]"
    )


# json.dumps's own string encoder (ensure_ascii), so a hand-built row has its bytes.
_json_string: Callable[[str], str] = json.encoder.encode_basestring_ascii
# The rows of the manifest this process encoded last, under the type and header tables their
# numbers refer to.
_Tables = tuple[tuple[str, ...], tuple[tuple[tuple[str, str], ...], ...]]
_ROWS: tuple[_Tables | None, dict[str, tuple[Entry, str]]] = (None, {})


# The last manifest this process wrote or read, with its file's identity: a long-running writer
# builds and deploys the same export over and over, and parsing 55,000 rows costs ~0.5 s.
# Manifests are only ever replaced by a rename, so a file with the same inode, time and size
# holds the same bytes.
_LAST: dict[Path, tuple[tuple[int, int, int], Manifest]] = {}


def _identity(path: Path) -> tuple[int, int, int]:
    status = os.stat(path)
    return status.st_ino, status.st_mtime_ns, status.st_size


def remember(root: Path, manifest: Manifest) -> None:
    """Note that `manifest` is what the export in `root` holds now (it was just written)."""
    _LAST.clear()
    with contextlib.suppress(OSError):  # then the next load reads the file
        _LAST[root] = (_identity(root / NAME), manifest)


def load(root: Path) -> Manifest | None:
    """Return the manifest of an export, or None when it is missing or damaged."""
    try:
        identity = _identity(root / NAME)
    except OSError:
        return None
    last = _LAST.get(root)
    if last is not None and last[0] == identity:
        return Manifest(last[1].build, dict(last[1].files))  # the caller may change its copy
    loaded = _parse(root)
    if loaded is not None:
        _LAST.clear()
        _LAST[root] = (identity, loaded)
        return Manifest(loaded.build, dict(loaded.files))
    return None


def prepare(root: Path) -> None:
    """Encode the export's manifest once, writing nothing: this process's next write of it
    then encodes only the rows of the entries that changed (a writer before its first change)."""
    found = load(root)
    if found is not None:
        found.to_bytes()


def _parse(root: Path) -> Manifest | None:
    try:
        document: Any = json.loads((root / NAME).read_text(encoding="utf-8"))
        if document.get("format") != FORMAT:
            return None
        if document.get("fields") != _FIELDS:
            return None
        types = [str(kind) for kind in document["content_types"]]
        header_sets = [
            tuple((str(key), str(value)) for key, value in headers)
            for headers in document["header_sets"]
        ]
        files = {}
        for name, row in document["files"].items():
            path, digest, size, md5, kind, headers, encoding, source = row
            files[name] = Entry(
                path, digest, size, md5, types[kind], header_sets[headers], encoding, source
            )
        return Manifest(str(document["build"]), files)
    except (OSError, ValueError, TypeError, KeyError, AttributeError, IndexError):
        return None
