"""A tally and the followers in, the estimate out: per feed and per day, and for the last day.

A feed's subscribers on a day are the sum, over the web readers that polled it, of the largest
count each said that day (a service naming the feed by its own feed id counts once, whichever
URL it polled), plus what WebSub hubs said, plus the distinct readers that polled it from their
own address. The total adds the fediverse followers. Someone subscribed to two feeds (or with
two apps) counts twice: it is an estimate of subscriptions, as every web reader's own is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from feedsvc.stats.followers import Follows
from feedsvc.stats.tally import Tally


@dataclass(frozen=True, slots=True)
class FeedStats:
    """One feed: its subscribers each day, and who they were on the last day."""

    path: str
    daily: tuple[int, ...]
    web: int  # said by web readers, the last day
    websub: int  # said by WebSub hubs
    readers: int  # distinct readers polling from their own address
    services: Mapping[str, int]
    apps: Mapping[str, int]

    @property
    def subscribers(self) -> int:
        """Return the estimate for the last day."""
        return self.daily[-1] if self.daily else 0


@dataclass(frozen=True, slots=True)
class Report:
    """What `feedsvc stats` says."""

    days: tuple[str, ...]
    feeds: tuple[FeedStats, ...]  # most subscribers first
    followers: Mapping[str, int]  # actor path -> fediverse followers, the last day
    followers_daily: tuple[int, ...]
    daily: tuple[int, ...]  # the total each day
    shares: tuple[tuple[str, int], ...]  # reader app or service -> subscribers, the last day
    lines: int
    counted: int
    skipped: Mapping[str, int]
    ignored: Mapping[str, int]

    @property
    def total(self) -> int:
        """Return the estimate of every subscription for the last day."""
        return self.daily[-1] if self.daily else 0


def build(tally: Tally, follows: Follows | None = None, since: int | None = None) -> Report:
    """Return the estimate from a tally; `since`: only the last that many days of the logs."""
    days = sorted(tally.days)
    if since is not None and days:
        first = (date.fromisoformat(days[-1]) - timedelta(days=since - 1)).isoformat()
        days = [day for day in days if day >= first]
    per_day = [_day_figures(tally, day) for day in days]
    paths = sorted({path for figures in per_day for path in figures})
    feeds = []
    for path in paths:
        daily = tuple(figures[path][0] if path in figures else 0 for figures in per_day)
        last = per_day[-1].get(path, (0, 0, 0, 0, Counter(), Counter()))
        _, web, websub, readers, services, apps = last
        feeds.append(FeedStats(path, daily, web, websub, readers, services, apps))
    feeds.sort(key=lambda feed: (-feed.subscribers, feed.path))
    followers_daily = tuple(_followers_on(follows, day) for day in days)
    followers = Counter(
        path
        for path, moment in (follows.since if follows else ())
        if days and moment < _end(days[-1])
    )
    daily = tuple(
        sum(feed.daily[n] for feed in feeds) + followers_daily[n] for n in range(len(days))
    )
    shares: Counter[str] = Counter()
    for feed in feeds:
        shares.update(feed.services)
        shares.update(feed.apps)
    if followers_daily and followers_daily[-1]:
        shares["Fediverse (ActivityPub)"] += followers_daily[-1]
    skipped = Counter(tally.skipped)
    if follows is not None and follows.problem:
        skipped[f"federation store not read: {follows.problem}"] += 1
    return Report(
        days=tuple(days),
        feeds=tuple(feeds),
        followers=dict(followers),
        followers_daily=followers_daily,
        daily=daily,
        shares=tuple(sorted(shares.items(), key=lambda item: (-item[1], item[0]))),
        lines=tally.lines,
        counted=tally.counted,
        skipped=dict(skipped),
        ignored=dict(tally.ignored),
    )


_Figures = tuple[int, int, int, int, Counter[str], Counter[str]]


def _day_figures(tally: Tally, day: str) -> dict[str, _Figures]:
    """Return each polled feed's (subscribers, web, websub, readers, services, apps) on a day."""
    record = tally.days[day]
    said: dict[str, Counter[str]] = {}
    hubs: dict[str, Counter[str]] = {}
    for (kind, name, _), (count, path) in record.services.items():
        (hubs if kind == "hub" else said).setdefault(path, Counter())[name] += count
    figures: dict[str, _Figures] = {}
    for path in {*said, *hubs, *record.readers}:
        services = said.get(path, Counter())
        via_hub = hubs.get(path, Counter())
        apps = Counter(record.readers.get(path, {}).values())
        web, websub, readers = services.total(), via_hub.total(), apps.total()
        named = services + Counter({f"{name} (WebSub)": n for name, n in via_hub.items()})
        figures[path] = (web + websub + readers, web, websub, readers, named, apps)
    return figures


def _end(day: str) -> float:
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return (start + timedelta(days=1)).timestamp()


def _followers_on(follows: Follows | None, day: str) -> int:
    if follows is None:
        return 0
    end = _end(day)
    return sum(1 for _, moment in follows.since if moment < end)


def as_json(report: Report) -> dict[str, Any]:
    """Return the report as `feedsvc stats --json` prints it."""
    total = report.total
    return {
        "days": list(report.days),
        "feeds": {
            feed.path: {
                "subscribers": feed.subscribers,
                "web": feed.web,
                "websub": feed.websub,
                "readers": feed.readers,
                "services": dict(sorted(feed.services.items())),
                "apps": dict(sorted(feed.apps.items())),
                "daily": list(feed.daily),
            }
            for feed in report.feeds
        },
        "fediverse": {
            "followers": report.followers_daily[-1] if report.followers_daily else 0,
            "actors": dict(sorted(report.followers.items())),
            "daily": list(report.followers_daily),
        },
        "total": total,
        "daily": list(report.daily),
        "shares": {
            name: {"subscribers": n, "share": round(n / total, 4) if total else 0.0}
            for name, n in report.shares
        },
        "lines": {"read": report.lines, "counted": report.counted},
        "skipped": dict(sorted(report.skipped.items())),
        "ignored": dict(sorted(report.ignored.items())),
    }
