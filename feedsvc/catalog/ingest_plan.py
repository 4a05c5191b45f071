"""Decide what an ingest writes: the folder's state against the catalog's, as a plan (pure).

No I/O and no clock: the plan names what happens to each article (add, change, rename,
touch, remove; reject, unchanged, pending) and the writer (catalog/writer.py) carries it out,
minting the ids, slugs and dates. The steps come one at a time, in the order they are to be
applied, so a caller holds one parsed article at a time, never 100,000 of them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from feedsvc.articles.problems import Rejected
from feedsvc.articles.text_format import Article, slug_for

# What became of one file of the folder: it was read (an Article, or why not), or it needs no
# reading (its signature is as stored), or it is still being written.
Outcome = Article | Rejected | Literal["unchanged", "pending"]


class Seen(NamedTuple):
    """One article file of the folder: its key, signature and outcome."""

    key: str
    sig: str | None  # None: the file could not even be looked at (a Rejected outcome)
    outcome: Outcome


class Brief(NamedTuple):
    """What a rescan compares a file against before reading it (one stored row)."""

    file_sig: str | None
    removed: str | None


@dataclass(frozen=True, slots=True)
class Stored:
    """One article row of the catalog, removed ones too (field names are column names)."""

    key: str
    slug: str
    title: str
    section_slug: str
    content_hash: str
    file_sig: str | None
    published: str
    updated: str
    removed: str | None


@dataclass(frozen=True, slots=True)
class Catalogued:
    """The catalog's state as a plan needs it.

    Every row in brief; in full, the rows whose file is absent (gone or withdrawn: rename
    candidates) and the rows of files that were read (`rows` may fetch them when asked).
    """

    briefs: Mapping[str, Brief]
    absent: Mapping[str, Stored]
    rows: Mapping[str, Stored]

    @classmethod
    def of(cls, rows: Iterable[Stored], present: Iterable[str]) -> Catalogued:
        """Return the state of a catalog holding `rows` against a folder of `present` keys."""
        stored = {row.key: row for row in rows}
        here = set(present)
        return cls(
            briefs={key: Brief(row.file_sig, row.removed) for key, row in stored.items()},
            absent={key: row for key, row in stored.items() if key not in here},
            rows=stored,
        )


@dataclass(frozen=True, slots=True)
class _Read:
    """A step that writes a file's parsed article (and its signature) under the file's key."""

    article: Article
    sig: str

    @property
    def key(self) -> str:
        """Return the article's key (for a Rename, the new one)."""
        return self.article.key


@dataclass(frozen=True, slots=True)
class Add(_Read):
    """A new article: it gets a new id, slug and dates."""


@dataclass(frozen=True, slots=True)
class Change(_Read):
    """New content for a stored article, or a withdrawn one back: same id and published."""

    row: Stored


@dataclass(frozen=True, slots=True)
class Rename(_Read):
    """A stored article's content under a new file name: same id, dates and slug."""

    old: Stored  # the row, under its old key


@dataclass(frozen=True, slots=True)
class Touch:
    """A file touched but not changed: only its signature is remembered."""

    key: str
    sig: str


@dataclass(frozen=True, slots=True)
class Remove:
    """An article whose file is gone: it is withdrawn (a tombstone for a while)."""

    row: Stored

    @property
    def key(self) -> str:
        """Return the article's key."""
        return self.row.key


@dataclass(frozen=True, slots=True)
class Reject:
    """A file that cannot be published; a stored version of it stays as it is."""

    key: str
    problem: Rejected


@dataclass(frozen=True, slots=True)
class Unchanged:
    """The files whose signature is as stored: not read, nothing to write.

    One step for all of them, the last but the removals: a rescan has 100,000 of them.
    """

    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Pending:
    """A file still being written: left for a later ingest, and still present meanwhile."""

    key: str


Step = Add | Change | Rename | Touch | Remove | Reject | Unchanged | Pending


def section_slug(article: Article) -> str:
    """Return the slug of the section an article is filed under."""
    return slug_for(article.section, fallback="section")


def sections(step: Step) -> tuple[str, ...]:
    """Return the slugs of the sections whose lists and feeds a step changes."""
    if isinstance(step, Add):
        return (section_slug(step.article),)
    if isinstance(step, Change):
        return (section_slug(step.article), step.row.section_slug)
    if isinstance(step, Rename):
        return (section_slug(step.article), step.old.section_slug)
    if isinstance(step, Remove):
        return (step.row.section_slug,)
    return ()


def must_read(sig: str, brief: Brief | None) -> bool:
    """Return whether a file must be read: it is new, withdrawn, or changed since last read."""
    return brief is None or brief.removed is not None or brief.file_sig != sig


def steps(
    files: Iterable[Seen],
    catalog: Catalogued,
    *,
    unchanged: Sequence[str] = (),
    hold: Collection[str] = (),
) -> Iterator[Step]:
    """Yield the plan for the folder's files against the catalog, step by step.

    Files come in the order their steps are applied (the writer mints slugs and dates in
    that order); what needs no reading first, then what was read, each in file-name order.
    The files not read because their signature is as stored make one Unchanged step; a
    caller may pass their keys as `unchanged` instead of one Seen each (a rescan has 100,000).
    A new file with the content of a row that is gone (or, next, of the latest withdrawn) is
    that article renamed. A broken file changes nothing stored. Rows gone from the folder
    (for the settle time: those in `hold` are still pending),
    and not renamed, are removed last, in key order.
    """
    absent = catalog.absent
    gone = sorted(key for key, row in absent.items() if row.removed is None)
    withdrawn = sorted((row.removed, key) for key, row in absent.items() if row.removed is not None)
    by_hash: dict[str, str] = {}
    for key in [*gone, *(key for _removed, key in reversed(withdrawn))]:
        by_hash.setdefault(absent[key].content_hash, key)
    renamed: set[str] = set()
    same = list(unchanged)
    for seen in files:
        outcome = seen.outcome
        if isinstance(outcome, Rejected):
            yield Reject(seen.key, outcome)
            continue
        if outcome == "unchanged":
            same.append(seen.key)
            continue
        if outcome == "pending":
            yield Pending(seen.key)
            continue
        if seen.sig is None:
            raise ValueError(f"{seen.key}: a file that was read must have a signature")
        if outcome.key not in catalog.briefs:
            old = by_hash.pop(outcome.content_hash, None)
            if old is None:
                yield Add(outcome, seen.sig)
            else:
                renamed.add(old)
                yield Rename(outcome, seen.sig, absent[old])
            continue
        row = catalog.rows[outcome.key]
        if row.removed is None and row.content_hash == outcome.content_hash:
            yield Touch(outcome.key, seen.sig)
        else:
            yield Change(outcome, seen.sig, row)
    if same:
        yield Unchanged(tuple(same))
    for key in gone:
        if key in renamed:
            continue
        # Gone for less than the settle time (`hold`): it may come back as an edit.
        yield Pending(key) if key in hold else Remove(absent[key])


def plan(files: Sequence[Seen], rows: Iterable[Stored]) -> tuple[Step, ...]:
    """Return the whole plan for `files` against a catalog holding `rows`, at once.

    (It holds every parsed article: ingest consumes `steps` instead.)
    """
    return tuple(steps(files, Catalogued.of(rows, (seen.key for seen in files))))
