"""The catalog's dates: their text form, whole seconds, one second per article.

Every date the catalog records is a whole second. Readers keep no more (RSS has no fractions;
reader, newsboat, Liferea and rss2email drop them from Atom and JSON Feed too) and sort by what
they keep, so no two articles share a `published` second, nor an `updated` one (withdrawn
articles keep theirs, so one that returns never collides). A tie, from one ingest or from two
articles given the same date by front matter, git or the deployed record, is pushed forward
one second at a time, in the order the articles take their places (dating.Dating.order).
Documents write the recorded dates as they are: one date per article, in every document.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

SECOND = timedelta(seconds=1)


def format_time(moment: datetime) -> str:
    """Return the catalog's text form of an aware datetime, in UTC, to the microsecond."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    # Fixed-width text (microseconds always written) so that text order is time order.
    # isoformat, not strftime: %Y writes year 999 as "999" on glibc, which no parser reads back.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> datetime:
    """Return the aware UTC datetime stored as `text`."""
    year, _, rest = text.partition("-")
    if len(year) < 4 and year.isdigit():  # an early year as strftime wrote it before
        text = f"{year:0>4}-{rest}"
    return datetime.fromisoformat(text).astimezone(UTC)


def whole(moment: datetime) -> datetime:
    """Return `moment` without its fraction of a second (never rounded up: never later)."""
    return moment.replace(microsecond=0)


def second_text(moment: datetime) -> str:
    """Return the catalog's text form of the whole second `moment` falls in."""
    return format_time(whole(moment))


def next_second(text: str) -> str:
    """Return the second after the one stored as `text`."""
    return format_time(parse_time(text) + SECOND)


def spread(moments: Iterable[datetime]) -> list[datetime]:
    """Return `moments`, given in publication order, in whole seconds, each later than the one
    before: a tie (or one that would go back) takes the second after its predecessor's."""
    placed: list[datetime] = []
    for moment in moments:
        second = whole(moment)
        if placed and second <= placed[-1]:
            second = placed[-1] + SECOND
        placed.append(second)
    return placed


def distinct_seconds(db: sqlite3.Connection) -> None:
    """Migration: make every article's dates whole seconds, distinct within the publication.

    Each date is cut to its second, then ties are pushed forward one second at a time in
    publication order (the stored order, then first-ingest order): no date moves by more than
    the tie-break needs. `updated` is never before `published`; `removed` is cut alone.
    """
    rows = [
        (parse_time(published), seq, key, parse_time(updated), removed)
        for key, published, updated, removed, seq in db.execute(
            "SELECT key, published, updated, removed, seq FROM articles"
        )
    ]
    rows.sort(key=lambda row: row[:3])
    published = dict(zip((row[2] for row in rows), spread(row[0] for row in rows), strict=True))
    wanted = sorted(
        (max(whole(updated), published[key]), updated, seq, key)
        for _published, seq, key, updated, _removed in rows
    )
    updated = dict(zip((row[3] for row in wanted), spread(row[0] for row in wanted), strict=True))
    db.executemany(
        "UPDATE articles SET published = ?, updated = ?, removed = ? WHERE key = ?",
        [
            (
                format_time(published[key]),
                format_time(updated[key]),
                removed and second_text(parse_time(removed)),
                key,
            )
            for _published, _seq, key, _updated, removed in rows
        ],
    )
    # The writer looks a second up in both (withdrawn articles included) before giving it.
    db.execute("CREATE INDEX IF NOT EXISTS articles_published ON articles (published)")
    db.execute("CREATE INDEX IF NOT EXISTS articles_updated ON articles (updated)")
