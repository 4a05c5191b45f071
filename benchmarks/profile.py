"""Where a server's CPU time goes under load: perf by component, py-spy by Python function.

Both tools are optional (perf is Debian's linux-perf, py-spy the PyPI package of the dev
extras): without one, its part of the summary says it was not run. Both sample processes
already serving under wrk, on loopback, for a bounded time.
"""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from benchmarks.load import Round, tree, wrk_round

# perf's shared objects, named for what they are in a granian worker.
_COMPONENTS = (
    ("kernel (TCP, scheduling, system calls)", re.compile(r"\[kernel|\[vdso")),
    ("granian's Rust server (_granian.so)", re.compile(r"_granian")),
    ("Python interpreter (libpython)", re.compile(r"libpython|python3")),
    ("C library", re.compile(r"libc\.so|libm\.so|ld-linux")),
    ("nginx", re.compile(r"nginx")),
)
# A py-spy stack serving a request goes through granian's WSGI glue.
_REQUEST = "granian/wsgi.py"
# py-spy frames, grouped by who owns the code.
_OWNERS = (
    ("feedsvc edge", "feedsvc/web/"),
    ("feedsvc other", "feedsvc/"),
    ("granian's WSGI glue (granian/wsgi.py)", "granian/"),
    ("Flask and Werkzeug", "flask/"),
    ("Flask and Werkzeug", "werkzeug/"),
)


def _py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return found if Path(found).exists() else None


def perf_components(pids: list[int], seconds: int, out: Path) -> dict[str, float] | None:
    """Sample the processes with perf for `seconds`; return each component's share of CPU."""
    perf = shutil.which("perf")
    if perf is None:
        return None
    data = out / "perf.data"
    record = subprocess.run(
        [
            perf,
            "record",
            "-F",
            "2999",
            "-q",
            "-o",
            str(data),
            "-p",
            ",".join(map(str, pids)),
            "--",
            "sleep",
            str(seconds),
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    if record.returncode != 0:
        return None
    report = subprocess.run(
        [perf, "report", "-i", str(data), "--sort", "dso", "--stdio", "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    ).stdout
    shares: dict[str, float] = collections.defaultdict(float)
    for line in report.splitlines():
        match = re.match(r"\s*([\d.]+)%\s+(.*\S)", line)
        if match is None:
            continue
        name = next((c for c, p in _COMPONENTS if p.search(match[2])), "other libraries")
        shares[name] += float(match[1]) / 100
    return dict(shares)


def py_spy_functions(pid: int, seconds: int, out: Path) -> dict[str, Any] | None:
    """Sample one worker's Python threads with py-spy; return shares by owner and function."""
    tool = _py_spy()
    if tool is None:
        return None
    raw = out / "py-spy.txt"
    done = subprocess.run(
        [
            tool,
            "record",
            "-p",
            str(pid),
            "-d",
            str(seconds),
            "-r",
            "997",
            "-f",
            "raw",
            "-o",
            str(raw),
            "--nonblocking",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    if done.returncode != 0 or not raw.exists():
        return None
    owners: collections.Counter[str] = collections.Counter()
    lines: collections.Counter[str] = collections.Counter()
    busy = idle = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue  # not a stack line
        samples = int(count)
        frames = [frame for frame in stack.split(";") if frame.strip()]
        if not any(_REQUEST in frame for frame in frames):
            idle += samples  # no request in Python: granian waiting, or another thread
            continue
        busy += samples
        # Charge each sample to the innermost frame whose owner is known.
        for frame in reversed(frames):
            owner = next((o for o, prefix in _OWNERS if prefix in frame), None)
            if owner is not None:
                owners[owner] += samples
                lines[re.sub(r"\(.*?([\w.]+/[\w/.]+:\d+)\)", r"(\1)", frame)] += samples
                break
        else:
            owners["other Python"] += samples
    if not busy:
        return None
    return {
        "busy_share": busy / (busy + idle),
        "owners": {name: count / busy for name, count in owners.most_common()},
        "lines": {name: count / busy for name, count in lines.most_common(8)},
    }


def profile(url: str, headers: dict[str, str], server: int, seconds: int) -> dict[str, Any]:
    """Load `url` with wrk while perf samples the whole server and py-spy one of its workers."""
    pids = tree(server)
    workers = [pid for pid in pids if pid != server]
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        loaded: list[Round] = []
        load = threading.Thread(
            target=lambda: loaded.append(
                wrk_round(url, seconds=seconds * 2 + 2, headers=headers, server=server)
            )
        )
        load.start()
        try:
            result["components"] = perf_components(pids, seconds, out)
            result["python"] = py_spy_functions(workers[0], seconds, out) if workers else None
        finally:
            load.join()
    result["cpu_us"] = loaded[0].cpu_us if loaded else None
    return result


def summary(scenario: str, result: dict[str, Any], nginx_cpu_us: float | None) -> str:
    """Return a profile as a few lines of text."""
    cpu = result.get("cpu_us")
    lines = [
        f"profile: {scenario} (feedsvc {cpu or 0:.1f} µs of server CPU a request under "
        f"profiling; nginx {nginx_cpu_us or 0:.1f} µs unprofiled)"
    ]
    components = result.get("components")
    if components is None:
        lines.append("  by component: perf not available")
    else:
        for name, share in sorted(components.items(), key=lambda item: -item[1]):
            spent = f", ~{share * cpu:.1f} µs" if cpu else ""
            lines.append(f"  {share:6.1%} {name}{spent}")
    python = result.get("python")
    if python is None:
        lines.append("  Python of one worker: py-spy not available")
    else:
        lines.append(
            f"  one worker's Python thread serves requests in {python['busy_share']:.0%} of the "
            "samples; of those, by owner of the innermost frame:"
        )
        for name, share in python["owners"].items():
            lines.append(f"    {share:6.1%} {name}")
        lines.append("  hottest lines (granian's _runner line 60 is response_bytes: the hand-off")
        lines.append("  of the response to granian's Rust server, its system calls included):")
        for name, share in python["lines"].items():
            lines.append(f"    {share:6.1%} {name}")
    return "\n".join(lines)
