"""Requests in, per day and per feed: what web readers say, and how many distinct readers poll.

No address is kept. A reader is the pair (address, User-Agent) hashed with a salt that is drawn
at random for each day and lives only in this object's memory: the same pair is one reader within
a day, nothing links it to the next day, and the hashes cannot be turned back into addresses
once the run ends (the salts are never written).
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass, field

from feedsvc.stats.agents import MAX_COUNT, Agent, classify
from feedsvc.stats.lines import Hit, LineParser
from feedsvc.urlmap.shapes import FEED_FILENAMES, SCOPE_FOLDERS, feed

POLLED = frozenset((200, 304))  # a feed poll answered: its bytes, or "not modified"
_CACHE_MAX = 100_000  # agents and paths remembered classified
# What a kind of agent that is not counted is summed under.
IGNORED = {
    "crawler": "search engine and social crawlers",
    "browser": "browsers opening a feed",
    "monitor": "monitors",
    "tool": "HTTP tools and scripts (curl, wget, libraries)",
}


@dataclass(slots=True)
class Day:
    """What one day's requests said."""

    # (kind, service, its feed id or else the path) -> (the day's largest count, the path)
    services: dict[tuple[str, str, str], tuple[int, str]] = field(default_factory=dict)
    # path -> reader's daily hash -> the reader app's name
    readers: dict[str, dict[bytes, str]] = field(default_factory=dict)


class Tally:
    """Counts requests into days; says what it skipped and why."""

    def __init__(self, *, max_count: int = MAX_COUNT) -> None:
        self.max_count = max_count
        self.days: dict[str, Day] = {}
        self.lines = 0
        self.counted = 0
        self.skipped: Counter[str] = Counter()  # bad input, by reason
        self.ignored: Counter[str] = Counter()  # good lines that count no subscriber, by reason
        self._agents: dict[str, Agent] = {}
        self._feeds: dict[str, bool] = {}
        self._salts: dict[str, bytes] = {}

    def add_line(self, line: str, parser: LineParser) -> None:
        """Count one log line (or say why not)."""
        self.lines += 1
        hit = parser.parse(line)
        if isinstance(hit, str):
            if hit != "comment":
                self.skipped[hit] += 1
            return
        self.add(hit)

    def add(self, hit: Hit) -> None:
        """Count one request."""
        day = self.days.get(hit.day)
        if day is None:
            day = self.days[hit.day] = Day()
        path = hit.path
        is_feed = self._feeds.get(path)
        if is_feed is None:
            is_feed = _is_feed(path)
            if len(self._feeds) < _CACHE_MAX:
                self._feeds[path] = is_feed
        if not is_feed:
            self.ignored["not a subscription feed"] += 1
            return
        if hit.method not in ("GET", "HEAD") or hit.status not in POLLED:
            self.ignored["feed requests not answered 200 or 304"] += 1
            return
        agent = self._agents.get(hit.agent)
        if agent is None:
            agent = classify(hit.agent, self.max_count)
            if len(self._agents) < _CACHE_MAX:
                self._agents[hit.agent] = agent
        kind = agent.kind
        if kind == "reader":
            salt = self._salts.get(hit.day)
            if salt is None:
                salt = self._salts[hit.day] = secrets.token_bytes(16)
            pair = f"{hit.client}\n{hit.agent}".encode("utf-8", "replace")
            reader = hashlib.blake2b(pair, key=salt, digest_size=8).digest()
            readers = day.readers.get(path)
            if readers is None:
                readers = day.readers[path] = {}
            readers[reader] = agent.name
        elif kind == "service" or kind == "hub":
            key = (kind, agent.name, agent.feed_id or path)
            known = day.services.get(key)
            if known is None:
                day.services[key] = (agent.count, path)
            elif agent.count > known[0]:  # the feed stays where it was first seen that day
                day.services[key] = (agent.count, known[1])
        elif kind == "refused":
            self.skipped[agent.reason] += 1
            return
        else:
            self.ignored[IGNORED[kind]] += 1
            return
        self.counted += 1


def _is_feed(path: str) -> bool:
    """Return whether `path` is a subscription feed (the site's, a section's, a tag's or an
    author's; never an archive block), as the URL map builds them."""
    parts = path.split("/")
    if len(parts) == 3 and parts[2] in FEED_FILENAMES:
        return feed(None, parts[2]) == path
    if len(parts) == 4 and parts[3] in FEED_FILENAMES:
        for kind, folder in SCOPE_FOLDERS.items():
            if parts[1] == folder and parts[2]:
                return feed(parts[2], parts[3], kind=kind) == path
    return False
