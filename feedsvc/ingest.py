"""Scan the seeds folder and bring the catalog up to date: the catalog's only writer."""

from __future__ import annotations

import itertools
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from feedsvc.articles import Article, parse_article, slug_for
from feedsvc.catalog import Catalog, format_time
from feedsvc.errors import ArticleError

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Rejected:
    """A file that was not published, and why."""

    path: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What one ingest did, by article key."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    rejected: tuple[Rejected, ...] = field(default=())

    @property
    def changed_anything(self) -> bool:
        """Return whether what is published changed."""
        return bool(self.added or self.changed or self.removed)


def _ignored(name: str) -> bool:
    # Hidden files, editor backups and lock files are never articles.
    return name.startswith((".", "#", "~")) or name.endswith(("~", ".swp", ".tmp"))


def scan(seeds_dir: Path) -> list[Path]:
    """Return the article files of the seeds folder, sorted by name."""
    try:
        names = sorted(os.listdir(seeds_dir))
    except OSError as exc:
        raise ArticleError(str(seeds_dir), "seeds-unreadable", exc.strerror or str(exc)) from exc
    return [seeds_dir / name for name in names if name.endswith(".txt") and not _ignored(name)]


def read_article(path: Path) -> Article:
    """Read and parse one article file, raising ArticleError with its path and reason."""
    source = str(path)
    try:
        if path.is_symlink() and not path.resolve().is_relative_to(path.parent.resolve()):
            raise ArticleError(
                source, "symlink-outside", "is a link to a file outside the seeds folder"
            )
        if not path.is_file():
            raise ArticleError(source, "not-a-file", "is not a regular file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ArticleError(
                source, "too-large", f"is {size} bytes, over the limit of {MAX_FILE_BYTES}"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise ArticleError(source, "vanished", "disappeared while it was being read") from None
    except OSError as exc:
        raise ArticleError(source, "unreadable", exc.strerror or str(exc)) from None
    return parse_article(data, source=source, key=path.name.removesuffix(".txt"))


def _unique_slug(title: str, key: str, taken: dict[str, str]) -> str:
    base = slug_for(title)
    slug, number = base, 1
    while taken.get(slug, key) != key:
        number += 1
        slug = f"{base}-{number}"
    return slug


def ingest(
    catalog: Catalog, seeds_dir: Path, *, site_host: str, now: datetime | None = None
) -> IngestReport:
    """Bring the catalog in line with the seeds folder in one transaction; return the report."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    stamp = format_time(moment)
    # Articles added or changed together get successive microseconds, in file-name order:
    # no two entries share a timestamp and the order readers see is explicit in the data.
    ticks = (format_time(moment + timedelta(microseconds=n)) for n in itertools.count())
    parsed: list[Article] = []
    rejected: list[Rejected] = []
    for path in scan(seeds_dir):
        try:
            parsed.append(read_article(path))
        except ArticleError as exc:
            log.warning("rejected %s: %s [%s]", exc.source, exc.reason, exc.code)
            rejected.append(Rejected(exc.source, exc.code, exc.reason))

    added: list[str] = []
    changed: list[str] = []
    unchanged: list[str] = []
    removed: list[str] = []
    with catalog.transaction() as db:
        tag_base = catalog.ensure_tag_base(db, site_host, moment)
        rows = catalog.all_rows()
        taken = catalog.taken_slugs()
        for article in parsed:
            row = rows.get(article.key)
            if (
                row is not None
                and row["removed"] is None
                and row["content_hash"] == article.content_hash
            ):
                unchanged.append(article.key)
                continue
            slug = row["slug"] if row is not None and row["title"] == article.title else None
            if slug is None:
                slug = _unique_slug(article.title, article.key, taken)
                taken[slug] = article.key
            values = {
                "key": article.key,
                "slug": slug,
                "section": article.section,
                "section_slug": slug_for(article.section, fallback="section"),
                "title": article.title,
                "paragraphs": json.dumps(list(article.paragraphs), ensure_ascii=False),
                "content_hash": article.content_hash,
                "updated": next(ticks),
            }
            if row is None:
                db.execute(
                    "INSERT INTO articles (key, entry_id, slug, section, section_slug, title, "
                    "paragraphs, content_hash, published, updated, seq) VALUES (:key, :entry_id, "
                    ":slug, :section, :section_slug, :title, :paragraphs, :content_hash, "
                    ":updated, :updated, (SELECT coalesce(max(seq), 0) + 1 FROM articles))",
                    {**values, "entry_id": f"tag:{tag_base}:{quote(article.key, safe='')}"},
                )
                added.append(article.key)
                continue
            if row["slug"] != slug:
                db.execute("DELETE FROM slug_aliases WHERE slug = ?", (slug,))
                db.execute(
                    "INSERT OR REPLACE INTO slug_aliases (slug, key) VALUES (?, ?)",
                    (row["slug"], article.key),
                )
            if row["content_hash"] == article.content_hash:
                values["updated"] = row["updated"]  # restored unchanged: keep its dates
            db.execute(
                "UPDATE articles SET slug = :slug, section = :section, section_slug = "
                ":section_slug, title = :title, paragraphs = :paragraphs, content_hash = "
                ":content_hash, updated = :updated, removed = NULL WHERE key = :key",
                values,
            )
            changed.append(article.key)
        # A file that is gone is withdrawn; one that is now broken keeps its last good version.
        present = {article.key for article in parsed} | {
            Path(item.path).name.removesuffix(".txt") for item in rejected
        }
        for key, row in sorted(rows.items()):
            if row["removed"] is None and key not in present:
                db.execute("UPDATE articles SET removed = ? WHERE key = ?", (stamp, key))
                removed.append(key)
        report = IngestReport(
            tuple(added), tuple(changed), tuple(unchanged), tuple(removed), tuple(rejected)
        )
        if report.changed_anything or catalog.meta("changed") is None:
            catalog.bump_generation(db, stamp)
    return report
