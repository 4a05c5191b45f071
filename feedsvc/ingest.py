"""Scan the seeds folder and bring the catalog up to date: the catalog's only writer."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedsvc.articles import Article, parse_article, slug_for
from feedsvc.catalog import Catalog, format_time
from feedsvc.catalog.identity import entry_id, mint
from feedsvc.catalog.writer import Batch, Stored, Values, write
from feedsvc.errors import ArticleError

DEFAULT_MAX_BYTES = 1024 * 1024
DEFAULT_TOMBSTONE_DAYS = 30

HINTS = {
    "empty": "Write the section on line 1, the title after a blank line, then paragraphs.",
    "no-section": "Put the article (section, title, paragraphs) after the front matter.",
    "no-title": "Add a blank line and the title after the section line.",
    "no-body": "Add at least one paragraph after the title.",
    "binary": "Only UTF-8 text files are articles: move this file out of the seeds folder.",
    "not-utf8": "Save the file as UTF-8 (most editors have 'Save with encoding').",
    "control-character": "Remove the invisible control character (often pasted from elsewhere).",
    "title-too-long": "Shorten the title; put the rest in the first paragraph.",
    "section-too-long": "Use a short section name such as 'World News'.",
    "too-large": "Split the article, or raise FEEDSVC_MAX_FILE_KB.",
    "front-matter": "Fix the block between the '---' lines (date, updated, author, tags, summary).",
    "unreadable": "Check the file's permissions: feedsvc must be able to read it.",
    "vanished": "It was deleted or renamed while being read; the next scan picks it up.",
    "not-a-file": "Only regular files ending in .txt are articles.",
    "symlink-outside": "Copy the file into the seeds folder instead of linking to it.",
    "seeds-unreadable": "Check FEEDSVC_SEEDS_DIR: the folder must exist and be readable.",
    "invisible-character": "Remove the invisible or direction-changing character from the "
    "title or section (often pasted from elsewhere); it would make the title read differently.",
}


@dataclass(frozen=True, slots=True)
class Rejected:
    """A file that was not published, and why."""

    path: str
    code: str
    reason: str

    @property
    def hint(self) -> str:
        """Return what to do about it."""
        return HINTS.get(self.code, "")


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What one ingest did, by article key."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()
    rejected: tuple[Rejected, ...] = ()
    sections: frozenset[str] = field(default=frozenset())  # slugs of sections that changed
    tombstones_expired: bool = False
    # Files still being written (changed within the settle time): published once they settle.
    pending: tuple[str, ...] = ()
    settle_in: float | None = None  # seconds until the first pending file settles

    @property
    def changed_anything(self) -> bool:
        """Return whether what is published changed."""
        return bool(
            self.added or self.changed or self.removed or self.renamed or self.tombstones_expired
        )


def _ignored(name: str) -> bool:
    # Hidden files, editor backups and lock files are never articles.
    return name.startswith((".", "#", "~")) or name.endswith(("~", ".swp", ".tmp", ".bak"))


def _entries(seeds_dir: Path) -> list[os.DirEntry[str]]:
    """Return the article files of the seeds folder (top level only), sorted by name."""
    try:
        with os.scandir(seeds_dir) as found:
            entries = [e for e in found if e.name.endswith(".txt") and not _ignored(e.name)]
    except OSError as exc:
        raise ArticleError(str(seeds_dir), "seeds-unreadable", exc.strerror or str(exc)) from exc
    return sorted(entries, key=lambda entry: entry.name)


def scan(seeds_dir: Path) -> list[Path]:
    """Return the article files of the seeds folder (top level only), sorted by name."""
    return [Path(entry.path) for entry in _entries(seeds_dir)]


def key_of(path: Path) -> str:
    """Return the article key of a file: its name without '.txt'."""
    return path.name.removesuffix(".txt")


def _inside(path: Path) -> None:
    """Refuse a symbolic link that leads out of the seeds folder."""
    if path.is_symlink() and not path.resolve().is_relative_to(path.parent.resolve()):
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


class Settle:
    """Decides when a changed file has stopped changing, so no reader gets half a file.

    A file is settled once its modification time is `seconds` old. A modification time in the
    future (a clock ahead of this one, on a network share) counts from when this signature
    was first seen instead.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._first_seen: dict[str, tuple[str, float]] = {}

    def remaining(self, path: str, sig: str, mtime_ns: int) -> float:
        """Return how long `path` must stay as it is before it is read (0: now)."""
        if self.seconds <= 0:
            return 0.0
        age = time.time() - mtime_ns / 1e9
        if age >= self.seconds:
            self._first_seen.pop(path, None)
            return 0.0
        if age < 0:
            seen = self._first_seen.get(path)
            if seen is None or seen[0] != sig:
                seen = self._first_seen[path] = (sig, time.monotonic())
            age = time.monotonic() - seen[1]
        return max(0.0, self.seconds - age)


def _read_one(path: str, max_bytes: int) -> Article | Rejected:
    """Read one file for ingest, in this process or a worker; a refusal comes back as data."""
    try:
        return read_article(Path(path), max_bytes=max_bytes)
    except ArticleError as exc:
        return Rejected(exc.source, exc.code, exc.reason)


PARALLEL_FROM = 2000  # files to read before parsing is shared among processes


def _read_all(paths: list[str], max_bytes: int) -> Iterator[Article | Rejected]:
    """Yield each file's Article (or Rejected) in order, parsing in worker processes when
    there are many to read: reading and parsing 100,000 files is most of a cold ingest."""
    jobs = min(os.cpu_count() or 1, 4)
    if len(paths) < PARALLEL_FROM or jobs < 2:
        for path in paths:
            yield _read_one(path, max_bytes)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        yield from pool.map(_read_one, paths, itertools.repeat(max_bytes), chunksize=256)


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


def _unique_slug(title: str, key: str, taken: dict[str, str]) -> str:
    base = slug_for(title)
    slug, number = base, 1
    while taken.get(slug, key) != key:
        number += 1
        slug = f"{base}-{number}"
    taken[slug] = key
    return slug


class _Run:
    """One ingest: the decisions for each file, written through one batch."""

    def __init__(self, batch: Batch, moment: datetime, identity: str) -> None:
        self.batch = batch
        self._taken: dict[str, str] | None = None
        self.identity = identity
        self.ticks = (format_time(moment + timedelta(microseconds=n)) for n in itertools.count())
        self.sections: set[str] = set()

    @property
    def taken(self) -> dict[str, str]:
        """Return the slugs in use, read on first need (a rescan with no change never needs it)."""
        if self._taken is None:
            self._taken = self.batch.taken_slugs()
        return self._taken

    def values(self, article: Article, row: Stored | None, sig: str, *, edited: bool) -> Values:
        front = article.front
        if row is not None and row.title == article.title:
            slug = row.slug
        else:
            slug = _unique_slug(article.title, article.key, self.taken)
        if row is None:
            tick = next(self.ticks)
            published = format_time(front.date) if front.date else tick
            updated = format_time(front.updated) if front.updated else published
        else:
            published = format_time(front.date) if front.date else row.published
            if edited:
                updated = format_time(front.updated) if front.updated else next(self.ticks)
            else:
                updated = row.updated
        section_slug = slug_for(article.section, fallback="section")
        self.sections.add(section_slug)
        return Values(
            key=article.key,
            slug=slug,
            section=article.section,
            section_slug=section_slug,
            title=article.title,
            paragraphs=article.paragraphs,
            content_hash=article.content_hash,
            published=published,
            updated=updated,
            author=front.author,
            tags=front.tags,
            summary=front.summary,
            file_sig=sig,
        )

    def add(self, article: Article, sig: str) -> None:
        self.batch.insert(
            self.values(article, None, sig, edited=True), entry_id(self.identity, article.key)
        )

    def update(self, article: Article, row: Stored, sig: str) -> None:
        edited = row.content_hash != article.content_hash
        values = self.values(article, row, sig, edited=edited)
        if values.slug != row.slug:
            self.batch.keep_alias(row.slug, article.key, values.slug)
        self.sections.add(row.section_slug)
        self.batch.update(values)


def ingest(
    catalog: Catalog,
    seeds_dir: Path,
    *,
    site_host: str = "localhost",
    identity: str | None = None,
    now: datetime | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    tombstone_days: int = DEFAULT_TOMBSTONE_DAYS,
    settle: Settle | None = None,
    progress: Callable[[], None] | None = None,
) -> IngestReport:
    """Bring the catalog in line with the seeds folder in one transaction; return the report.

    A file whose size, modification time, inode and mode are as last seen is not read again.
    A file still being written (see Settle) is left for a later ingest. A new file with the
    content of one that is gone (or was withdrawn) is that article, renamed. A file that was
    published and is now broken keeps its last good version. A new catalog takes `identity`
    (or one minted from `site_host`) as the source of its ids. `progress` is called now and
    then during a long ingest (the writer's heartbeat).
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    stamp = format_time(moment)
    entries = _entries(seeds_dir)
    added: list[str] = []
    changed: list[str] = []
    unchanged: list[str] = []
    removed: list[str] = []
    renamed: list[tuple[str, str]] = []
    rejected: list[Rejected] = []
    pending: list[str] = []
    settle_in: float | None = None
    beat = progress or (lambda: None)
    with write(catalog) as batch:
        run = _Run(batch, moment, batch.identity(lambda: identity or mint(site_host, moment)))
        stored = batch.briefs()
        present = {entry.name.removesuffix(".txt") for entry in entries}
        gone = sorted(k for k, row in stored.items() if row.removed is None and k not in present)
        # Content that vanished under one name may reappear under another: a rename.
        withdrawn = sorted(
            (row.removed, key)
            for key, row in stored.items()
            if row.removed is not None and key not in present
        )
        # Gone first, then the latest withdrawals: the candidates for a rename.
        candidates = [*gone, *(key for _removed, key in reversed(withdrawn))]
        hashes = batch.hashes(candidates)
        by_hash: dict[str, str] = {}
        for key in candidates:
            by_hash.setdefault(hashes[key][0], key)
        to_read: list[tuple[str, str]] = []
        for entry in entries:
            key = entry.name.removesuffix(".txt")
            row = stored.get(key)
            try:
                sig, mtime_ns = file_sig(entry)
            except ArticleError as exc:
                rejected.append(Rejected(exc.source, exc.code, exc.reason))
                continue
            if row is not None and row.removed is None and row.file_sig == sig:
                unchanged.append(key)
                continue
            wait = settle.remaining(entry.path, sig, mtime_ns) if settle else 0.0
            if wait > 0:
                pending.append(key)
                settle_in = wait if settle_in is None else min(settle_in, wait)
            else:
                to_read.append((entry.path, sig))
        beat()
        outcomes = _read_all([path for path, _sig in to_read], max_bytes)
        for number, ((_path, sig), article) in enumerate(zip(to_read, outcomes, strict=True)):
            if number % 1000 == 999:
                beat()
            if isinstance(article, Rejected):
                rejected.append(article)
                continue
            row = stored.get(article.key)
            if row is None and article.content_hash in by_hash:
                old = by_hash.pop(article.content_hash)
                batch.rename(old, article.key)
                renamed.append((old, article.key))
                if old in gone:
                    gone.remove(old)
                run.update(article, batch.stored(article.key), sig)  # renamed just now
                continue
            if row is None:
                run.add(article, sig)
                added.append(article.key)
                continue
            full = batch.stored(article.key)
            if full.removed is None and full.content_hash == article.content_hash:
                batch.set_file_sig(article.key, sig)  # touched, not changed
                unchanged.append(article.key)
            else:
                run.update(article, full, sig)
                changed.append(article.key)
        for key in gone:
            batch.remove(key, stamp)
            run.sections.add(hashes[key][1])
            removed.append(key)
        expired = batch.expire_tombstones(moment - timedelta(days=tombstone_days))
        report = IngestReport(
            added=tuple(added),
            changed=tuple(changed),
            unchanged=tuple(sorted(unchanged)),
            removed=tuple(removed),
            renamed=tuple(renamed),
            rejected=tuple(rejected),
            sections=frozenset(run.sections),
            tombstones_expired=expired,
            pending=tuple(pending),
            settle_in=settle_in,
        )
        if report.changed_anything or catalog.meta("changed") is None:
            batch.bump(stamp)
    return report
