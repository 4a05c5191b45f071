"""Static export: the served app, frozen.

Every URL (listed from the map of the publication, see listing.py) is requested from the app
itself, through the same HTTP edge that serves it, so each file is byte-identical to the body
the server sends. The export is built in a folder beside the target and swapped in at the end;
a file whose bytes did not change keeps its inode and mtime (hard-linked from the previous
export), so rsync and object-store syncs move only what changed. Any response other than 200,
two URLs for one file, a path leaving the folder, or a media type that its file name would
misrepresent aborts the build and leaves the previous export untouched.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from feedsvc.config import Settings
from feedsvc.deploy import Exported, deploy_files
from feedsvc.export.listing import site_paths
from feedsvc.export.names import DEPLOY_FILES, BuildError, check_names, file_name
from feedsvc.export.runner import run
from feedsvc.export.tree import LOCK_WAIT, TreeWriter, count_removed, exclusive, swap

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["BuildError", "BuildReport", "Exported", "build", "file_name"]


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
    settings: Settings = app.config["FEEDSVC"]
    out_dir = out_dir.resolve()
    paths, redirects = site_paths(settings)
    paths += list(include)
    check_names(paths, redirects, DEPLOY_FILES)
    if on_total is not None:
        on_total(len(paths) + len(redirects))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(out_dir, wait):
        old_root = out_dir if out_dir.is_dir() else None
        new_root = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.build-", dir=out_dir.parent))
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
            files = [item for chunk in chunks for item in chunk.files]
            writer = TreeWriter(new_root, old_root)
            site_url = settings.site.url
            # A static host cannot answer 301: an old slug becomes a page that redirects.
            template = app.jinja_env.get_template("redirect.html")
            for old, new in redirects:
                writer.write(file_name(old), template.render(target=site_url + new).encode("utf-8"))
                if progress is not None:
                    progress(1)
            extra = deploy_files(files, redirects, site_url=site_url, root=str(out_dir))
            for name, body in extra.items():
                writer.write(name, body)
            written = {name for chunk in chunks for name in chunk.names} | set(writer.names)
            removed = count_removed(old_root, written)
            swap(new_root, out_dir)
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
