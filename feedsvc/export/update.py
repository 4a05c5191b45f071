"""An incremental build into an existing export: the URLs a change touched are rendered into
a staging folder beside it, and only the files whose bytes changed are put in place, in the
order of publication (feedsvc.export.inplace). The unchanged files are not touched at all."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from feedsvc.export import inplace
from feedsvc.export.manifest import NAME, Entry, Manifest, remember
from feedsvc.export.names import file_name
from feedsvc.export.rendered import (
    BuildReport,
    entries_of,
    kept_entries,
    write_beside,
)
from feedsvc.export.runner import run
from feedsvc.export.tree import TreeWriter
from feedsvc.web.frozen import WebApp


@dataclass(frozen=True, slots=True)
class Previous:
    """The export as the last build left it."""

    out_dir: Path
    stamp: str  # the build digest, the same as this build's
    usable: dict[str, Entry]  # its manifest
    unfinished: frozenset[str]  # what a killed build was replacing or deleting


def update(
    app: WebApp,
    previous: Previous,
    staging: Path,
    paths: list[str],
    redirects: list[tuple[str, str]],
    kept: dict[str, Entry],
    digests: dict[str, str],
    *,
    gzip: bool,
    brotli: bool,
    jobs: int,
    progress: Callable[[int], None] | None,
    started: float,
) -> BuildReport:
    """Render what is not kept into `staging`, then put what changed in place."""
    out_dir, usable = previous.out_dir, previous.usable
    render = [path for path in paths if path not in kept]
    chunks = run(app, render, staging, None, gzip=gzip, brotli=brotli, jobs=jobs, progress=progress)
    entries = kept_entries(kept, usable)
    entries |= entries_of(chunks, digests)
    if progress is not None and kept:
        progress(len(kept))
    staged = {name: md5 for chunk in chunks for name, (_size, md5) in chunk.sums.items()}
    writer = TreeWriter(staging, None)
    files = write_beside(
        app,
        writer,
        entries,
        paths=paths,
        chunks=chunks,
        kept=kept,
        redirects=redirects,
        digests=digests,
        root=str(out_dir),
        previous=usable,
        progress=progress,
    )
    staged |= {name: md5 for name, (_size, md5) in writer.sums.items()}
    before = {name: entry.md5 for name, entry in usable.items() if name in staged}
    changed = inplace.changed(out_dir, staged, before, previous.unfinished)
    redirected = {file_name(old) for old, _new in redirects}

    def rank(name: str) -> tuple[int, int]:
        entry = entries[name]
        path = entries[entry.source].path if entry.source else entry.path
        return inplace.rank(path, redirect=name in redirected)

    gone = (set(usable) | previous.unfinished) - set(entries)
    written = Manifest(previous.stamp, entries)
    inplace.apply(
        out_dir, staging, [(rank(name), name) for name in changed], gone, NAME, written.to_bytes()
    )
    remember(out_dir, written)
    return BuildReport(
        files=tuple(files),
        redirects=tuple(redirects),
        written=len(changed),
        unchanged=len(entries) - len(changed),
        removed=len(gone),
        bytes=sum(entry.size for entry in entries.values()),
        seconds=time.perf_counter() - started,
        out_dir=out_dir,
        rendered=len(render),
        full=False,
        changed=_changed(entries, usable),
        gone=frozenset(gone),
    )


def _changed(entries: dict[str, Entry], usable: dict[str, Entry]) -> dict[str, Entry]:
    """Return the entries that differ from the previous build's (a kept one is the very same
    object, which is cheaper to tell than comparing every field)."""
    return {
        name: entry
        for name, entry in entries.items()
        if (before := usable.get(name)) is not entry and before != entry
    }
