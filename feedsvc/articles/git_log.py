"""Article file dates from `git log --name-status -z` output: pure, bytes in, dates out
(history.py runs git and keeps what it read)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class FileDates:
    """What the history says of one article file."""

    published: datetime  # the commit that added it (following renames)
    updated: datetime | None  # the last commit that changed it; None: uncommitted changes
    first_name: str  # the name it was added under (a renamed article keeps its first id)


def _when(seconds: bytes) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC)


LOG_ARGS = (
    "log", "--first-parent", "--diff-merges=first-parent", "-M", "--name-status", "-z",
    "--no-color", "--no-ext-diff", "--no-textconv", "--format=%x01%at", "--reverse",
)  # fmt: skip


def _article_name(path: bytes, prefix: bytes) -> str | None:
    """Return the file name of a top-level article file of the folder, else None."""
    if not path.startswith(prefix):
        return None
    name = path[len(prefix) :]
    if b"/" in name or not name.endswith(b".txt"):
        return None
    return os.fsdecode(name)


def dates_of(
    log: bytes,
    folder_prefix: str,
    before: dict[str, FileDates] | None = None,
    first: datetime | None = None,
) -> tuple[dict[str, FileDates], datetime | None]:
    """Return the dates of each article file from `git log -z --name-status` (oldest first),
    carrying on from the dates `before` it."""
    prefix = os.fsencode(folder_prefix)
    files = dict(before or {})
    when: datetime | None = None
    tokens = iter(log.split(b"\0"))
    for token in tokens:
        if token.startswith(b"\x01"):
            when = _when(token[1:])
            first = first or when
            continue
        status = token.lstrip(b"\n")
        if not status or when is None:
            continue
        kind = status[:1]
        if kind in b"RC":
            old = _article_name(next(tokens, b""), prefix)
            new = _article_name(next(tokens, b""), prefix)
            moved = files.pop(old, None) if old is not None and kind == b"R" else None
            if new is not None:
                files[new] = (
                    FileDates(moved.published, moved.updated if status[1:] == b"100" else when,
                              moved.first_name)
                    if moved is not None
                    else FileDates(when, when, new)
                )  # fmt: skip
            continue
        name = _article_name(next(tokens, b""), prefix)
        if name is None:
            continue
        if kind == b"D":
            files.pop(name, None)
        elif kind == b"A" or name not in files:
            files[name] = FileDates(when, when, name)
        else:
            files[name] = FileDates(files[name].published, when, files[name].first_name)
    return files, first


def uncommitted(status: bytes, folder_prefix: str) -> list[str]:
    """Return the article files `git status -z` names (changed, staged or untracked)."""
    prefix = os.fsencode(folder_prefix)  # porcelain paths start at the top of the work tree
    found = (_article_name(entry[3:], prefix) for entry in status.split(b"\0") if len(entry) > 3)
    return [name for name in found if name is not None]
