"""Measure feedsvc against its baselines in one run; print a table, write JSON and a chart.

    python -m benchmarks.run --mode quick     # a few minutes: 1k and 10k articles
    python -m benchmarks.run --mode full      # 1k, 10k and 100k articles
    python -m benchmarks.run --only http      # feedsvc against nginx alone

Everything runs on this machine and loads loopback only (wrk, bounded in time). Figures are
medians of several rounds; targets are ratios measured in the same run. Where feedsvc misses a
target against nginx, the run profiles it (perf, py-spy) and prints where its time goes. The
live-publishing figures (files moved into a running `feedsvc serve`, one edit's latency) come from
`benchmarks.live`, which also runs alone: `python -m benchmarks.live --count 20000`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks import git_dates, http_compare, inbox_flood, live, publishing, report
from benchmarks.chart import chart
from benchmarks.corpus import corpus, log
from benchmarks.load import (
    children,
    free_port,
    granian,
    process_memory_mib,
    stop,
    wrk,
)
from feedsvc.catalog.paths import backup_dir, identity_file
from feedsvc.service.server import INTERFACE, TARGET

SECTIONS = ("ingest", "git", "http", "latency", "memory", "export", "live", "publishing", "inbox")

MODES: dict[str, dict[str, Any]] = {
    "smoke": {
        "sizes": [60],
        "http": 60,
        "latency": [60],
        "memory": 60,
        "export": 60,
        "seconds": 1,
        "rounds": 1,
        "live_bulk": 200,
        "live_edit": 60,
        "live_edits": 2,
        "publishing": 60,
        "git": {"articles": 60, "commits": 60},
    },
    "quick": {
        "sizes": [1000, 10000],
        "http": 1000,
        "latency": [1000, 10000],
        "memory": 10000,
        "export": 1000,
        "seconds": 3,
        "rounds": 3,
        "live_bulk": 20000,
        "live_edit": 1000,
        "live_edits": 5,
        "git": {"articles": 10000, "commits": 10000},
    },
    "full": {
        "sizes": [1000, 10000, 100000],
        "http": 1000,
        "latency": [1000, 100000],
        "memory": 100000,
        "export": 10000,
        "seconds": 8,
        "rounds": 3,
        "live_bulk": 20000,
        "live_edit": 1000,
        "live_edits": 5,
        "publishing": 10000,
        "git": {"articles": 10000, "commits": 100000},
    },
}


ROOT = Path(__file__).resolve().parent.parent
DROP_CACHES = True


def _drop_page_cache() -> bool:
    if not DROP_CACHES:
        return False
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def ingest_once(seeds: Path, database: Path, *flags: str) -> dict[str, Any]:
    """Run one ingest in a fresh process; return its seconds and peak memory."""
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.ingest_once", str(seeds), str(database), *flags],
        capture_output=True,
        text=True,
        check=True,
        timeout=3600,
        cwd=ROOT,
    ).stdout
    return dict(json.loads(output))


def measure_ingest(work: Path, sizes: list[int]) -> dict[str, Any]:
    """Cold ingest (new process, empty catalog) and a no-change rescan, for each size."""
    results = {}
    for count in sizes:
        seeds = corpus(work, count)
        database = work / f"ingest-{count}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        dropped = _drop_page_cache()
        log(f"ingest {count} articles (cold{', page cache dropped' if dropped else ''})")
        cold = ingest_once(seeds, database)
        rescan = ingest_once(seeds, database)
        results[str(count)] = {
            "cold_s": cold["seconds"],
            "cold_peak_mib": cold["peak_mib"],
            "rescan_s": rescan["seconds"],
            "rescan_peak_mib": rescan["peak_mib"],
            "page_cache_dropped": dropped,
        }
    return results


def _catalog(work: Path, count: int) -> Path:
    ingested = work / f"ingest-{count}.sqlite3"
    if ingested.exists():
        return ingested  # servers only read it
    database = work / f"serve-{count}.sqlite3"
    # Made, or brought up to date: a catalog kept from an older feedsvc is migrated by the
    # ingest (servers only read, and refuse an out-of-date schema); unchanged it is a rescan.
    ingest_once(corpus(work, count), database)
    return database


def _env(work: Path, count: int, port: int) -> dict[str, str]:
    return {
        "FEEDSVC_SEEDS_DIR": str(corpus(work, count)),
        "FEEDSVC_DATABASE": str(_catalog(work, count)),
        "FEEDSVC_SITE_URL": f"http://127.0.0.1:{port}",
        "FEEDSVC_CARD_DIR": str(work / "cards"),
        # feedsvc logs every request (its own access log, as `feedsvc serve` does); the
        # comparison apps run on granian without logging: their ceiling.
        "FEEDSVC_ACCESS_LOG": "1",
    }


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return {k.lower(): v for k, v in response.headers.items()}, response.read()


def export(work: Path, count: int, site_url: str) -> tuple[Path, dict[str, Any]]:
    """Run `feedsvc build` twice: into a fresh folder with no cards drawn yet, then again."""
    out = work / f"export-{count}"
    shutil.rmtree(out, ignore_errors=True)
    cards = work / f"export-cards-{count}"
    shutil.rmtree(cards, ignore_errors=True)
    database = work / f"export-{count}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    # A cold build on purpose: a new catalog, so no backups or publication id of an old one.
    shutil.rmtree(backup_dir(database), ignore_errors=True)
    identity_file(database).unlink(missing_ok=True)
    env = {**os.environ, "FEEDSVC_SITE_URL": site_url, "FEEDSVC_CARD_DIR": str(cards)}
    command = [
        sys.executable,
        "-m",
        "feedsvc",
        "--seeds-dir",
        str(corpus(work, count)),
        "--database",
        str(database),
        "build",
        str(out),
        "--gzip",
    ]
    figures: dict[str, Any] = {"articles": count}
    for run in ("cold", "again"):
        log(f"feedsvc build of {count} articles ({run})")
        started = time.perf_counter()
        result = subprocess.run(
            command, capture_output=True, text=True, env=env, check=True, timeout=3600
        )
        figures[f"{run}_wall_s"] = time.perf_counter() - started
        figures[f"{run}_summary"] = result.stdout.strip().splitlines()[-1]
    figures["wall_s"] = figures["cold_wall_s"]
    figures["summary"] = figures["cold_summary"]
    return out, figures


def feed_latency(work: Path, sizes: list[int], seconds: int, rounds: int) -> dict[str, Any]:
    """Warm subscription-feed latency at each corpus size."""
    results = {}
    for count in sizes:
        port = free_port()
        server = granian(
            TARGET,
            port,
            _env(work, count, port),
            work / "logs" / f"latency-{count}.log",
            interface=INTERFACE,
        )
        try:
            log(f"wrk warm feed at {count} articles")
            url = f"http://127.0.0.1:{port}/feeds/atom.xml"
            results[str(count)] = wrk(url, seconds=seconds, rounds=rounds).figures()
        finally:
            stop(server)
    return results


def worker_memory(work: Path, count: int) -> dict[str, Any]:
    """Memory of one serving worker after a warm-up over many URLs, with `count` articles."""
    port = free_port()
    server = granian(
        TARGET,
        port,
        _env(work, count, port),
        work / "logs" / f"memory-{count}.log",
        interface=INTERFACE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        log(f"warming a server with {count} articles")
        _, body = _get(base + "/sitemap.xml")
        paths = ["/", "/feeds/atom.xml", "/feeds/rss.xml", "/feeds/feed.json", "/feeds/"]
        urls = [
            line.split("<loc>")[1].split("</loc>")[0]
            for line in body.decode().splitlines()
            if "<loc>" in line
        ][:300]
        for path in paths:
            for _ in range(4):
                _get(base + path, {"Accept-Encoding": "br, gzip"})
        for url in urls:
            _get(url.replace("http://127.0.0.1:" + str(port), base))
        workers = children(server.pid)
        memory = [process_memory_mib(pid) for pid in workers]
        return {
            "articles": count,
            "workers": len(workers),
            "max_rss_mib": max(m["rss"] for m in memory),
            "max_pss_mib": max(m["pss"] for m in memory),
        }
    finally:
        stop(server)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; exit 0 (targets are reported, not enforced)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=sorted(MODES), default="quick")
    parser.add_argument(
        "--only",
        choices=SECTIONS,
        action="append",
        help="run only this part (repeatable; default: all of them)",
    )
    parser.add_argument(
        "--keep-page-cache",
        action="store_true",
        help="do not drop the OS page cache before cold ingests (dropping needs root)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "feedsvc-bench",
        help="scratch folder (corpora are kept there between runs)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).parent / "results",
        help="where results.json, results.md and chart.png go",
    )
    args = parser.parse_args(argv)
    for program in ("wrk", "curl"):
        if shutil.which(program) is None:
            parser.error(f"{program} is required (Debian package {program})")
    config = MODES[args.mode]
    global DROP_CACHES  # a run-wide choice
    DROP_CACHES = not args.keep_page_cache
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    data: dict[str, Any] = {
        "mode": args.mode,
        "config": config,
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "processor": platform.processor(),
        },
    }
    only = set(args.only or SECTIONS)
    if "ingest" in only:
        data["ingest"] = measure_ingest(work, config["sizes"])
    if "git" in only and config.get("git"):
        # Ingest with dates from git against without, on the same committed articles.
        data["git"] = git_dates.measure(
            work, config["git"]["articles"], config["git"]["commits"], rounds=config["rounds"]
        )
    if "http" in only:
        data["http"] = http_compare.compare(
            work,
            seconds=config["seconds"],
            rounds=config["rounds"],
            env=lambda port: _env(work, config["http"], port),
            export=lambda site_url: export(work, config["http"], site_url)[0],
        )
    if "latency" in only:
        data["latency"] = feed_latency(work, config["latency"], config["seconds"], config["rounds"])
    if "memory" in only:
        data["memory"] = worker_memory(work, config["memory"])
    if "export" in only:
        _, data["export"] = export(work, config["export"], "http://127.0.0.1:8000")
    if "live" in only:
        data["live"] = live.measure(
            work,
            corpus(work, config["live_edit"]),
            count=config["live_bulk"],
            edits=config["live_edits"],
        )
    if "inbox" in only:
        # Feed latency while signers whose servers never answer flood the inbox.
        data["inbox"] = inbox_flood.measure(work, config["http"], seconds=config["seconds"])
        print(inbox_flood.table(data["inbox"]))
    if config.get("publishing") and "publishing" in only:
        # Builds, deploys to a loopback S3 server and continuous publishing.
        data["publishing"] = publishing.measure(work / "publishing", config["publishing"])
    data["targets"] = report.targets(data)
    data["seconds"] = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(data, indent=2) + "\n")
    text = report.table(data)
    (args.out / "results.md").write_text(text + "\n")
    if "http" in data:
        chart(data, args.out / "chart.png")
    print(text)
    log(f"done in {data['seconds']:.0f} s; results in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
