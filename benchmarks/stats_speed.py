"""How fast `feedsvc stats` reads logs, and what feedsvc's access log costs a request.

    python -m benchmarks.stats_speed --lines 1000000

Writes a log of --lines lines as a busy site's (pages and assets for browsers, feed polls from
readers at tens of thousands of addresses, web readers saying their subscribers, crawlers,
monitors, some junk lines), plain and gzipped, then counts each with the code `feedsvc stats`
runs, in this process, and prints seconds and lines a second against the target (1,000,000
lines in at most 10 s). Then formats and writes access log lines in batches as the HTTP edge
queues them, and prints the microseconds a line.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.corpus import log
from feedsvc.stats.report import build
from feedsvc.stats.sources import read_logs
from feedsvc.stats.tally import Tally
from feedsvc.web.access_log import AccessLog, time_local

TARGET_SECONDS_PER_MILLION = 10.0
_START = 1_709_251_200  # 2024-03-01 00:00 UTC
_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
_READERS = (
    "newsboat/2.30 (Linux x86_64)",
    "NetNewsWire (RSS Reader; https://netnewswire.com/)",
    "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.5.0",
    "Reeder/5.0 CFNetwork/1410.0.3 Darwin/22.6.0",
    "Tiny Tiny RSS/23.04 (https://tt-rss.org/)",
)
_SERVICES = (
    "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers; feed-id=feed/{f})",
    "Mozilla/5.0 (compatible; inoreader.com; {n} subscribers)",
    "Feedbin feed-id:{f} - {n} subscribers",
)
_CRAWLERS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
)
_FEEDS = ("/feeds/atom.xml", "/feeds/rss.xml", "/feeds/feed.json", "/sections/science/atom.xml")
_PAGES = ("/", "/articles/a-comet-returns/", "/sections/science/", "/static/site.css")


def write_log(path: Path, lines: int, days: int = 7, seed: int = 1) -> None:
    """Write `lines` lines of feedsvc's log format spread over `days` days."""
    rng = random.Random(seed)
    step = days * 86_400 / lines
    with path.open("w", encoding="ascii") as out:
        chunk: list[str] = []
        for n in range(lines):
            second = int(_START + n * step)
            roll = rng.random()
            status, size = 200, 4711
            if roll < 0.55:
                client, path_, agent = (
                    f"203.0.{rng.randrange(256)}.{rng.randrange(256)}",
                    rng.choice(_PAGES),
                    _CHROME,
                )
            elif roll < 0.85:
                reader = rng.randrange(40_000)
                client = f"10.{reader >> 16 & 255}.{reader >> 8 & 255}.{reader & 255}"
                path_, agent = _FEEDS[reader % 4], _READERS[reader % 5]
                status, size = (304, 0) if rng.random() < 0.7 else (200, 4711)
            elif roll < 0.9:
                feed = rng.randrange(4)
                agent = rng.choice(_SERVICES).format(n=100 + rng.randrange(50), f=feed)
                client, path_ = f"54.0.0.{rng.randrange(32)}", _FEEDS[feed]
            elif roll < 0.99:
                client, path_, agent = (
                    "66.249.66.1",
                    rng.choice(_FEEDS + _PAGES),
                    rng.choice(_CRAWLERS),
                )
            else:
                chunk.append("this is no log line\n")
                continue
            chunk.append(
                f'{client} - - [{time_local(second)}] "GET {path_} HTTP/1.1" {status} {size} '
                f'"-" "{agent}" 0.001\n'
            )
            if len(chunk) >= 10_000:
                out.write("".join(chunk))
                chunk.clear()
        out.write("".join(chunk))


def count(path: Path) -> dict[str, Any]:
    """Count one log as `feedsvc stats` does; return the seconds (wall and this process's CPU,
    the steadier figure on a shared machine) and the figures."""
    started, cpu = time.perf_counter(), time.process_time()
    tally = Tally()
    read_logs(tally, [path])
    report = build(tally)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "lines_per_s": round(tally.lines / seconds),
        "lines_per_cpu_s": round(tally.lines / cpu),
        "total": report.total,
        "lines": tally.lines,
    }


def access_log_cost(lines: int = 200_000) -> float:
    """Return the microseconds a request's line costs: queued, formatted, written in batches."""
    stream = io.StringIO()
    access = AccessLog(stream)
    rng = random.Random(2)
    fields = [
        (
            _START + n * 0.001,
            f"10.0.{n % 7}.{n % 200}",
            "GET",
            rng.choice(_FEEDS),
            "",
            "HTTP/1.1",
            "200",
            4711,
            "",
            _READERS[n % 5],
            0.0004,
        )
        for n in range(lines)
    ]
    started = time.process_time()  # CPU: the steadier figure on a shared machine
    for one in fields:
        access.record(one)
    access.flush()
    return (time.process_time() - started) / lines * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="feedsvc-stats-") as work:
        plain = Path(work) / "access.log"
        log(f"writing {args.lines:,} log lines")
        write_log(plain, args.lines)
        packed = Path(work) / "access.log.1.gz"
        packed.write_bytes(gzip.compress(plain.read_bytes(), compresslevel=6))
        results = {"plain": count(plain), "gzip": count(packed)}
    bound = TARGET_SECONDS_PER_MILLION * args.lines / 1_000_000
    for name, figures in results.items():
        met = "yes" if figures["seconds"] <= bound else "NO"
        print(
            f"{name}: {figures['lines']:,} lines in {figures['seconds']:.2f} s "
            f"({figures['lines_per_s']:,} lines/s; bound {bound:.1f} s: {met}), "
            f"{figures['cpu_seconds']:.2f} s of CPU ({figures['lines_per_cpu_s']:,} lines/s); "
            f"estimate {figures['total']:,} subscriptions"
        )
    print(f"load average then: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    cost = access_log_cost()
    print(f"access log: {cost:.2f} µs of CPU a line (queued, formatted, written in batches)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
