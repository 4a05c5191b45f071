"""What the export was last built from, noted beside it: the build digest, the catalog's state
(Catalog.state) and the manifest that build left. When all three are what the next build
would use, that build has nothing to render and need not read a single article: deploying
right after a build, or building twice, costs a check instead of a pass over the archive."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from feedsvc.catalog import open_catalog
from feedsvc.config.settings import Settings
from feedsvc.export import inplace, manifest
from feedsvc.export.listing import site_redirects
from feedsvc.export.manifest import NAME
from feedsvc.export.rendered import BuildReport, KeptRecords, standing
from feedsvc.support.atomic import write_file

log = logging.getLogger(__name__)


def note_path(out_dir: Path) -> Path:
    """Return where the note of what `out_dir` was built from is kept: beside the export, like
    its lock, so a copy of the export (or a deploy) never carries it."""
    return out_dir.with_name(f".{out_dir.name}.built-from.json")


def _manifest_identity(out_dir: Path) -> list[int] | None:
    # Manifests are only ever replaced by a rename: another one has another inode or time.
    try:
        status = os.stat(out_dir / NAME)
    except OSError:
        return None
    return [status.st_ino, status.st_mtime_ns, status.st_size]


def _document(out_dir: Path, stamp: str, state: str) -> dict[str, object] | None:
    identity = _manifest_identity(out_dir)
    if identity is None:
        return None
    return {"build": stamp, "catalog": state, "manifest": identity}


def mark(out_dir: Path, stamp: str, state: str) -> None:
    """Note that the export now holds what build `stamp` makes of catalog state `state`."""
    document = _document(out_dir, stamp, state)
    try:
        if document is None:
            note_path(out_dir).unlink(missing_ok=True)
        else:
            write_file(note_path(out_dir), json.dumps(document).encode("utf-8"))
    except OSError as exc:
        # Safe either way (an old note names another manifest, so it never matches): only
        # the next build's shortcut is lost.
        log.warning(
            "cannot note what %s was built from (%s): the next build reads every article; "
            "check that %s is writable",
            out_dir,
            exc.strerror or exc,
            out_dir.parent,
        )


def unchanged(out_dir: Path, stamp: str, state: str) -> bool:
    """Return whether the export was built by `stamp` from catalog state `state` and its
    manifest is still the one that build left."""
    try:
        found = json.loads(note_path(out_dir).read_bytes())
    except (OSError, ValueError):
        return False
    wanted = _document(out_dir, stamp, state)
    return wanted is not None and found == wanted


def catalog_state(settings: Settings) -> str:
    """Return the state of the catalog a build reads (Catalog.state)."""
    catalog = open_catalog(settings.database, readonly=True)
    try:
        return catalog.state()
    finally:
        catalog.close()


def as_built(
    settings: Settings,
    out_dir: Path,
    started: float,
    on_total: Callable[[int], None] | None,
    progress: Callable[[int], None] | None,
) -> BuildReport | None:
    """Return the report of a build with nothing to do, for an export built from this very
    state of the catalog (built_from.unchanged), unless a killed build left work or a file
    is missing (then None: the build reads everything and renders what is missing)."""
    previous = manifest.load(out_dir)
    if previous is None or inplace.pending(out_dir):
        return None
    root = str(out_dir)
    # os.path: pathlib's objects cost more than the stat itself, once per file.
    if not all(os.path.isfile(os.path.join(root, name)) for name in previous.files):
        return None
    catalog = open_catalog(settings.database, readonly=True)
    try:
        redirects = site_redirects(settings, catalog)
    finally:
        catalog.close()
    old = {path for path, _new in redirects}
    kept = {
        entry.path: entry
        for entry in previous.files.values()
        if entry.path and entry.encoding is None and entry.path not in old
    }
    files = KeptRecords(kept)
    if on_total is not None:
        on_total(len(files) + len(redirects))
    if progress is not None:
        progress(len(files) + len(redirects))
    return standing(files, redirects, previous.files, out_dir=out_dir, started=started)
