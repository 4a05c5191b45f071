"""Access log lines in the formats real servers write, made by the tests."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from feedsvc.web.access_log import escaped, time_local

FEEDLY = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers; feed-id={id})"
INOREADER = "Mozilla/5.0 (compatible; inoreader.com; {n} subscribers)"
NEWSBLUR = (
    "NewsBlur Feed Fetcher - {n} subscribers - https://www.newsblur.com/site/{id}/news "
    "(Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/73.0.3683.103 Safari/537.36)"
)
FEEDBIN = "Feedbin feed-id:{id} - {n} subscribers"
OLD_READER = "Mozilla/5.0 (compatible; theoldreader.com; {n} subscribers; feed-id={id})"
SUPERFEEDR = "Superfeedr bot/2.0 http://superfeedr.com - {n} subscribers - feed-id:{id}"
NEWSBOAT = "newsboat/2.30 (Linux x86_64)"
NETNEWSWIRE = "NetNewsWire (RSS Reader; https://netnewswire.com/)"
THUNDERBIRD = "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.5.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
FACEBOOK = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
TWITTER = "Twitterbot/1.0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
UPTIMEROBOT = "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"
CURL = "curl/7.88.1"


def moment(day: str, hour: int = 12) -> datetime:
    """Return noon (or `hour`) UTC of a day written YYYY-MM-DD."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def combined(
    client: str,
    when: datetime,
    path: str,
    agent: str,
    *,
    status: int = 200,
    method: str = "GET",
    size: int = 4711,
) -> str:
    """Return a line as nginx's combined format (with $request_time, as feedsvc writes)."""
    stamp = time_local(int(when.timestamp()))
    return (
        f'{client} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size} "-" '
        f'"{escaped(agent)}" 0.001\n'
    )


CLOUDFRONT_HEADER = (
    "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) "
    "cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) "
    "x-edge-result-type\n"
)


def cloudfront(client: str, when: datetime, path: str, agent: str, *, status: int = 200) -> str:
    """Return a line of a CloudFront standard log (tab-separated, the agent URL-encoded)."""
    fields = (
        when.strftime("%Y-%m-%d"),
        when.strftime("%H:%M:%S"),
        "FRA56-C1",
        "4711",
        client,
        "GET",
        "d111111abcdef8.cloudfront.net",
        path,
        str(status),
        "-",
        quote(agent, safe="/();:,+=.-_"),
        "-",
        "-",
        "Hit",
    )
    return "\t".join(fields) + "\n"


def s3(client: str, when: datetime, path: str, agent: str, *, status: int = 200) -> str:
    """Return a line of an S3 server access log."""
    stamp = time_local(int(when.timestamp()))
    return (
        f"79a5 news-bucket [{stamp}] {client} - 3E57427F3EXAMPLE REST.GET.OBJECT "
        f'{path.lstrip("/")} "GET {path} HTTP/1.1" {status} - 4711 4711 70 10 "-" '
        f'"{agent.replace(chr(34), chr(92) + chr(34))}" - s9lzHYrFp76Z SigV4 '
        "ECDHE-RSA-AES128-SHA AuthHeader news-bucket.s3.amazonaws.com TLSv1.2\n"
    )
