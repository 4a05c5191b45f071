"""The seeds folder: which files are articles, their signatures, and reading them (in worker
processes when there are many), each with its image (images.py); when a changed file is whole
is settling.py's to say. Nothing here writes anything but an accepted image's bytes, into the
image store.

An article's signature ends with its image's (article_images.py): editing, replacing, adding
or removing an image re-reads the article. Image files are never articles: only names ending
in .txt are."""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import NamedTuple

from feedsvc.articles.image_signature import Read, image_part, stat_text, with_image
from feedsvc.articles.images import SUFFIXES
from feedsvc.articles.problems import Rejected
from feedsvc.articles.text_format import Article, parse_article
from feedsvc.errors import ArticleError
from feedsvc.support.workers import exit_with_parent

DEFAULT_MAX_BYTES = 1024 * 1024
log = logging.getLogger(__name__)
PARALLEL_FROM = 2000  # files to read before parsing is shared among processes


# One article file as the folder listing shows it, before it is read: its key, path,
# signature (or why it could not even be looked at) and modification time in ns. A plain
# tuple, not a record: a rescan makes 100,000 of them.
Listed = tuple[str, str, str | Rejected, int]
_SIDECAR_ORDER = {suffix: number for number, suffix in enumerate(SUFFIXES)}


def _ignored(name: str) -> bool:
    # Hidden files, editor backups and lock files are never articles.
    return name.startswith((".", "#", "~")) or name.endswith(("~", ".swp", ".tmp", ".bak"))


def _entries(seeds_dir: Path) -> tuple[list[os.DirEntry[str]], dict[str, os.DirEntry[str]]]:
    """Return the article files of the seeds folder (top level only), sorted by name, and
    the image file beside each, by key (.jpg before .jpeg, .png, .webp; then by name)."""
    try:
        with os.scandir(seeds_dir) as found:
            entries = [e for e in found if not _ignored(e.name)]
    except OSError as exc:
        raise ArticleError(str(seeds_dir), "seeds-unreadable", exc.strerror or str(exc)) from exc
    articles = sorted((e for e in entries if e.name.endswith(".txt")), key=lambda e: e.name)
    images: dict[str, os.DirEntry[str]] = {}
    found_images = [(os.path.splitext(e.name), e) for e in entries]
    found_images = [item for item in found_images if item[0][1].lower() in SUFFIXES]
    found_images.sort(key=lambda item: (_SIDECAR_ORDER[item[0][1].lower()], item[1].name))
    for (stem, _suffix), entry in found_images:
        images.setdefault(stem, entry)
    return articles, images


def scan(seeds_dir: Path) -> list[Path]:
    """Return the article files of the seeds folder (top level only), sorted by name."""
    return [Path(entry.path) for entry in _entries(seeds_dir)[0]]


def listing(seeds_dir: Path) -> Iterator[Listed]:
    """Yield every article file of the seeds folder with its signature, sorted by name.

    The folder is listed at once (an unreadable folder raises here); each file is looked at
    as it is yielded. The signature of an article with an image beside it ends with the
    image's, and its time is the newer of the two (a half-copied image is not read either).
    """
    return _look_at(*_entries(seeds_dir))


def _look_at(
    entries: list[os.DirEntry[str]], images: dict[str, os.DirEntry[str]]
) -> Iterator[Listed]:
    for entry in entries:
        key = entry.name.removesuffix(".txt")
        try:
            sig, mtime_ns = file_sig(entry)
        except ArticleError as exc:
            yield key, entry.path, Rejected(exc.source, exc.code, exc.reason), 0
            continue
        image = images.get(key)
        if image is not None:
            image_stat, image_mtime_ns = stat_text(image)
            sig += image_part("side", image.name, image_stat)
            mtime_ns = max(mtime_ns, image_mtime_ns)
        yield key, entry.path, sig, mtime_ns


def key_of(path: Path) -> str:
    """Return the article key of a file: its name without '.txt'."""
    return path.name.removesuffix(".txt")


def _inside(path: Path) -> None:
    """Refuse a symbolic link that leads out of the seeds folder, or nowhere it can follow."""
    if not path.is_symlink():
        return
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError:
        return  # a dangling link: said when it is read ("vanished")
    except (OSError, RuntimeError) as exc:  # ELOOP (RuntimeError before Python 3.13)
        raise ArticleError(
            str(path), "unresolvable", "is a link that cannot be followed (it loops)"
        ) from exc
    if not target.is_relative_to(path.parent.resolve()):
        raise ArticleError(str(path), "symlink-outside", "links to a file outside the seeds folder")


def file_sig(entry: os.DirEntry[str]) -> tuple[str, int]:
    """Return (size, modification time, inode and mode; the modification time in ns).

    The first is a hint that the file may have changed (its mode too: a file that became
    unreadable is reported when it does, not after its next edit). Never a date: dates come
    from the catalog, not from files. (One stat call; the directory listing already says
    whether the entry is a link.)
    """
    if entry.is_symlink():
        _inside(Path(entry.path))
    try:
        status = entry.stat()
    except FileNotFoundError:
        raise ArticleError(entry.path, "vanished", "disappeared while it was being read") from None
    except OSError as exc:
        raise ArticleError(entry.path, "unreadable", exc.strerror or str(exc)) from None
    sig = f"{status.st_size}:{status.st_mtime_ns}:{status.st_ino}:{status.st_mode:o}"
    return sig, status.st_mtime_ns


def read_article(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    """Read and parse one article file, raising ArticleError with its path and reason."""
    source = str(path)
    _inside(path)
    try:
        if path.exists() and not path.is_file():  # a folder, a FIFO, a device: never opened
            raise ArticleError(source, "not-a-file", "is not a regular file")
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise ArticleError(source, "vanished", "disappeared while it was being read") from None
    except OSError as exc:
        raise ArticleError(source, "unreadable", exc.strerror or str(exc)) from None
    if len(data) > max_bytes:
        raise ArticleError(source, "too-large", f"is over the limit of {max_bytes // 1024} KiB")
    return parse_article(data, source=source, key=key_of(path))


def read_one(
    path: str, max_bytes: int, sidecar: str | None = None, store: Path | None = None
) -> Read | Rejected:
    """Read one file and its image, in this process or a worker; a refusal comes back as
    data."""
    try:
        article = read_article(Path(path), max_bytes=max_bytes)
    except ArticleError as exc:
        return Rejected(exc.source, exc.code, exc.reason)
    return with_image(article, Path(path).parent, sidecar, store)


def read_all(
    paths: list[str],
    max_bytes: int,
    *,
    sidecars: Sequence[str | None] | None = None,
    store: Path | None = None,
    budget: float | None = None,
) -> Iterator[Read | Rejected]:
    """Yield each file's Read (or Rejected) in order, parsing in worker processes when
    there are many to read: reading and parsing 100,000 files is most of a cold ingest.
    With a `budget` (seconds), every file is read in a worker process that is stopped when
    one file takes longer (budgeted.py): the file is rejected, the others are read.
    `sidecars` names the image file beside each (None: none); accepted images are kept in
    `store` (None: nowhere, as `feedsvc check` does).

    Lazily: the caller holds one parsed article at a time, never the whole folder. The
    workers exit when this process dies, even by SIGKILL (they would wait for work forever).
    """
    jobs = min(os.cpu_count() or 1, 4)
    sides = list(sidecars) if sidecars is not None else [None] * len(paths)
    if budget is not None and paths:
        from feedsvc.articles.budgeted import Unavailable, reader

        budgeted = reader(read_one, budget)
        try:
            budgeted.start(len(paths))
        except Unavailable as exc:
            log.warning("%s: article files are read in this process, without a time budget", exc)
        else:
            yield from budgeted.read(paths, sides, max_bytes, store)
            return
    if len(paths) < PARALLEL_FROM or jobs < 2:
        for path, side in zip(paths, sides, strict=True):
            yield read_one(path, max_bytes, side, store)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=exit_with_parent
    ) as pool:
        yield from pool.map(
            read_one,
            paths,
            itertools.repeat(max_bytes),
            sides,
            itertools.repeat(store),
            chunksize=256,
        )


def warm_readers(budget: float) -> None:
    """Start the reader processes of a long-running writer now, so the first change it sees
    does not wait for one to start (best effort: reading falls back as read_all says)."""
    from feedsvc.articles.budgeted import Unavailable, reader

    with contextlib.suppress(Unavailable):
        reader(read_one, budget).start(1)


class Checked(NamedTuple):
    """What reading every article file found."""

    files: int  # article files
    problems: list[Rejected]
    keys: tuple[str, ...]  # the articles that can be published
    dated: frozenset[str]  # those of them whose front matter gives their date


def check_folder(seeds_dir: Path, max_bytes: int, budget: float | None = None) -> Checked:
    """Read every article file and its image as ingest would (keeping nothing); return how
    many article files there are, the problems, and which articles carry their own date."""
    articles, images = _entries(seeds_dir)
    paths = [entry.path for entry in articles]
    sides = [
        image.name if (image := images.get(entry.name.removesuffix(".txt"))) else None
        for entry in articles
    ]
    problems: list[Rejected] = []
    keys: list[str] = []
    dated: set[str] = set()
    for outcome in read_all(paths, max_bytes, sidecars=sides, budget=budget):
        if isinstance(outcome, Rejected):
            problems.append(outcome)
            continue
        if outcome.problem is not None:
            problems.append(outcome.problem)
        keys.append(outcome.article.key)
        if outcome.article.front.date is not None:
            dated.add(outcome.article.key)
    return Checked(len(paths), problems, tuple(keys), frozenset(dated))
