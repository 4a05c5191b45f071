"""Static export: the served app, frozen.

Every URL is requested from the app itself (through the same HTTP edge that serves it), so each
file is byte-identical to the body the server sends. The export is built in a folder beside the
target and swapped in at the end; a file whose bytes did not change keeps its inode and mtime
(it is hard-linked from the previous export), so rsync and object-store syncs move only what
changed. Any response other than 200, two URLs for one file, a path leaving the folder, or a
media type that its file name would misrepresent aborts the build and leaves the previous
export untouched. One build at a time writes into a folder (a lock file beside it); holding the
lock, a build removes the temporary trees that a killed one left.
"""

from __future__ import annotations

import fcntl
import logging
import multiprocessing
import multiprocessing.connection
import os
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

from feedsvc.config import Settings
from feedsvc.errors import FeedsvcError
from feedsvc.web.edge import brotli_bytes, gzip_bytes

# What each file name ending may hold; a static host picks the type from the name.
MEDIA_TYPES: dict[str, frozenset[str]] = {
    ".html": frozenset({"text/html"}),
    ".xml": frozenset(
        {"application/atom+xml", "application/rss+xml", "application/xml", "text/xml"}
    ),
    ".json": frozenset({"application/feed+json", "application/json"}),
    ".opml": frozenset({"text/x-opml"}),
    ".txt": frozenset({"text/plain"}),
    ".css": frozenset({"text/css"}),
    ".xsl": frozenset({"application/xslt+xml"}),
    ".svg": frozenset({"image/svg+xml"}),
    ".png": frozenset({"image/png"}),
}
_COMPRESSIBLE = frozenset({".html", ".xml", ".json", ".opml", ".txt", ".css", ".xsl", ".svg"})
DEPLOY_FILES = ("_headers", "_redirects", "_nginx.conf")
# How long a build waits for another one into the same folder (10,000 articles take ~90 s).
LOCK_WAIT = 600.0

log = logging.getLogger(__name__)


class BuildError(FeedsvcError):
    """The export cannot be completed; nothing was changed."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self) -> tuple[type[BuildError], tuple[str, str]]:
        # Raised in worker processes: it must cross back to the parent whole.
        return (BuildError, (self.path, self.reason))


# Response headers a web server should repeat for the exported file (per-file validators and
# lengths are the server's own business).
KEPT_HEADERS = (
    "Cache-Control",
    "Access-Control-Allow-Origin",
    "Access-Control-Expose-Headers",
    "Content-Security-Policy",
    "X-Frame-Options",
    "Referrer-Policy",
    "X-Content-Type-Options",
)


@dataclass(frozen=True, slots=True)
class Exported:
    """One exported file and the headers a web server should send with it."""

    path: str  # the URL path
    name: str  # the file, relative to the export folder
    media_type: str
    content_type: str  # with its charset
    headers: tuple[tuple[str, str], ...]

    @property
    def cache_control(self) -> str:
        """Return the Cache-Control the app sent."""
        return dict(self.headers).get("Cache-Control", "")


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did."""

    files: tuple[Exported, ...]
    redirects: tuple[tuple[str, str], ...]
    written: int
    unchanged: int
    removed: int
    bytes: int
    seconds: float
    out_dir: Path = field(default=Path())


def file_name(path: str) -> str:
    """Return the file a URL path is written to: '/a/' -> 'a/index.html', '/a.xml' -> 'a.xml'."""
    relative = path.lstrip("/")
    return relative + "index.html" if path.endswith("/") else relative


def site_urls(app: Flask) -> tuple[list[str], list[tuple[str, str]]]:
    """Return every URL path the site publishes, and (old path, new path) of renamed slugs."""
    from feedsvc.sitemap import PART_SIZE
    from feedsvc.web.assets import STATIC_DIR, asset_url
    from feedsvc.web.context import catalog, publication, settings
    from feedsvc.web.embeds import card_path

    with app.app_context():
        site = settings().site
        pub = publication()
        size = settings().page_size
        paths: list[str] = []
        for scope in pub.scopes():
            pages = max(1, -(-catalog().count(section_slug=scope.slug) // size))
            paths.append(scope.page_path)
            paths += [f"{scope.page_path}page/{n}/" for n in range(2, pages + 1)]
        paths += pub.feed_paths()
        paths += ["/feeds/", "/feeds.opml", "/robots.txt", "/sitemap.xml"]
        sitemap_entries = 1 + len(catalog().sections()) + catalog().count()
        if sitemap_entries > PART_SIZE:
            paths += [f"/sitemaps/{n}.xml" for n in range(1, -(-sitemap_entries // PART_SIZE) + 1)]
        total = catalog().count()
        # A page of records at a time: a large catalog is never held in memory whole.
        for offset in range(0, total, 1000):
            for record in catalog().latest(1000, offset):
                base = record.path
                paths += [base, f"{base}embed/", f"{base}oembed.json", f"{base}oembed.xml"]
                paths.append(card_path(record))
        for asset in sorted(p.name for p in STATIC_DIR.iterdir() if p.is_file()):
            paths.append(f"/static/{asset}")
            paths.append(asset_url(site, asset).removeprefix(site.url))
        redirects = [(f"/articles/{old}/", f"/articles/{new}/") for old, new in catalog().aliases()]
    return paths, redirects


def _check_type(path: str, name: str, media_type: str) -> None:
    suffix = Path(name).suffix
    allowed = MEDIA_TYPES.get(suffix)
    if allowed is None or media_type not in allowed:
        raise BuildError(path, f"is {media_type}, which a file named *{suffix} would misstate")


def _checked_name(path: str) -> str:
    """Return the file for a URL path, refusing anything that is not a plain path inside."""
    if not path.startswith("/") or "?" in path or "#" in path or "\\" in path:
        raise BuildError(path, "is not a plain site path (no query strings for content)")
    name = file_name(path)
    parts = Path(name).parts
    if not parts or ".." in parts or "." in parts or Path(name).is_absolute() or "\x00" in name:
        raise BuildError(path, "would be written outside the export folder")
    return name


class _Writer:
    """Writes files into the new tree, linking those whose bytes the old tree already has."""

    def __init__(self, new_root: Path, old_root: Path | None) -> None:
        self.new_root = new_root
        self.old_root = old_root
        self.written = 0
        self.unchanged = 0
        self.bytes = 0
        self.names: list[str] = []
        self._folders: set[Path] = set()

    def write(self, name: str, body: bytes) -> None:
        # Names were checked (inside, unique) before any request; the new tree holds no links.
        target = self.new_root / name
        self.names.append(name)
        if target.parent not in self._folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(target.parent)
        self.bytes += len(body)
        if self.old_root is not None:
            old = self.old_root / name
            try:
                status = old.lstat()
                same_size = stat.S_ISREG(status.st_mode) and status.st_size == len(body)
                if same_size and old.read_bytes() == body:
                    os.link(old, target)
                    self.unchanged += 1
                    return
            except OSError:
                pass  # not there, or unreadable: write it
        target.write_bytes(body)
        self.written += 1


@dataclass(frozen=True, slots=True)
class _Chunk:
    """What one worker exported."""

    files: list[Exported]
    names: list[str]
    written: int
    unchanged: int
    bytes: int


def _export_paths(
    app: Flask,
    paths: Sequence[str],
    new_root: Path,
    old_root: Path | None,
    *,
    gzip: bool,
    brotli: bool,
) -> _Chunk:
    """Request each path from the app and write its body (and compressed siblings)."""
    writer = _Writer(new_root, old_root)
    files: list[Exported] = []
    client = app.test_client()
    for path in paths:
        name = file_name(path)
        with client.get(path) as response:
            if response.status_code != 200:
                raise BuildError(path, f"answered {response.status} instead of 200 OK")
            body = response.get_data()
            media_type = response.mimetype or ""
            content_type = response.content_type or ""
            kept = tuple(
                (header, response.headers[header])
                for header in KEPT_HEADERS
                if header in response.headers
            )
        _check_type(path, name, media_type)
        writer.write(name, body)
        if Path(name).suffix in _COMPRESSIBLE and len(body) >= 256:
            if gzip:
                writer.write(name + ".gz", gzip_bytes(body))
            if brotli:
                writer.write(name + ".br", brotli_bytes(body))
        files.append(Exported(path, name, media_type, content_type, kept))
    return _Chunk(files, writer.names, writer.written, writer.unchanged, writer.bytes)


def _export_in_worker(
    settings: Settings,
    paths: list[str],
    new_root: Path,
    old_root: Path | None,
    gzip: bool,
    brotli: bool,
) -> _Chunk:
    """Export a share of the paths in a worker process, with its own app."""
    from feedsvc import create_app

    global _WORKER_APP
    if _WORKER_APP is None:
        _WORKER_APP = create_app(settings=settings)
    return _export_paths(_WORKER_APP, paths, new_root, old_root, gzip=gzip, brotli=brotli)


_WORKER_APP: Flask | None = None


def _deploy_files(
    app: Flask, files: Sequence[Exported], redirects: Sequence[tuple[str, str]], root: str
) -> dict[str, bytes]:
    from feedsvc.deploy import headers_file, nginx_static_conf, redirects_file
    from feedsvc.web.context import settings

    with app.app_context():
        site_url = settings().site.url
    return {
        "_headers": headers_file(files).encode("utf-8"),
        "_redirects": redirects_file(redirects, site_url).encode("utf-8"),
        "_nginx.conf": nginx_static_conf(files, redirects, site_url=site_url, root=root).encode(
            "utf-8"
        ),
    }


def _names(
    paths: Sequence[str], redirects: Sequence[tuple[str, str]], extra: Iterable[str]
) -> set[str]:
    """Check every file name before any request: inside the folder, one URL per file."""
    seen: dict[str, str] = {}
    for path in [*paths, *(old for old, _new in redirects), *("/" + n for n in extra)]:
        name = _checked_name(path)
        if name in seen:
            raise BuildError(path, f"maps to the file {name}, as {seen[name]} does")
        seen[name] = path
    return set(seen)


def build(
    app: Flask,
    out_dir: Path,
    *,
    include: Iterable[str] = (),
    gzip: bool = False,
    brotli: bool = False,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    wait: float = LOCK_WAIT,
) -> BuildReport:
    """Export the whole site into `out_dir` (atomically); return what changed.

    With `jobs` > 1 the URLs are shared among that many worker processes, each with its own
    app over the same catalog and settings. A build into the same folder that is under way is
    waited for, `wait` seconds at most.
    """
    started = time.perf_counter()
    out_dir = out_dir.resolve()
    paths, redirects = site_urls(app)
    paths += list(include)
    _names(paths, redirects, DEPLOY_FILES)
    if on_total is not None:
        on_total(len(paths) + len(redirects))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(out_dir, wait):
        old_root = out_dir if out_dir.is_dir() else None
        new_root = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.build-", dir=out_dir.parent))
        try:
            chunks = _run(
                app,
                paths,
                new_root,
                old_root,
                gzip=gzip,
                brotli=brotli,
                jobs=jobs,
                progress=progress,
            )
            files = [item for chunk in chunks for item in chunk.files]
            writer = _Writer(new_root, old_root)
            with app.app_context():
                from feedsvc.web.context import settings

                site_url = settings().site.url
                template = app.jinja_env.get_template("redirect.html")
            for old, new in redirects:
                writer.write(file_name(old), template.render(target=site_url + new).encode("utf-8"))
                if progress is not None:
                    progress(1)
            for name, body in _deploy_files(app, files, redirects, str(out_dir)).items():
                writer.write(name, body)
            written = {name for chunk in chunks for name in chunk.names} | set(writer.names)
            removed = 0
            if old_root is not None:
                for dirpath, _dirs, filenames in os.walk(old_root):
                    for filename in filenames:
                        relative = os.path.relpath(os.path.join(dirpath, filename), old_root)
                        removed += relative not in written
            _swap(new_root, out_dir)
        except BaseException:
            shutil.rmtree(new_root, ignore_errors=True)
            raise
    return BuildReport(
        files=tuple(files),
        redirects=tuple(redirects),
        written=writer.written + sum(chunk.written for chunk in chunks),
        unchanged=writer.unchanged + sum(chunk.unchanged for chunk in chunks),
        removed=removed,
        bytes=writer.bytes + sum(chunk.bytes for chunk in chunks),
        seconds=time.perf_counter() - started,
        out_dir=out_dir,
    )


def _run(
    app: Flask,
    paths: list[str],
    new_root: Path,
    old_root: Path | None,
    *,
    gzip: bool,
    brotli: bool,
    jobs: int,
    progress: Callable[[int], None] | None,
) -> list[_Chunk]:
    """Export the paths here (jobs=1) or across worker processes, in chunks, in order."""
    size = 200
    parts = [paths[i : i + size] for i in range(0, len(paths), size)]
    if jobs <= 1 or len(parts) <= 1:
        chunks = []
        for part in parts:
            chunks.append(_export_paths(app, part, new_root, old_root, gzip=gzip, brotli=brotli))
            if progress is not None:
                progress(len(part))
        return chunks
    settings: Settings = app.config["FEEDSVC"]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_die_with_the_build
    ) as pool:
        futures = [
            pool.submit(_export_in_worker, settings, part, new_root, old_root, gzip, brotli)
            for part in parts
        ]
        try:
            for future, part in zip(futures, parts, strict=True):
                future.result()
                if progress is not None:
                    progress(len(part))
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        return [future.result() for future in futures]


def _swap(new_root: Path, out_dir: Path) -> None:
    """Put the new tree in place of the old one (two renames; the old tree is then deleted)."""
    new_root.chmod(0o755)
    if out_dir.exists():
        retired = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.rename(out_dir, retired)
        os.rename(new_root, out_dir)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.rename(new_root, out_dir)


def _die_with_the_build() -> None:
    """Make this worker exit as soon as the build process is gone.

    A killed build's workers would otherwise write on into its temporary tree (racing the next
    build that removes it), then wait for work forever.
    """
    build_process = multiprocessing.parent_process()
    if build_process is not None:
        sentinel = build_process.sentinel

        def watch() -> None:
            multiprocessing.connection.wait([sentinel])
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()


@contextmanager
def _exclusive(out_dir: Path, wait: float) -> Iterator[None]:
    """Hold the lock of builds into `out_dir` (waiting `wait` s at most), then clear leftovers.

    The lock file stays: unlinking it would let two builds lock different files of one name.
    """
    lock_path = out_dir.with_name(f".{out_dir.name}.lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise BuildError(str(lock_path), f"cannot be opened: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 20, 0).decode(errors="replace").strip() or "unknown"
                if time.monotonic() >= deadline:
                    reason = f"another build into it (process {holder}) is still running"
                    raise BuildError(str(out_dir), f"{reason} after {wait:g} s") from None
                if not told:
                    log.info(
                        "waiting up to %g s for the build into %s by process %s",
                        wait,
                        out_dir,
                        holder,
                    )
                    told = True
                time.sleep(max(0.0, min(0.2, deadline - time.monotonic())))
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _remove_leftovers(out_dir)
        yield
    finally:
        os.close(fd)  # and with it the lock


def _remove_leftovers(out_dir: Path) -> None:
    """Remove the temporary trees of killed builds (stale by definition: we hold the lock)."""
    prefixes = (f".{out_dir.name}.build-", f".{out_dir.name}.old-")
    found = sorted(
        (p for p in out_dir.parent.iterdir() if p.name.startswith(prefixes)),
        key=lambda p: p.lstat().st_mtime,
    )
    aside = [p for p in found if p.name.startswith(prefixes[1])]
    if aside and not out_dir.exists():
        # Killed between _swap's two renames: the previous export is whole; serve it again.
        os.rename(aside[-1], out_dir)
        found.remove(aside[-1])
        log.warning("restored %s from %s, left by an interrupted build", out_dir, aside[-1].name)
    for path in found:
        count = size = 0
        for dirpath, _dirs, names in os.walk(path):
            count += len(names)
            size += sum(os.lstat(os.path.join(dirpath, name)).st_size for name in names)
        shutil.rmtree(path, ignore_errors=True)
        log.warning(
            "removed %s, left by an interrupted build: %d files, %.1f MiB",
            path,
            count,
            size / 1_048_576,
        )
