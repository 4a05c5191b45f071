"""Requesting URLs from the app and writing their bodies: here, or shared among worker
processes (each with its own app over the same catalog and settings)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from feedsvc.config.settings import Settings
from feedsvc.export.names import COMPRESSIBLE, BuildError, check_type, file_name
from feedsvc.export.server_config import Exported
from feedsvc.export.tree import TreeWriter
from feedsvc.support.compress import brotli_bytes, gzip_bytes
from feedsvc.support.workers import exit_with_parent
from feedsvc.web.frozen import Client, WebApp, app_for, settings_of

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
CHUNK = 200  # paths a worker exports per task


@dataclass(frozen=True, slots=True)
class Chunk:
    """What one share of the paths gave."""

    files: list[Exported]
    names: list[str]
    sums: dict[str, tuple[int, str]]
    written: int
    unchanged: int
    bytes: int


def export_paths(
    app: WebApp,
    paths: Sequence[str],
    new_root: Path,
    old_root: Path | None,
    *,
    gzip: bool,
    brotli: bool,
) -> Chunk:
    """Request each path from the app and write its body (and compressed siblings)."""
    writer = TreeWriter(new_root, old_root)
    files: list[Exported] = []
    client = Client(app)
    for path in paths:
        name = file_name(path)
        answer = client.get(path, KEPT_HEADERS)
        if answer.status_code != 200:
            raise BuildError(path, f"answered {answer.status} instead of 200 OK")
        body, media_type, content_type = answer.body, answer.media_type, answer.content_type
        kept = answer.headers
        check_type(path, name, media_type)
        writer.write(name, body)
        if Path(name).suffix in COMPRESSIBLE and len(body) >= 256:
            if gzip:
                writer.write(name + ".gz", gzip_bytes(body))
            if brotli:
                writer.write(name + ".br", brotli_bytes(body))
        files.append(Exported(path, name, media_type, content_type, kept))
    return Chunk(files, writer.names, writer.sums, writer.written, writer.unchanged, writer.bytes)


_WORKER_APP: WebApp | None = None


def _export_in_worker(
    settings: Settings,
    paths: list[str],
    new_root: Path,
    old_root: Path | None,
    gzip: bool,
    brotli: bool,
) -> Chunk:
    """Export a share of the paths in a worker process, with its own app."""
    global _WORKER_APP
    if _WORKER_APP is None:
        _WORKER_APP = app_for(settings)
    return export_paths(_WORKER_APP, paths, new_root, old_root, gzip=gzip, brotli=brotli)


def run(
    app: WebApp,
    paths: list[str],
    new_root: Path,
    old_root: Path | None,
    *,
    gzip: bool,
    brotli: bool,
    jobs: int,
    progress: Callable[[int], None] | None,
) -> list[Chunk]:
    """Export the paths here (jobs=1) or across worker processes, in chunks, in order."""
    parts = [paths[i : i + CHUNK] for i in range(0, len(paths), CHUNK)]
    if jobs <= 1 or len(parts) <= 1:
        chunks = []
        for part in parts:
            chunks.append(export_paths(app, part, new_root, old_root, gzip=gzip, brotli=brotli))
            if progress is not None:
                progress(len(part))
        return chunks
    settings = settings_of(app)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=exit_with_parent
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
