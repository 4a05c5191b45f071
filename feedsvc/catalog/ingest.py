"""Bring the catalog in line with the seeds folder: the catalog's only writer.

One ingest lists the folder (folder.py), reads only the files that changed (and checks their
images, keeping accepted ones in the image store beside the catalog: images.py), plans what
that means for the catalog (reconcile.py, pure) and carries the plan out in one transaction
(catalog/writer.py), then reports. A refused image is reported among the rejected files; its
article is published with its preview card.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedsvc.articles.image_signature import Read, current_sig, sidecar_of, split_sig
from feedsvc.articles.images import store_dir
from feedsvc.articles.problems import HINTS, Rejected
from feedsvc.articles.seeds_folder import (
    DEFAULT_MAX_BYTES,
    PARALLEL_FROM,
    Listed,
    check_folder,
    key_of,
    listing,
    read_all,
    read_article,
    scan,
)
from feedsvc.articles.settling import Settle
from feedsvc.catalog import Catalog
from feedsvc.catalog.apply import Apply
from feedsvc.catalog.dating import Dating, forward
from feedsvc.catalog.identity import mint
from feedsvc.catalog.ingest_plan import (
    Add,
    Brief,
    Catalogued,
    Change,
    Pending,
    Reject,
    Remove,
    Rename,
    Seen,
    Step,
    Stored,
    Touch,
    Unchanged,
    must_read,
    sections,
    steps,
)
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


class _Folder:
    """The folder's files sorted out before any is read, in name order: what is known
    without reading (problems, pending and unchanged files) and the files to read."""

    def __init__(
        self,
        listed: Iterable[Listed],
        briefs: Mapping[str, Brief],
        settle: Settle | None,
        seeds_dir: Path,
        dating: Dating,
    ) -> None:
        self.present: set[str] = set()
        self.known: list[Seen] = []  # problems and pending files (few)
        self.unchanged: list[str] = []  # keys only: a rescan has 100,000
        # key, path, signature, the image beside the article (as listed)
        self.to_read: list[tuple[str, str, str, str | None]] = []
        self.settle_in: float | None = None  # seconds until the first pending file settles
        self.image_problems: list[Rejected] = []  # images refused (their articles are not)
        for key, path, listed_sig, mtime_ns in listed:
            self.present.add(key)
            if isinstance(listed_sig, Rejected):
                self.known.append(Seen(key, None, listed_sig))
                continue
            brief = briefs.get(key)
            sig = current_sig(listed_sig, brief.file_sig if brief else None, seeds_dir)
            if not must_read(sig, brief):
                self.unchanged.append(key)
            elif (wait := settle.remaining(path, sig, mtime_ns) if settle else 0.0) > 0:
                self.known.append(Seen(key, sig, "pending"))
                self._later(wait)
            else:
                self.to_read.append((key, path, sig, sidecar_of(listed_sig)))
        # A file must stay gone for the settle time before its article is withdrawn.
        self.held: set[str] = set()
        if settle is not None:
            settle.found(self.present)
            for key, brief in briefs.items():
                gone = brief.removed is None and key not in self.present
                if gone and (wait := settle.gone(key)) > 0:
                    self.held.add(key)
                    self._later(wait)
        if any(key not in briefs for key, *_ in self.to_read):
            # New articles take their places in the order they were first published.
            self.to_read.sort(key=lambda item: dating.order(item[0]))

    def _later(self, wait: float) -> None:
        """Note that something settles in `wait` seconds (the writer comes back then)."""
        self.settle_in = wait if self.settle_in is None else min(self.settle_in, wait)

    def files(self, max_bytes: int, beat: Callable[[], None], store: Path) -> Iterator[Seen]:
        """Yield the problems and pending files, then each file to read as it is read (its
        signature ending with its image's as it was read)."""
        yield from self.known
        beat()
        outcomes = read_all(
            [path for _key, path, _sig, _side in self.to_read],
            max_bytes,
            sidecars=[side for _key, _path, _sig, side in self.to_read],
            store=store,
        )
        for number, ((key, _path, sig, _side), outcome) in enumerate(
            zip(self.to_read, outcomes, strict=True)
        ):
            if number % 1000 == 999:
                beat()
            if isinstance(outcome, Read):
                if outcome.problem is not None:
                    self.image_problems.append(outcome.problem)
                yield Seen(key, split_sig(sig)[0] + outcome.image_sig, outcome.article)
            else:
                yield Seen(key, sig, outcome)


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
) -> IngestReport:
    """Bring the catalog in line with the seeds folder in one transaction; return the report.

    A file whose size, modification time, inode and mode are as last seen is not read again.
    A file still being written (see Settle) is left for a later ingest. A new file with the
    content of one that is gone (or was withdrawn) is that article, renamed. A file that was
    published and is now broken keeps its last good version. A new catalog takes `identity`
    (or one minted from `site_host`) as the source of its ids. `dating` says where the dates
    of new articles come from (catalog/dating.py); without it, from `now`. `progress` is
    called now and then during a long ingest (the writer's heartbeat).
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    dating = dating or Dating()
    listed = listing(seeds_dir)
    tally = _Tally()
    with write(catalog) as batch:
        made = batch.identity(lambda: identity or mint(site_host, moment))
        apply = Apply(batch, forward(moment, catalog.meta("changed")), made, dating)
        briefs = batch.briefs()
        folder = _Folder(listed, briefs, settle, seeds_dir, dating)
        absent = batch.rows(key for key in briefs if key not in folder.present)
        files = folder.files(max_bytes, progress or (lambda: None), store_dir(catalog.path))
        state = Catalogued(briefs, absent, _StoredRows(batch))
        for step in steps(files, state, unchanged=folder.unchanged, hold=folder.held):
            apply(step)
            tally.count(step)
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
