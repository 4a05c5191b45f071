"""Where the dates of an article the catalog does not hold yet come from, in order.

1. its front matter (`date`, `updated`: the writer reads those from the article itself);
2. the record of what the deployed site published (what readers were already shown);
3. the git history of the articles folder (the commit that added the file, the last one that
   changed it);
4. the time the file is first seen.

The record comes before git: a history can be rewritten, and readers hold what was shown.
Once the catalog records a date it never moves; an edit's `updated` only moves forward. Every
date is recorded as a whole second no other article holds: two articles the sources give the
same second (files added by one commit, one front-matter date) are pushed forward one second
at a time in the order they take their places (`Dating.order`; see catalog/times.py).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

from feedsvc.articles.history import FileDates, History, HistoryError, ShallowHistory, read_history
from feedsvc.catalog.deployed import Adopted, DeployedRecord
from feedsvc.catalog.schema import format_time, parse_time

log = logging.getLogger(__name__)
_NO_RECORD: Mapping[str, Adopted] = {}


class Dating:
    """The sources of dates for one ingest: the deployed record and the folder's history.

    The history is read on first need (a rescan with no new or edited file never needs it).
    """

    def __init__(
        self, folder: Path | None = None, *, git: bool = True, record: DeployedRecord | None = None
    ) -> None:
        self._folder = folder if git else None
        self._history: History | None = None
        self._read = False
        self.record = record
        self._adopted = record.articles if record is not None else _NO_RECORD

    def history(self) -> History | None:
        """Return the folder's git history (None: no git, or not asked to use it)."""
        if not self._read and self._folder is not None:
            self._history = read_history(self._folder)
        self._read = True
        return self._history

    def adopted(self, key: str) -> Adopted | None:
        """Return how the deployed site published the article `key` (None: it did not)."""
        return self._adopted.get(key)

    def git(self, key: str) -> FileDates | None:
        """Return the git dates of the article `key`'s file (None: none)."""
        history = self.history()
        return history.dates(key + ".txt") if history is not None else None

    def first_key(self, key: str) -> str:
        """Return the key the article was first committed under (its id is minted from it, as
        the catalog that saw it renamed did); `key` itself where the history cannot tell."""
        try:
            dates = self.git(key)
        except HistoryError:
            return key  # a shallow or unreadable history: said when a date needs it
        return dates.first_name.removesuffix(".txt") if dates is not None else key

    def order(self, key: str) -> tuple[int, int, str, str]:
        """Return where a new article goes in first-publication order: the record's
        articles in their places, then the others by the date git has, then by key."""
        adopted = self.adopted(key)
        if adopted is not None:
            return (0, adopted.place, "", key)
        try:
            dates = self.git(key)
        except HistoryError:
            dates = None  # said when (and only if) a date is taken from it
        return (1, 0, dates.published.isoformat() if dates else "~", key)

    def first_date(self) -> datetime | None:
        """Return the date of the first commit of the articles' history (None: no history)."""
        history = self.history()
        return history.first() if history is not None else None


SOURCES = ("front matter", "deployed record", "git", "first seen")


def date_sources(
    keys: Iterable[str], dated: Collection[str], dating: Dating
) -> tuple[dict[str, int], list[str]]:
    """Return how many of `keys` a build with no catalog would date from each source, and
    the keys git would date if the history were not shallow (they stop a build)."""
    counts = dict.fromkeys(SOURCES, 0)
    shallow: list[str] = []
    for key in keys:
        if key in dated:
            source = "front matter"
        elif dating.adopted(key) is not None:
            source = "deployed record"
        else:
            try:
                source = "git" if dating.git(key) is not None else "first seen"
            except ShallowHistory:
                shallow.append(key)
                continue
        counts[source] += 1
    return counts, shallow


_behind = False  # whether this process last saw the clock behind the catalog


def forward(moment: datetime, last_change: str | None) -> datetime:
    """Return the moment this ingest dates what it sees by: the clock's, unless the clock is
    behind the last change the catalog recorded (an NTP step, a restored VM); then just after
    it, so a change always moves dates, Last-Modified and the feeds' order forward."""
    global _behind
    if last_change is None or format_time(moment) >= last_change:
        _behind = False
        return moment
    if not _behind:
        _behind = True
        log.warning(
            "the clock (%s) is behind the last change the catalog recorded (%s): dating "
            "changes from there until the clock catches up (check the time service, NTP)",
            format_time(moment),
            last_change,
        )
    return parse_time(last_change) + timedelta(microseconds=1)
