"""An existing export brought up to date in place: the changed files, rendered beside it, are
renamed over their old versions one by one in the order of publication, deletions last, under
a journal that lets the next build finish what a killed one began.

Why not a new tree per build: at 10,000 articles, re-linking 54,000 unchanged files and deleting
the retired tree (22,000 folders) cost 21-38 s for a change of 26 URLs; renames cost what the
change costs. Each rename is atomic, so a web server sees every file whole, old or new; the
order means nothing links to a file not yet there; files are deleted only once nothing new
links to them. Versioned folders behind a symlink would need the same re-linking per build.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from feedsvc import urlmap

JOURNAL = ".feedsvc-journal.json"


def rank(path: str, *, redirect: bool = False) -> tuple[int, int]:
    """Return when the file answering a URL path is put in place ("" for the server files):
    by stage of publication (urlmap.stage_of), and within one the deeper paths first (a
    section's page 3 before the section, page 3 before the front page, which link to them)."""
    return urlmap.stage_of(path, redirect=redirect), 0 if redirect else -path.count("/")


def pending(out_dir: Path) -> frozenset[str]:
    """Return the files a killed build was replacing or deleting (none when it finished), and
    remove the journal or manifest it left half-written under a temporary name."""
    for leftover in out_dir.glob(".*.tmp-*"):
        leftover.unlink(missing_ok=True)
    try:
        document = json.loads((out_dir / JOURNAL).read_bytes())
        return frozenset(str(name) for name in [*document["replace"], *document["delete"]])
    except FileNotFoundError:
        return frozenset()
    except (OSError, ValueError, TypeError, KeyError):
        # Written whole then renamed, it cannot be torn; damaged by hand: every file is suspect.
        return frozenset({"*"})


def _write_synced(path: Path, body: bytes) -> None:
    """Write a file whole under a temporary name beside it, fsync it, rename it into place."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(temporary, "wb") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def apply(
    out_dir: Path,
    staging: Path,
    replace: Iterable[tuple[tuple[int, int], str]],
    delete: Iterable[str],
    manifest_name: str,
    manifest_body: bytes,
) -> None:
    """Put the staged files (rank, name) in place in rank order, delete the others, then write
    the manifest; the journal names all of it before anything is touched."""
    ordered = [name for _rank, name in sorted(replace)]
    gone = sorted(delete)
    document = {"replace": ordered, "delete": gone}
    _write_synced(out_dir / JOURNAL, json.dumps(document, separators=(",", ":")).encode())
    made: set[str] = set()
    for name in ordered:
        folder = os.path.dirname(name)
        if folder and folder not in made:
            os.makedirs(out_dir / folder, exist_ok=True)
            made.add(folder)
        os.replace(staging / name, out_dir / name)
    for name in gone:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(out_dir / name)
    _prune(out_dir, gone)
    _write_synced(out_dir / manifest_name, manifest_body)
    os.unlink(out_dir / JOURNAL)


def _prune(out_dir: Path, names: Iterable[str]) -> None:
    """Remove the folders deletions left empty (a full build would not have them)."""
    folders = {os.path.dirname(name) for name in names} - {""}
    for folder in sorted(folders, key=len, reverse=True):
        while folder:
            try:
                os.rmdir(out_dir / folder)
            except OSError:
                break  # not empty (or gone): its parents are not empty either
            folder = os.path.dirname(folder)


def changed(
    out_dir: Path,
    staged: Mapping[str, str],
    previous: Mapping[str, str],
    unfinished: frozenset[str],
) -> list[str]:
    """Return the staged files (name -> MD5) whose bytes the export does not hold already."""
    return [
        name
        for name, md5 in staged.items()
        if name in unfinished or previous.get(name) != md5 or not (out_dir / name).is_file()
    ]
