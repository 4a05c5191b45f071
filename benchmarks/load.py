"""Start servers on loopback and drive them with wrk (bounded in time; loopback only)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}
ROOT = Path(__file__).resolve().parent.parent  # servers import feedsvc and benchmarks from here


@dataclass(frozen=True, slots=True)
class Load:
    """Median figures of several wrk rounds against one URL."""

    rps: float
    p50_ms: float
    p99_ms: float
    rounds: int
    errors: int
    cpu_us: float | None = None  # the server's CPU time (all its processes) per request

    def figures(self) -> dict[str, Any]:
        """Return the figures as results.json holds them."""
        return {
            "rps": self.rps,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "rounds": self.rounds,
            "errors": self.errors,
            "cpu_us": self.cpu_us,
        }


@dataclass(frozen=True, slots=True)
class Round:
    """One wrk round against one URL."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    cpu_us: float | None  # the server's CPU time per request, when its process was given


def free_port() -> int:
    """Return a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Wait until something listens on the loopback port (or fail)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def granian(
    target: str,
    port: int,
    env: dict[str, str],
    log: Path,
    workers: int = 2,
    *,
    access_log: bool = False,
    interface: str = "wsgi",
) -> subprocess.Popen[bytes]:
    """Start `target` (an app factory) on granian with `feedsvc serve`'s settings."""
    command = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        interface,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        "1",
        "--access-log" if access_log else "--no-access-log",
        "--no-ws",
        target,
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
        )
    wait_port(port, process)
    _wait_workers(log, workers)
    return process


def _wait_workers(log: Path, workers: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if all(f"Started worker-{n}\n" in text for n in range(1, workers + 1)):
            return
        time.sleep(0.05)
    raise RuntimeError("granian workers did not start")


def nginx(conf: Path, prefix: Path, port: int) -> subprocess.Popen[bytes]:
    """Start nginx in the foreground with `conf`."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_port(port, process)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server gracefully, then for sure."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", value)
    if match is None:
        raise ValueError(value)
    return float(match[1]) * _UNITS[match[2]]


def check_status(url: str, headers: dict[str, str] | None = None, expect: int = 200) -> None:
    """Fail unless one request to `url` answers `expect` (wrk counts 304s as successes)."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("benchmarks only load loopback")
    check = subprocess.run(
        [
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            *[a for k, v in (headers or {}).items() for a in ("-H", f"{k}: {v}")],
            url,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if check.stdout != str(expect):
        raise RuntimeError(f"{url} answered {check.stdout}, expected {expect}")


def wrk_round(
    url: str,
    *,
    seconds: int,
    headers: dict[str, str] | None = None,
    connections: int = 32,
    server: int | None = None,
) -> Round:
    """Run wrk once against a loopback URL; with `server` (a pid), also measure the CPU time
    that process and its children spend per request."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("benchmarks only load loopback")
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    pids = tree(server) if server is not None else []
    before = cpu_seconds(pids)
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    spent = cpu_seconds(pids) - before
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(bad[1]) if bad else 0
    errors += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    requests = int(re.search(r"(\d+) requests in", output)[1])  # type: ignore[index]
    return Round(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),  # type: ignore[index]
        p50_ms=_ms(re.search(r"\s50%\s+(\S+)", output)[1]),  # type: ignore[index]
        p99_ms=_ms(re.search(r"\s99%\s+(\S+)", output)[1]),  # type: ignore[index]
        errors=errors,
        requests=requests,
        cpu_us=spent * 1e6 / requests if pids and requests else None,
    )


def median_load(rounds: list[Round]) -> Load:
    """Return the median figures of several rounds."""
    cpu = [r.cpu_us for r in rounds if r.cpu_us is not None]
    return Load(
        rps=statistics.median(r.rps for r in rounds),
        p50_ms=statistics.median(r.p50_ms for r in rounds),
        p99_ms=statistics.median(r.p99_ms for r in rounds),
        rounds=len(rounds),
        errors=sum(r.errors for r in rounds),
        cpu_us=statistics.median(cpu) if cpu else None,
    )


def wrk(
    url: str,
    *,
    seconds: int,
    rounds: int,
    headers: dict[str, str] | None = None,
    connections: int = 32,
    expect: int = 200,
    server: int | None = None,
) -> Load:
    """Run wrk `rounds` times against a loopback URL; return the median figures."""
    check_status(url, headers, expect)
    return median_load(
        [
            wrk_round(url, seconds=seconds, headers=headers, connections=connections, server=server)
            for _ in range(rounds)
        ]
    )


def tree(pid: int) -> list[int]:
    """Return `pid` and all its descendants."""
    found = [pid]
    for child in children(pid):
        found += tree(child)
    return found


def cpu_seconds(pids: list[int]) -> float:
    """Return the user and system CPU time the processes have used so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def process_memory_mib(pid: int) -> dict[str, float]:
    """Return RSS and PSS of a process in MiB (Linux /proc)."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss"):
            values[name.lower()] = int(rest.split()[0]) / 1024
    return values


def children(pid: int) -> list[int]:
    """Return the child process ids of `pid`."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(n) for n in text]
    return found
