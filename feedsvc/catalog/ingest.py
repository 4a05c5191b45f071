"""Bring the catalog in line with the seeds folder: the catalog's only writer.

One ingest lists the folder (folder.py), reads only the files that changed (and checks their
images, keeping accepted ones in the image store beside the catalog: images.py), plans what
that means for the catalog (reconcile.py, pure) and carries the plan out in one transaction
(catalog/writer.py), then reports. A refused image is reported among the rejected files; its
article is published with its preview card.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedsvc.articles.images import store_dir
from feedsvc.articles.problems import HINTS, Rejected
from feedsvc.articles.seeds_folder import (
    DEFAULT_MAX_BYTES,
    PARALLEL_FROM,
    check_folder,
    key_of,
    listing,
    read_article,
    scan,
)
from feedsvc.articles.settling import Settle
from feedsvc.catalog import Catalog, set_aside
from feedsvc.catalog.apply import Apply
from feedsvc.catalog.dating import Dating, forward
from feedsvc.catalog.folder_scan import FolderScan
from feedsvc.catalog.identity import mint
from feedsvc.catalog.ingest_plan import (
    Add,
    Catalogued,
    Change,
    Pending,
    Reject,
    Remove,
    Rename,
    Step,
    Stored,
    Touch,
    Unchanged,
    sections,
    steps,
)
from feedsvc.catalog.schema import format_time
from feedsvc.catalog.writer import Batch, write

# Also what the CLI, the live writer, keeper and tests import from here (the folder I/O and
# the problems moved to folder.py and problems.py).
__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TOMBSTONE_DAYS",
    "HINTS",
    "PARALLEL_FROM",
    "IngestReport",
    "Rejected",
    "Settle",
    "check_folder",
    "ingest",
    "key_of",
    "read_article",
    "scan",
]

DEFAULT_TOMBSTONE_DAYS = 30


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
    members: frozenset[tuple[str, str]] = field(default=frozenset())  # tags, authors: (kind, slug)
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


class _Tally:
    """What the steps of one ingest did, by key (the steps themselves are not kept)."""

    def __init__(self) -> None:
        self.added: list[str] = []
        self.changed: list[str] = []
        self.unchanged: list[str] = []
        self.removed: list[str] = []
        self.renamed: list[tuple[str, str]] = []
        self.rejected: list[Rejected] = []
        self.pending: list[str] = []
        self.sections: set[str] = set()

    def count(self, step: Step) -> None:
        if isinstance(step, Unchanged):
            self.unchanged.extend(step.keys)
            return
        self.sections.update(sections(step))
        if isinstance(step, Add):
            self.added.append(step.key)
        elif isinstance(step, Change):
            self.changed.append(step.key)
        elif isinstance(step, Rename):
            self.renamed.append((step.old.key, step.key))
        elif isinstance(step, Touch):
            self.unchanged.append(step.key)
        elif isinstance(step, Remove):
            self.removed.append(step.key)
        elif isinstance(step, Reject):
            self.rejected.append(step.problem)
        elif isinstance(step, Pending):
            self.pending.append(step.key)

    def report(
        self,
        *,
        tombstones_expired: bool,
        settle_in: float | None,
        members: frozenset[tuple[str, str]] = frozenset(),
    ) -> IngestReport:
        return IngestReport(
            added=tuple(self.added),
            changed=tuple(self.changed),
            unchanged=tuple(sorted(self.unchanged)),
            removed=tuple(self.removed),
            renamed=tuple(self.renamed),
            rejected=tuple(self.rejected),
            sections=frozenset(self.sections),
            members=members,
            tombstones_expired=tombstones_expired,
            pending=tuple(self.pending),
            settle_in=settle_in,
        )


class _StoredRows(Mapping[str, Stored]):
    """The catalog's article rows by key, each read when a plan asks for it (only the rows
    of files that changed are). Reading while the batch writes is safe: a plan's step for a
    key never depends on what an earlier step wrote under another key."""

    def __init__(self, batch: Batch) -> None:
        self._batch = batch

    def __getitem__(self, key: str) -> Stored:
        return self._batch.stored(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._batch.briefs())

    def __len__(self) -> int:
        return len(self._batch.briefs())


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
    dating: Dating | None = None,
    budget: float | None = None,
) -> IngestReport:
    """Bring the catalog in line with the seeds folder in one transaction; return the report.

    A file whose size, modification time, inode and mode are as last seen is not read again.
    A file still being written (see Settle) is left for a later ingest. A new file with the
    content of one that is gone (or was withdrawn) is that article, renamed. A file that was
    published and is now broken keeps its last good version. A new catalog takes `identity`
    (or one minted from `site_host`) as the source of its ids. `dating` says where the dates
    of new articles come from (catalog/dating.py); without it, from `now`. `progress` is
    called now and then during a long ingest (the writer's heartbeat). With a `budget`
    (seconds), each file is read in a worker process within it; a file that takes longer or
    crashes its reader is set aside (set_aside.py) until it changes.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    dating = dating or Dating()
    listed = listing(seeds_dir)
    tally = _Tally()
    with write(catalog) as batch:
        made = batch.identity(lambda: identity or mint(site_host, moment))
        apply = Apply(batch, forward(moment, catalog.meta("changed")), made, dating)
        briefs = batch.briefs()
        aside = set_aside.load(catalog.connection)
        folder = FolderScan(listed, briefs, settle, seeds_dir, dating, aside)
        absent = batch.rows(key for key in briefs if key not in folder.present)
        store = store_dir(catalog.path)
        files = folder.files(max_bytes, progress or (lambda: None), store, budget)
        state = Catalogued(briefs, absent, _StoredRows(batch))
        for step in steps(files, state, unchanged=folder.unchanged, hold=folder.held):
            apply(step)
            tally.count(step)
        read = {key for key, *_ in folder.to_read}
        set_aside.forget(
            catalog.connection, [key for key in aside if key not in folder.present or key in read]
        )
        set_aside.keep(catalog.connection, folder.poisoned, format_time(moment))
        expired = batch.expire_tombstones(moment - timedelta(days=tombstone_days))
        tally.rejected.extend(folder.image_problems)
        report = tally.report(
            tombstones_expired=expired,
            settle_in=folder.settle_in,
            members=frozenset(batch.touched),
        )
        if report.changed_anything or catalog.meta("changed") is None:
            batch.bump(apply.stamp)
    return report
