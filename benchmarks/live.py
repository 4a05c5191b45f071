"""Live publishing against a real `feedsvc serve` (granian, 2 workers, loopback only).

- bulk move: N files written in a staging folder on the same file system, then moved (one
  `os.rename` each, as `mv` does) into the seeds folder of a running server; the seconds from
  the first move until `/healthz` counts all N articles published (polled every 50 ms);
- edit latency: one article's body rewritten on a server with a corpus, with the default
  settle time (FEEDSVC_SETTLE_MS=1000); the seconds until its page shows the new text (polled
  every 20 ms), a few times, median and max.

Every measurement runs on a fresh catalog and is bounded in count and time.

    python -m benchmarks.live                      # 20,000 files moved; 5 edits on 1,000 articles
    python -m benchmarks.live --count 200 --articles 60 --edits 2
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.corpus import corpus, write_corpus
from benchmarks.load import free_port, stop, wait_port
from feedsvc.catalog.paths import backup_dir, identity_file, lock_file

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
SETTLE_MS = 1000  # feedsvc's default, named so the figure says what it was measured with
BULK_POLL_S = 0.05
BULK_DEADLINE_S = 300.0
EDIT_POLL_S = 0.02
EDIT_DEADLINE_S = 30.0
EDIT_PAUSE_S = 2.0


def log(message: str) -> None:
    """Say what is running (on stderr, so stdout stays the result)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def fresh_catalog(database: Path) -> None:
    """Remove a catalog and everything kept beside it (WAL, backups, publication id, lock)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(backup_dir(database), ignore_errors=True)
    identity_file(database).unlink(missing_ok=True)
    lock_file(database).unlink(missing_ok=True)


def _fetch(url: str, timeout: float = 10) -> tuple[int, bytes]:
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("benchmarks only load loopback")
    request = urllib.request.Request(url)  # noqa: S310 - loopback only, checked above
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:  # /healthz answers 503 with its document
        with exc:
            return exc.code, exc.read()


def health(base: str) -> tuple[int, dict[str, Any]]:
    """Return the status and document of the server's `/healthz`."""
    status, body = _fetch(base + "/healthz")
    return status, dict(json.loads(body))


def serve(
    seeds: Path, database: Path, work: Path, log_path: Path
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `feedsvc serve` as an operator would (granian, 2 workers, the writer beside it).

    The environment is the caller's without any FEEDSVC_* setting (a test run sets some), so
    feedsvc's defaults apply but for the folders and the settle time, which are named.
    """
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("FEEDSVC_")}
    env |= {
        "FEEDSVC_SEEDS_DIR": str(seeds),
        "FEEDSVC_DATABASE": str(database),
        "FEEDSVC_RUN_DIR": str(work / "run"),
        "FEEDSVC_CARD_DIR": str(work / "cards"),
        "FEEDSVC_SETTLE_MS": str(SETTLE_MS),
    }
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "feedsvc",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(WORKERS),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        wait_port(port, process, timeout=120)  # the first ingest runs before the port opens
        _wait_log(log_path, [f"Started worker-{n}\n" for n in range(1, WORKERS + 1)], process)
    except BaseException:
        _kill(process)
        raise
    return process, f"http://127.0.0.1:{port}"


def _wait_log(path: Path, needles: list[str], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        text = path.read_text(errors="replace")
        if all(needle in text for needle in needles):
            return
        time.sleep(0.05)
    raise RuntimeError(f"feedsvc serve did not start its workers; see {path}")


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_idle(base: str, articles: int, timeout: float = 120) -> None:
    """Wait until the writer runs, has nothing pending and `articles` are published."""
    deadline = time.monotonic() + timeout
    document: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status, document = health(base)
        writer = document["writer"]
        if (
            status == 200
            and writer.get("state") == "running"
            and writer.get("pending") == 0
            and document["catalog"]["articles"] == articles
        ):
            return
        time.sleep(0.1)
    raise RuntimeError(f"the server did not settle with {articles} articles: {document}")


class HealthPoller:
    """Poll `/healthz` every `interval` seconds in a thread until `target` articles are
    published or `deadline` seconds pass; keep when each answer came and what it said."""

    def __init__(self, base: str, target: int, interval: float, deadline: float) -> None:
        self.base = base
        self.target = target
        self.interval = interval
        self.deadline = deadline
        self.samples: list[tuple[float, int, int]] = []  # (monotonic, status, articles)
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> HealthPoller:
        self._thread.start()
        return self

    def _run(self) -> None:
        end = time.monotonic() + self.deadline
        while not self._stop.is_set() and time.monotonic() < end:
            asked = time.monotonic()
            try:
                status, document = health(self.base)
            except (OSError, ValueError):
                self.failures += 1
            else:
                count = int(document["catalog"]["articles"] or 0)
                self.samples.append((time.monotonic(), status, count))
                if count >= self.target:
                    return
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - asked)))

    def join(self) -> None:
        self._thread.join(self.deadline + 30)
        self._stop.set()


def bulk_move(work: Path, count: int) -> dict[str, Any]:
    """Move `count` new files into the seeds folder of a running server; time to all published."""
    folder = work / f"live-bulk-{count}"
    shutil.rmtree(folder, ignore_errors=True)
    seeds, staging = folder / "seeds", folder / "staging"  # one file system: a move is a rename
    seeds.mkdir(parents=True)
    database = folder / "catalog.sqlite3"
    fresh_catalog(database)
    log(f"writing {count} files in a staging folder")
    write_corpus(staging, count)
    files = sorted(staging.iterdir())
    process, base = serve(seeds, database, folder, work / "logs" / f"live-bulk-{count}.log")
    try:
        wait_idle(base, 0)
        log(f"moving {count} files into a running server's seeds folder")
        poller = HealthPoller(base, count, BULK_POLL_S, BULK_DEADLINE_S)
        started = time.monotonic()
        poller.start()
        for path in files:
            os.rename(path, seeds / path.name)
        moved = time.monotonic() - started
        poller.join()
        samples = poller.samples
        done = [t for t, _, n in samples if n >= count]
        first = [t for t, _, n in samples if n > 0]
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(samples)]
        final_status, document = health(base)
        figures = {
            "files": count,
            "moves_s": moved,
            "published_s": done[0] - started if done else None,
            "first_published_s": first[0] - started if first else None,
            "complete": bool(done),
            "articles": document["catalog"]["articles"],
            "polls": len(samples),
            "poll_interval_s": BULK_POLL_S,
            "max_poll_gap_s": max(gaps, default=0.0),
            "health_non_200": sum(1 for _, status, _ in samples if status != 200),
            "poll_failures": poller.failures,
            "final_health": final_status,
            "deadline_s": BULK_DEADLINE_S,
            "workers": WORKERS,
        }
    finally:
        stop(process)
        shutil.rmtree(folder, ignore_errors=True)
    return figures


_TITLE_NUMBER = re.compile(rb"\((\d+)\)$")


def _article_file(base: str, seeds: Path) -> tuple[Path, str]:
    """Return the file of the newest article in the JSON Feed and its page's path."""
    _, body = _fetch(base + "/feeds/feed.json")
    item = json.loads(body)["items"][0]
    match = _TITLE_NUMBER.search(str(item["title"]).encode())
    if match is None:
        raise RuntimeError(f"not a benchmark article: {item['title']!r}")
    path = seeds / f"{int(match[1]):06d}_bench.txt"
    if str(item["title"]) not in path.read_text(encoding="utf-8"):
        raise RuntimeError(f"{path} is not the article {item['title']!r}")
    return path, str(item["url"]).removeprefix(base)


def edit_latency(work: Path, source: Path, edits: int) -> dict[str, Any]:
    """Rewrite one article's body `edits` times; seconds until its page shows each edit."""
    articles = sum(1 for p in source.iterdir() if p.suffix == ".txt")
    folder = work / f"live-edit-{articles}"
    shutil.rmtree(folder, ignore_errors=True)
    seeds = folder / "seeds"
    shutil.copytree(source, seeds, ignore=shutil.ignore_patterns(".*"))
    database = folder / "catalog.sqlite3"
    fresh_catalog(database)
    log(f"editing one article {edits} times on a server with {articles} articles")
    process, base = serve(seeds, database, folder, work / "logs" / f"live-edit-{articles}.log")
    seconds: list[float] = []
    non_200 = 0
    error = None
    try:
        wait_idle(base, articles)
        path, page = _article_file(base, seeds)
        original = path.read_text(encoding="utf-8")
        status, _ = _fetch(base + page)
        if status != 200:  # a broken page would only time out: say so at once
            error = f"{page} answered {status} before any edit (see the server's log)"
            log(error)
        for n in range(edits if error is None else 0):
            marker = f"Benchmark edit marker {n} {time.time_ns()}"
            started = time.monotonic()
            path.write_text(f"{original}\n\n{marker}.", encoding="utf-8")
            deadline = started + EDIT_DEADLINE_S
            while time.monotonic() < deadline:
                asked = time.monotonic()
                status, body = _fetch(base + page)
                if status == 200 and marker.encode() in body:
                    seconds.append(time.monotonic() - started)
                    break
                non_200 += status != 200
                time.sleep(max(0.0, EDIT_POLL_S - (time.monotonic() - asked)))
            else:
                seconds.append(float("inf"))
                log(f"edit {n} was not visible within {EDIT_DEADLINE_S:.0f} s")
            if n < edits - 1:
                time.sleep(EDIT_PAUSE_S)  # the writer idle again before the next edit
    finally:
        stop(process)
        shutil.rmtree(folder, ignore_errors=True)
    visible = [s for s in seconds if s != float("inf")]
    median = statistics.median(seconds) if seconds else float("inf")
    return {
        "articles": articles,
        "edits": edits,
        "visible": len(visible),
        "median_s": None if median == float("inf") else median,
        "max_s": max(seconds) if visible and len(visible) == len(seconds) else None,
        "seconds": visible,
        "non_200": non_200,
        "error": error,
        "settle_ms": SETTLE_MS,
        "poll_interval_s": EDIT_POLL_S,
        "deadline_s": EDIT_DEADLINE_S,
        "workers": WORKERS,
    }


def measure(work: Path, source: Path, *, count: int, edits: int) -> dict[str, Any]:
    """Both live figures: `count` files moved in, and `edits` edits on the `source` corpus."""
    return {"bulk": bulk_move(work, count), "edit": edit_latency(work, source, edits)}


def _s(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.2f}"


def table(live: dict[str, Any]) -> str:
    """Return the live figures as a Markdown table."""
    bulk, edit = live["bulk"], live["edit"]
    return "\n".join(
        [
            "| live publishing (`feedsvc serve`, 2 workers) | articles | seconds | detail |",
            "|---|---:|---:|---|",
            f"| files moved in, all published | {bulk['files']:,} | {_s(bulk['published_s'])} | "
            f"moves took {bulk['moves_s']:.2f} s; first published after "
            f"{_s(bulk['first_published_s'])} s; /healthz polled every "
            f"{bulk['poll_interval_s'] * 1000:.0f} ms, "
            f"largest gap {bulk['max_poll_gap_s']:.2f} s |",
            f"| one edit visible on its page (median) | {edit['articles']:,} | "
            f"{_s(edit['median_s'])} | max {_s(edit['max_s'])} s of {edit['edits']} edits; "
            f"settle {edit['settle_ms']} ms; polled every "
            f"{edit['poll_interval_s'] * 1000:.0f} ms"
            f"{'; ' + edit['error'] if edit['error'] else ''} |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Measure only the live figures; print a table and the JSON (writes no results file)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=20000, help="files moved in (bulk)")
    parser.add_argument("--articles", type=int, default=1000, help="corpus of the edit server")
    parser.add_argument("--edits", type=int, default=5, help="edits timed")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "feedsvc-bench",
        help="scratch folder (corpora are kept there between runs)",
    )
    args = parser.parse_args(argv)
    if not (1 <= args.count <= 200_000 and 1 <= args.articles <= 100_000 and 1 <= args.edits <= 50):
        parser.error("--count 1..200000, --articles 1..100000, --edits 1..50")
    work = args.work.resolve()
    (work / "logs").mkdir(parents=True, exist_ok=True)
    live = measure(work, corpus(work, args.articles), count=args.count, edits=args.edits)
    print(table(live))
    print(json.dumps(live, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
