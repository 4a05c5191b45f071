"""Static export: the served app, frozen, and brought up to date incrementally.

Every URL (listed from the map of the publication, see listing.py) is requested from the app
itself, through the same HTTP edge that serves it, so each file is byte-identical to the body
the server sends. A manifest (manifest.py) records what each file was made from; the next
build requests only the URLs whose inputs changed (feedsvc.export.fingerprints). A first build
(or one whose settings or code changed) writes a new tree beside the target and swaps it in; a
later one puts only the changed files in place (update.py, inplace.py). Either way a killed
build leaves an export a web server can serve, and the next build completes. Any response other than
200, two URLs for one file, a path leaving the folder, or a media type that its file name
would misrepresent aborts the build and leaves the previous export untouched.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from feedsvc.catalog import open_catalog
from feedsvc.config.settings import Settings
from feedsvc.export import built_from, digest_store, inplace, manifest
from feedsvc.export.article_digests import last_reading
from feedsvc.export.fingerprints import fingerprints
from feedsvc.export.listing import site_paths
from feedsvc.export.manifest import Entry, Manifest
from feedsvc.export.names import DEPLOY_FILES, BuildError, check_names, file_name
from feedsvc.export.rendered import (
    SIBLINGS,
    BuildReport,
    entries_of,
    moved_page,
    records,
    server_files_current,
    standing,
    write_beside,
)
from feedsvc.export.runner import run
from feedsvc.export.server_config import Exported, deploy_inputs
from feedsvc.export.tree import LOCK_WAIT, TreeWriter, count_removed, exclusive, swap
from feedsvc.export.update import Previous, update
from feedsvc.web.frozen import WebApp, settings_of

__all__ = ["BuildError", "BuildReport", "Exported", "build", "file_name"]


def _publication(settings: Settings) -> tuple[list[str], list[tuple[str, str]], dict[str, str]]:
    """Return every path, the redirects and every path's digest, from one catalog reading."""
    catalog = open_catalog(settings.database, readonly=True)
    try:
        articles: list[tuple[str, str]] = []
        digests = fingerprints(catalog, settings, articles=articles)
        paths, redirects = site_paths(settings, catalog, articles)
    finally:
        catalog.close()
    return paths, redirects, digests


def already_built(
    settings: Settings,
    out_dir: Path,
    *,
    gzip: bool = False,
    brotli: bool = False,
    wait: float = LOCK_WAIT,
) -> BuildReport | None:
    """Return the report of a build that has nothing to do (the export was built by these
    settings and code from this very state of the catalog, see built_from), without an app to
    make; None when there is work for build()."""
    started = time.perf_counter()
    out_dir = out_dir.resolve()
    if not out_dir.is_dir():
        return None
    with exclusive(out_dir, wait):
        state = built_from.catalog_state(settings)
        stamp = manifest.build_digest(settings, gzip=gzip, brotli=brotli, include=())
        if not built_from.unchanged(out_dir, stamp, state):
            return None
        return built_from.as_built(settings, out_dir, started, None, None)


def build(
    app: WebApp,
    out_dir: Path,
    *,
    include: Iterable[str] = (),
    gzip: bool = False,
    brotli: bool = False,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    wait: float = LOCK_WAIT,
    warm: bool = False,
) -> BuildReport:
    """Bring the export in `out_dir` up to date (atomically); return what changed.

    With `jobs` > 1 the URLs to render are shared among that many worker processes, each with
    its own app over the same catalog and settings. A build into the same folder that is under
    way is waited for, `wait` seconds at most. With `warm` (a long-running writer's first
    build) the catalog and the manifest are read through even when nothing changed, so that
    what this process keeps of them serves its next builds.
    """
    started = time.perf_counter()
    settings = settings_of(app)
    out_dir = out_dir.resolve()
    include = tuple(include)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(out_dir, wait):
        state = built_from.catalog_state(settings)
        stamp = manifest.build_digest(settings, gzip=gzip, brotli=brotli, include=include)
        if not include and not warm and built_from.unchanged(out_dir, stamp, state):
            report = built_from.as_built(settings, out_dir, started, on_total, progress)
            if report is not None:
                return report
        fresh = not last_reading()[1]  # a new process: take the digests an earlier one kept
        digest_store.restore(out_dir, stamp)
        report = _bring_up_to_date(
            app,
            out_dir,
            stamp,
            include=include,
            gzip=gzip,
            brotli=brotli,
            jobs=jobs,
            progress=progress,
            on_total=on_total,
            started=started,
        )
        built_from.mark(out_dir, stamp, state)
        if fresh:  # a long-running writer keeps them in memory and need not write them
            digest_store.keep(out_dir, stamp)
        if warm:
            manifest.prepare(out_dir)
        return report


def _bring_up_to_date(
    app: WebApp,
    out_dir: Path,
    stamp: str,
    *,
    include: tuple[str, ...],
    gzip: bool,
    brotli: bool,
    jobs: int,
    progress: Callable[[int], None] | None,
    on_total: Callable[[int], None] | None,
    started: float,
) -> BuildReport:
    """Render what changed since the export's manifest (everything without a usable one)."""
    settings = settings_of(app)
    paths, redirects, digests = _publication(settings)
    paths += list(include)
    if on_total is not None:
        on_total(len(paths) + len(redirects))
    old_root = out_dir if out_dir.is_dir() else None
    previous = manifest.load(out_dir) if old_root is not None else None
    usable = previous.files if previous is not None and previous.build == stamp else {}
    # What a killed build was replacing may hold its bytes, not the manifest's: render it.
    unfinished = inplace.pending(out_dir) if usable else frozenset()
    if "*" in unfinished:
        usable, unfinished = {}, frozenset()
    check_names(paths, redirects, DEPLOY_FILES, {n: e.path for n, e in usable.items()})

    root = str(out_dir)

    def current(path: str) -> Entry | None:
        name = file_name(path)
        entry = usable.get(name)
        if entry is None or not entry.digest or entry.digest != digests.get(path):
            return None
        if name in unfinished:
            return None
        # A file removed from the export by hand is rendered again (os.path: pathlib's
        # objects cost more than the stat itself, once per file of a large export).
        return entry if os.path.isfile(os.path.join(root, name)) else None

    kept = {path: entry for path in paths if (entry := current(path)) is not None}
    if len(kept) == len(paths) and not include and not unfinished:
        files = records(paths, kept, {})
        if _up_to_date(app, settings, out_dir, usable, files, redirects):
            # Nothing to render, add or remove: the export stands as it is.
            if progress is not None:
                progress(len(paths) + len(redirects))
            return standing(files, redirects, usable, out_dir=out_dir, started=started)
    new_root = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.build-", dir=out_dir.parent))
    if usable:
        try:
            return update(
                app,
                Previous(out_dir, stamp, usable, unfinished),
                new_root,
                paths,
                redirects,
                kept,
                digests,
                gzip=gzip,
                brotli=brotli,
                jobs=jobs,
                progress=progress,
                started=started,
            )
        finally:
            shutil.rmtree(new_root, ignore_errors=True)
    # A full build: nothing is kept (no usable manifest); files whose bytes are the same
    # as the old tree's are linked from it (TreeWriter), keeping their timestamps.
    try:
        chunks = run(
            app,
            paths,
            new_root,
            old_root,
            gzip=gzip,
            brotli=brotli,
            jobs=jobs,
            progress=progress,
        )
        entries = entries_of(chunks, digests)
        writer = TreeWriter(new_root, old_root)
        files = write_beside(
            app,
            writer,
            entries,
            paths=paths,
            chunks=chunks,
            kept={},
            redirects=redirects,
            digests=digests,
            root=str(out_dir),
            previous={},
            progress=progress,
        )
        written_manifest = Manifest(stamp, entries)
        writer.write(manifest.NAME, written_manifest.to_bytes())
        written = {name for chunk in chunks for name in chunk.names} | set(writer.names)
        removed = count_removed(old_root, written)
        swap(new_root, out_dir)
        manifest.remember(out_dir, written_manifest)
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
        rendered=len(paths),
        full=True,
    )


def _up_to_date(
    app: WebApp,
    settings: Settings,
    out_dir: Path,
    usable: dict[str, Entry],
    files: list[Exported],
    redirects: list[tuple[str, str]],
) -> bool:
    """Return whether the export already holds exactly what this build would write, when every
    URL is current: the same files, redirect pages and deploy files, nothing to remove."""
    wanted = {item.name for item in files} | set(DEPLOY_FILES)
    wanted |= {item.name + suffix for item in files for suffix, _ in SIBLINGS} & set(usable)
    wanted |= {file_name(old) for old, _new in redirects}
    if wanted != set(usable):
        return False
    inputs = deploy_inputs(files, redirects, site_url=settings.site.url, root=str(out_dir))
    if not server_files_current(usable, inputs, out_dir):
        return False
    bodies = {file_name(old): moved_page(app, old, new).body for old, new in redirects}
    return all(
        hashlib.md5(body, usedforsecurity=False).hexdigest() == usable[name].md5
        for name, body in bodies.items()
    )
