"""Who polls: the agents of web readers, reader apps, crawlers, browsers and monitors."""

from __future__ import annotations

import pytest

from feedsvc.stats.agents import Agent, classify
from tests.stats import logs


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (logs.FEEDLY.format(n=120, id="abc"), Agent("service", "Feedly", 120, "abc")),
        (logs.INOREADER.format(n=37), Agent("service", "Inoreader", 37)),
        (logs.NEWSBLUR.format(n=15, id=1234), Agent("service", "NewsBlur", 15, "1234")),
        (logs.FEEDBIN.format(n=8, id=1234), Agent("service", "Feedbin", 8, "1234")),
        (logs.OLD_READER.format(n=1, id="x1"), Agent("service", "The Old Reader", 1, "x1")),
        (logs.SUPERFEEDR.format(n=3, id=77), Agent("hub", "Superfeedr", 3, "77")),
        (
            "Netvibes (http://www.netvibes.com/; 12 subscribers; feedID: 42)",
            Agent("service", "Netvibes", 12, "42"),
        ),
        ("BazQux/2.4 (+https://bazqux.com/fetcher; 1 subscriber)", Agent("service", "BazQux", 1)),
        (
            "NewReader/1.0 (+https://newreader.example; 1,204 readers)",
            Agent("service", "NewReader", 1204),
        ),
        ("FeedlyBot/1.0 (http://feedly.com)", Agent("service", "Feedly", 0)),  # no count said
        (logs.NEWSBOAT, Agent("reader", "newsboat")),
        (logs.NETNEWSWIRE, Agent("reader", "NetNewsWire")),
        (logs.THUNDERBIRD, Agent("reader", "Thunderbird")),
        ("Unread/3.4 CFNetwork/1410.0.3 Darwin/22.6.0", Agent("reader", "Unread")),
        ("Tiny Tiny RSS/23.04 (https://tt-rss.org/)", Agent("reader", "Tiny Tiny RSS")),
        ("", Agent("reader", "(no agent)")),
        (logs.GOOGLEBOT, Agent("crawler", "Mozilla")),
        (logs.BINGBOT, Agent("crawler", "Mozilla")),
        (logs.FACEBOOK, Agent("crawler", "facebookexternalhit")),
        (logs.TWITTER, Agent("crawler", "Twitterbot")),
        (
            "Mastodon/4.2.1 (http.rb/5.1.1; +https://mastodon.example/)",
            Agent("crawler", "Mastodon"),
        ),
        (logs.CHROME, Agent("browser", "Mozilla")),
        (logs.UPTIMEROBOT, Agent("monitor", "Mozilla")),
        (logs.CURL, Agent("tool", "curl")),
        ("python-requests/2.31.0", Agent("tool", "python-requests")),
    ],
)
def test_agents(agent: str, expected: Agent) -> None:
    assert classify(agent) == expected


@pytest.mark.parametrize(
    "agent",
    [
        logs.FEEDLY.format(n=999999999, id="x"),
        logs.FEEDLY.format(n="1" * 40, id="x"),
        "Feedly 1,000,001 subscribers",
    ],
)
def test_absurd_counts_are_refused_with_a_reason(agent: str) -> None:
    refused = classify(agent)
    assert refused.kind == "refused"
    assert refused.count == 0
    assert refused.reason == "an absurd subscriber count (over 1,000,000)"


def test_a_browser_claiming_subscribers_is_refused() -> None:
    refused = classify(logs.CHROME + " (500 subscribers)")
    assert (refused.kind, refused.reason) == ("refused", "a browser's agent claiming subscribers")


def test_a_name_is_printable_and_short() -> None:
    name = classify("Evil\x00\x1b[31m" + "A" * 500 + "/1.0").name
    assert name.isprintable()
    assert len(name) <= 40
