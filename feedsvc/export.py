"""Static export: the served app, frozen.

Every URL is requested from the app itself (through the same HTTP edge that serves it), so each
file is byte-identical to the body the server sends. The export is built in a folder beside the
target and swapped in at the end; a file whose bytes did not change keeps its inode and mtime
(it is hard-linked from the previous export), so rsync and object-store syncs move only what
changed. Any response other than 200, two URLs for one file, a path leaving the folder, or a
media type that its file name would misrepresent aborts the build and leaves the previous
export untouched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

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


class BuildError(FeedsvcError):
    """The export cannot be completed; nothing was changed."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


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
    from feedsvc.sitemap import MAX_URLS
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
        if sitemap_entries > MAX_URLS:
            paths += [f"/sitemaps/{n}.xml" for n in range(1, -(-sitemap_entries // MAX_URLS) + 1)]
        for record in catalog().latest(catalog().count() or 1):
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


def _target(root: Path, name: str, path: str) -> Path:
    target = (root / name).resolve()
    if not target.is_relative_to(root.resolve()) or ".." in Path(name).parts:
        raise BuildError(path, "would be written outside the export folder")
    return target


class _Writer:
    """Writes files into the new tree, linking those whose bytes the old tree already has."""

    def __init__(self, new_root: Path, old_root: Path | None) -> None:
        self.new_root = new_root
        self.old_root = old_root
        self.written = 0
        self.unchanged = 0
        self.bytes = 0
        self.names: set[str] = set()

    def write(self, name: str, body: bytes, path: str) -> None:
        if name in self.names:
            raise BuildError(path, f"a second URL maps to the file {name}")
        self.names.add(name)
        target = _target(self.new_root, name, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.bytes += len(body)
        if self.old_root is not None:
            old = self.old_root / name
            try:
                same_size = old.is_file() and old.stat().st_size == len(body)
                if same_size and not old.is_symlink() and old.read_bytes() == body:
                    os.link(old, target)
                    self.unchanged += 1
                    return
            except OSError:
                pass  # fall back to writing it
        target.write_bytes(body)
        self.written += 1


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


def build(
    app: Flask,
    out_dir: Path,
    *,
    include: Iterable[str] = (),
    gzip: bool = False,
    brotli: bool = False,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> BuildReport:
    """Export the whole site into `out_dir` (atomically); return what changed."""
    started = time.perf_counter()
    out_dir = out_dir.resolve()
    paths, redirects = site_urls(app)
    paths += list(include)
    if on_total is not None:
        on_total(len(paths) + len(redirects))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    old_root = out_dir if out_dir.is_dir() else None
    new_root = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.build-", dir=out_dir.parent))
    try:
        writer = _Writer(new_root, old_root)
        files: list[Exported] = []
        client = app.test_client()
        for path in paths:
            if not path.startswith("/") or "?" in path or "#" in path:
                raise BuildError(path, "is not a plain site path (no query strings for content)")
            name = file_name(path)
            _target(new_root, name, path)
            with client.get(path) as response:
                if response.status_code != 200:
                    raise BuildError(path, f"answered {response.status} instead of 200 OK")
                body = response.get_data()
                media_type = response.mimetype or ""
                content_type = response.content_type
                kept = tuple(
                    (name_, response.headers[name_])
                    for name_ in KEPT_HEADERS
                    if name_ in response.headers
                )
            _check_type(path, name, media_type)
            writer.write(name, body, path)
            if Path(name).suffix in _COMPRESSIBLE and len(body) >= 256:
                if gzip:
                    writer.write(name + ".gz", gzip_bytes(body), path)
                if brotli:
                    writer.write(name + ".br", brotli_bytes(body), path)
            files.append(Exported(path, name, media_type, content_type, kept))
            if progress is not None:
                progress(1)
        with app.app_context():
            env = app.jinja_env
            from feedsvc.web.context import settings

            site_url = settings().site.url
        for old, new in redirects:
            page = env.get_template("redirect.html").render(target=site_url + new)
            writer.write(file_name(old), page.encode("utf-8"), old)
            if progress is not None:
                progress(1)
        for name, body in _deploy_files(app, files, redirects, str(out_dir)).items():
            writer.write(name, body, "/" + name)
        removed = 0
        if old_root is not None:
            for dirpath, _dirs, filenames in os.walk(old_root):
                for filename in filenames:
                    relative = os.path.relpath(os.path.join(dirpath, filename), old_root)
                    removed += relative not in writer.names
        _swap(new_root, out_dir)
    except BaseException:
        shutil.rmtree(new_root, ignore_errors=True)
        raise
    return BuildReport(
        files=tuple(files),
        redirects=tuple(redirects),
        written=writer.written,
        unchanged=writer.unchanged,
        removed=removed,
        bytes=writer.bytes,
        seconds=time.perf_counter() - started,
        out_dir=out_dir,
    )


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
