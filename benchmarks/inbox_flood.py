"""Feed latency while the inbox is flooded by signers whose servers never answer.

    python -m benchmarks.inbox_flood                     # 60 articles, 5 s a phase, 100 POSTs/s
    python -m benchmarks.inbox_flood --rate 0 --seconds 10   # as many POSTs as 4 senders can

Starts `feedsvc serve` (2 workers, federation on, loopback only) and silent hosts on loopback
(they accept connections and never answer), then measures the feed's latency with a few
keep-alive clients: first alone, then while senders POST signed Follows whose keys live on
the silent hosts (each key fetch would wait the whole FEEDSVC_FEDIVERSE_TIMEOUT). Prints p50,
p99 and max of both phases, their p99 ratio, and how the inbox answered (202 queued, 429 one
sender flooding, 503 queue full). Every request has a timeout and every phase a length: the
run stops by itself.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from benchmarks.corpus import corpus, log
from benchmarks.load import free_port, stop, wait_port
from feedsvc.fediverse.keys import KeyPair
from feedsvc.fediverse.signatures import sign

ROOT = Path(__file__).resolve().parent.parent
HANG = 10  # FEEDSVC_FEDIVERSE_TIMEOUT of the server: what each key fetch would wait
TIMEOUT = 30.0  # seconds any one request of this benchmark may take
READERS = 4  # keep-alive clients reading the feed
SENDERS = 4  # threads POSTing to the inbox
HOSTS = 16  # silent hosts the signers' keys live on
FEED = "/feeds/atom.xml"
INBOX = "/fediverse/inbox"


class Silent:
    """A loopback host that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _address = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.held.append(connection)

    def close(self) -> None:
        """Stop listening; end every connection held."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        with self.lock:
            for connection in self.held:
                connection.close()
            self.held.clear()


@dataclass(frozen=True, slots=True)
class Phase:
    """What the feed readers saw in one phase."""

    latencies: list[float]  # seconds, of the requests answered 200
    failures: int  # other statuses, errors and timeouts

    def figures(self) -> dict[str, Any]:
        """Return p50, p99 and max in milliseconds, and the counts."""
        ordered = sorted(self.latencies) or [0.0]
        cuts = statistics.quantiles(ordered, n=100, method="inclusive")
        return {
            "requests": len(self.latencies),
            "failures": self.failures,
            "p50_ms": round(cuts[49] * 1000, 2),
            "p99_ms": round(cuts[98] * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2),
        }


def _read_feed(port: int, until: float, latencies: list[float], failures: list[int]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        while time.monotonic() < until:
            started = time.perf_counter()
            try:
                connection.request("GET", FEED, headers={"Accept-Encoding": "gzip"})
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                failures.append(1)
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
                continue
            if response.status == 200:
                latencies.append(time.perf_counter() - started)
            else:
                failures.append(1)
    finally:
        connection.close()


def read_feed(port: int, seconds: float) -> Phase:
    """Read the feed with READERS keep-alive clients for `seconds`."""
    latencies: list[float] = []
    failures: list[int] = []
    until = time.monotonic() + seconds
    readers = [
        threading.Thread(target=_read_feed, args=(port, until, latencies, failures))
        for _ in range(READERS)
    ]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(seconds + TIMEOUT + 5)
    return Phase(list(latencies), len(failures))


def signed_posts(base: str, hosts: list[Silent], count: int) -> list[tuple[bytes, dict[str, str]]]:
    """Return `count` signed Follows (body, headers), spread over the hosts' actors."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    keys = KeyPair(public.decode("ascii"), private)
    posts = []
    for number in range(count):
        actor = f"{hosts[number % len(hosts)].base}/users/u{number}"
        body = json.dumps(
            {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": f"{actor}/follows/{number}",
                "type": "Follow",
                "actor": actor,
                "object": f"{base}/fediverse/actor.json",
            }
        ).encode()
        headers = sign("POST", base + INBOX, body, keys, actor + "#main-key", datetime.now(UTC))
        posts.append((body, headers | {"Content-Type": "application/activity+json"}))
    return posts


def _send(
    port: int,
    posts: collections.deque[tuple[bytes, dict[str, str]]],
    interval: float,
    until: float,
    answers: collections.Counter[int],
    lock: threading.Lock,
) -> None:
    due = time.monotonic()
    while time.monotonic() < until:
        try:
            body, headers = posts.popleft()
        except IndexError:
            return
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        try:
            connection.request("POST", INBOX, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0  # no answer within TIMEOUT, or the connection failed
        finally:
            connection.close()
        with lock:
            answers[status] += 1
        due += interval
        time.sleep(max(0.0, due - time.monotonic()))


def flood(
    port: int, posts: list[tuple[bytes, dict[str, str]]], rate: float, seconds: float
) -> tuple[list[threading.Thread], collections.Counter[int]]:
    """Start SENDERS threads POSTing `posts` at `rate` a second in all (0: as fast as they
    can) for `seconds`; return them and the counter of the inbox's answers."""
    queue = collections.deque(posts)
    answers: collections.Counter[int] = collections.Counter()
    lock = threading.Lock()
    interval = SENDERS / rate if rate else 0.0
    until = time.monotonic() + seconds
    senders = [
        threading.Thread(target=_send, args=(port, queue, interval, until, answers, lock))
        for _ in range(SENDERS)
    ]
    for sender in senders:
        sender.start()
    return senders, answers


def serve(work: Path, articles: int, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """Start `feedsvc serve` with federation on, over a corpus of `articles`."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")},
        "FEEDSVC_SEEDS_DIR": str(corpus(work, articles)),
        "FEEDSVC_DATABASE": str(work / f"inbox-flood-{articles}.sqlite3"),
        "FEEDSVC_RUN_DIR": str(work / "inbox-flood-run"),
        "FEEDSVC_SITE_URL": f"http://127.0.0.1:{port}",
        "FEEDSVC_FEDIVERSE": "1",
        "FEEDSVC_FEDIVERSE_ALLOW_PRIVATE": "1",  # the silent hosts are on loopback
        "FEEDSVC_FEDIVERSE_TIMEOUT": str(HANG),
    }
    command = [sys.executable, "-m", "feedsvc", "serve", "--port", str(port), "--workers", "2"]
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--no-watch"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=work
        )
    wait_port(port, process, timeout=120)
    deadline = time.monotonic() + 60
    while "Started worker-2" not in log_path.read_text(errors="replace"):
        if time.monotonic() > deadline or process.poll() is not None:
            stop(process)
            raise RuntimeError("feedsvc serve did not start:\n" + log_path.read_text())
        time.sleep(0.05)
    return process


def measure(
    work: Path, articles: int = 60, seconds: float = 5, rate: float = 100
) -> dict[str, Any]:
    """Return the feed's latency alone and during a flood of inbox POSTs, and their ratio."""
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    hosts = [Silent() for _ in range(HOSTS)]
    count = int(rate * seconds) if rate else 4000
    posts = signed_posts(base, hosts, count)
    log(f"inbox flood: {articles} articles, {seconds:g} s a phase, {rate or 'unlimited'} POSTs/s")
    process = serve(work, articles, port, work / "inbox-flood.log")
    try:
        read_feed(port, 1)  # warm: each worker renders and caches the feed once
        alone = read_feed(port, seconds)
        senders, answers = flood(port, posts, rate, seconds)
        flooded = read_feed(port, seconds)
        for sender in senders:
            sender.join(seconds + TIMEOUT + 5)
    finally:
        for host in hosts:
            host.close()
        stop(process)
    before, during = alone.figures(), flooded.figures()
    return {
        "articles": articles,
        "seconds": seconds,
        "rate": rate,
        "key_fetch_timeout_s": HANG,
        "alone": before,
        "flood": during,
        "p99_ratio": round(during["p99_ms"] / before["p99_ms"], 2) if before["p99_ms"] else None,
        "inbox": {str(status): n for status, n in sorted(answers.items())},
    }


def table(result: dict[str, Any]) -> str:
    """Return the figures as a markdown table."""
    rows = [
        "| feed GET | requests | failures | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in ("alone", "flood"):
        f = result[name]
        rows.append(
            f"| {name} | {f['requests']} | {f['failures']} | {f['p50_ms']} | {f['p99_ms']} "
            f"| {f['max_ms']} |"
        )
    answers = ", ".join(f"{status}: {n}" for status, n in result["inbox"].items())
    rows.append("")
    rows.append(f"p99 during the flood / p99 alone: {result['p99_ratio']}")
    rows.append(f"inbox answers during the flood ({result['rate'] or 'unlimited'}/s): {answers}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print it (and write JSON with --json)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=5, help="length of each phase")
    parser.add_argument("--rate", type=float, default=100, help="POSTs a second (0: no limit)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "feedsvc-bench")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    result = measure(args.work.resolve(), args.articles, args.seconds, args.rate)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    sys.stdout.write(table(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
