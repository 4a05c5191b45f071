"""Who polls: a User-Agent string in, what it is out.

Web readers (Feedly, Inoreader, NewsBlur, Feedbin, The Old Reader, ...) poll once for all their
users and say how many in their agent ("120 subscribers", "37 readers"); WebSub hubs that say
so too are subscriptions made through the hub. Everything else that polls a feed is one reader
(an app on a desktop or phone, or a self-hosted aggregator) unless it is a search or social
crawler, a browser opening the feed, a monitor, or a generic HTTP tool. A claimed count is a
claim: an absurd one is refused with a reason, and one in an agent that is a browser's is taken
for a forgery. The tables below are the one place these names live.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_COUNT = 1_000_000  # subscribers a service may claim for one feed; more is refused
NAME_MAX = 40

# Services that report subscribers, by a word of their agent (checked in order).
SERVICES = (
    ("feedly", "Feedly"),
    ("inoreader", "Inoreader"),
    ("newsblur", "NewsBlur"),
    ("feedbin", "Feedbin"),
    ("theoldreader", "The Old Reader"),
    ("bazqux", "BazQux"),
    ("netvibes", "Netvibes"),
    ("feedspot", "Feedspot"),
    ("g2reader", "G2Reader"),
    ("feedhq", "FeedHQ"),
    ("feedwrangler", "Feed Wrangler"),
    ("bloglovin", "Bloglovin"),
)
HUBS = (("superfeedr", "Superfeedr"), ("pubsubhubbub", "WebSub hub"), ("websub", "WebSub hub"))
# Reader apps whose agent hides behind a browser's or whose token is not their name.
READERS = (
    ("thunderbird", "Thunderbird"),
    ("netnewswire", "NetNewsWire"),
    ("newsboat", "newsboat"),
    ("newsbeuter", "newsboat"),
    ("liferea", "Liferea"),
    ("akregator", "Akregator"),
    ("fluentreader", "Fluent Reader"),
    ("quiterss", "QuiteRSS"),
    ("reeder", "Reeder"),
    ("miniflux", "Miniflux"),
    ("freshrss", "FreshRSS"),
    ("tiny tiny rss", "Tiny Tiny RSS"),
    ("tt-rss", "Tiny Tiny RSS"),
    ("commafeed", "CommaFeed"),
    ("nextcloud-news", "Nextcloud News"),
    ("elfeed", "Elfeed"),
    ("rss2email", "rss2email"),
    ("feeder", "Feeder"),
    ("readkit", "ReadKit"),
    ("vienna", "Vienna"),
    ("newsflash", "NewsFlash"),
    ("feedparser", "feedparser"),
)
_CRAWLER = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|facebookexternalhit|facebookcatalog|embedly|preview|"
    r"whatsapp|telegram|discord|slack|skype|mastodon|pleroma|akkoma|misskey|yandex|baidu|"
    r"semrush|ahrefs|mj12|petalbot|bytespider|ccbot|gptbot|claudebot|perplexity|headless|"
    r"feedfetcher-google|lighthouse|archive\.org|ia_archiver",
    re.IGNORECASE,
)
_MONITOR = re.compile(
    r"uptime|pingdom|statuscake|site24x7|monitor|healthcheck|health-check|kube-probe|"
    r"check_http|blackbox|nagios|zabbix|prometheus|datadog|newrelic|synthetic",
    re.IGNORECASE,
)
_TOOL = re.compile(
    r"^(curl|wget|python-requests|python-urllib|python-httpx|aiohttp|go-http-client|"
    r"okhttp|java/|apache-httpclient|libwww-perl|node-fetch|axios|httpie|powershell|"
    r"guzzlehttp|ruby|faraday|undici)",
    re.IGNORECASE,
)
_BROWSER = re.compile(r"^Mozilla/\d.*(Gecko|Safari|Trident|Chrome|Firefox)", re.IGNORECASE)
_COUNT = re.compile(r"(\d[\d,]*)\s*(?:subscribers?|readers?)\b", re.IGNORECASE)
_FEED_ID = re.compile(
    r"(?:feed-?id[:=]\s*|feedid:\s*|/site/)([\w.-]{1,64})|feed/(\d{1,20})", re.IGNORECASE
)
_TOKEN = re.compile(r"[A-Za-z][\w.+ -]{0,39}?(?=[/;(]| \d|$)")


@dataclass(frozen=True, slots=True)
class Agent:
    """What one User-Agent string is."""

    kind: str  # service, hub, reader, crawler, browser, monitor, tool, refused
    name: str
    count: int = 0  # subscribers a service or hub says it polls for
    feed_id: str = ""  # how the service names the feed, when it says
    reason: str = ""  # why a claim was refused (kind "refused")


def classify(agent: str, max_count: int = MAX_COUNT) -> Agent:
    """Return what `agent` is."""
    lowered = agent.lower()
    count_match = _COUNT.search(agent)
    for word, name in (*SERVICES, *HUBS):
        if word in lowered:
            kind = "hub" if (word, name) in HUBS else "service"
            return _claim(kind, name, agent, count_match, max_count)
    if count_match is not None:
        if _BROWSER.match(agent) and "compatible;" not in lowered:
            return Agent("refused", _name(agent), reason="a browser's agent claiming subscribers")
        return _claim("service", _name(agent), agent, count_match, max_count)
    for word, name in READERS:
        if word in lowered:
            return Agent("reader", name)
    if not agent:
        return Agent("reader", "(no agent)")
    if _MONITOR.search(agent):
        return Agent("monitor", _name(agent))
    if _CRAWLER.search(agent):
        return Agent("crawler", _name(agent))
    if _TOOL.match(agent):
        return Agent("tool", _name(agent))
    if _BROWSER.match(agent):
        return Agent("browser", _name(agent))
    return Agent("reader", _name(agent))


def _claim(
    kind: str, name: str, agent: str, count_match: re.Match[str] | None, max_count: int
) -> Agent:
    id_match = _FEED_ID.search(agent)
    feed_id = "" if id_match is None else (id_match.group(1) or id_match.group(2))
    if count_match is None:
        # A service's fetch that says no count (a first poll, a preview): no reader either.
        return Agent(kind, name, 0, feed_id)
    digits = count_match.group(1).replace(",", "")
    if not digits.isdigit() or len(digits) > 12 or int(digits) > max_count:
        return Agent("refused", name, reason=f"an absurd subscriber count (over {max_count:,})")
    return Agent(kind, name, int(digits), feed_id)


def _name(agent: str) -> str:
    """Return an app's name from its agent: its first product token, printable and short."""
    match = _TOKEN.match(agent.strip())
    name = match.group().strip() if match else agent.strip()[:NAME_MAX]
    name = "".join(c for c in name if c.isprintable())
    return name or "(unnamed)"
