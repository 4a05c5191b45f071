"""feedsvc against nginx serving the same bytes (its own static export), and against two Flask
baselines: every scenario with both servers writing an access log, and again with neither.
A "ceiling" server, a bare WSGI callable replaying feedsvc's own answers on the same granian,
shows in each scenario what no Python code on granian can beat.

Rounds are interleaved (nginx, feedsvc, nginx, feedsvc, ...) so that a change of load on the
machine meets both servers alike; each figure is the median of its rounds. Each round also
measures the CPU time the server's processes spent per request.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import profile
from benchmarks.corpus import log
from benchmarks.load import (
    Round,
    check_status,
    free_port,
    granian,
    median_load,
    nginx,
    stop,
    wrk,
    wrk_round,
)
from feedsvc.service.server import INTERFACE, TARGET

SCENARIOS = ("feed", "feed gzip", "304", "304 gzip", "article", "front")
# (feedsvc server, nginx server) compared in each scenario: logging on both, off on both.
PAIRS = (("feedsvc", "nginx"), ("feedsvc-nolog", "nginx-nolog"))
INTERLEAVED = ("nginx", "feedsvc", "nginx-nolog", "feedsvc-nolog", "ceiling")
TARGET_RATIO = 0.9  # requests/s against nginx's, with the same logging
TARGET_P99 = 2.0  # the warm feed's p99 against nginx's


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return {k.lower(): v for k, v in response.headers.items()}, response.read()


def _nginx_conf(work: Path, out: Path, port: int, name: str, logged: bool) -> Path:
    site = (out / "_nginx.conf").read_text().replace("listen 80;", f"listen 127.0.0.1:{port};")
    (work / f"{name}-site.conf").write_text(site)
    conf = work / f"{name}.conf"
    access = f"{work}/logs/{name}-access.log" if logged else "off"
    conf.write_text(
        ("user root;\n" if os.geteuid() == 0 else "") + "worker_processes 2;\ndaemon off;\n"
        f"pid {work}/{name}.pid;\nerror_log {work}/{name}-error.log;\n"
        "events { worker_connections 1024; }\n"
        f"http {{\n access_log {access};\n include {work}/{name}-site.conf;\n}}\n"
    )
    return conf


def _plan(base: dict[str, str]) -> dict[str, dict[str, tuple[str, dict[str, str], int]]]:
    """Return, per scenario, each server's URL, request headers and expected status."""
    feed = "/feeds/atom.xml"
    _, body = _get(base["feedsvc"] + "/feeds/feed.json")
    article = str(json.loads(body)["items"][0]["url"]).removeprefix(base["feedsvc"])
    gzip = {"Accept-Encoding": "gzip"}
    plan: dict[str, dict[str, tuple[str, dict[str, str], int]]] = {s: {} for s in SCENARIOS}
    for server, url in base.items():
        if server in ("hello", "naive"):
            continue
        etag = _get(url + feed)[0]["etag"]
        gzip_etag = _get(url + feed, gzip)[0]["etag"]
        plan["feed"][server] = (url + feed, {}, 200)
        plan["feed gzip"][server] = (url + feed, gzip, 200)
        plan["304"][server] = (url + feed, {"If-None-Match": etag}, 304)
        # What a feed reader sends: its Accept-Encoding and the ETag of what it was sent.
        plan["304 gzip"][server] = (url + feed, {**gzip, "If-None-Match": gzip_etag}, 304)
        plan["article"][server] = (url + article, {}, 200)
        plan["front"][server] = (url + "/", {}, 200)
    plan["feed"]["hello"] = (base["hello"] + "/", {}, 200)
    plan["feed"]["naive"] = (base["naive"] + feed, {}, 200)
    return plan


def compare(
    work: Path,
    *,
    seconds: int,
    rounds: int,
    env: Callable[[int], dict[str, str]],
    export: Callable[[str], Path],
) -> dict[str, Any]:
    """Start every server, load each scenario on each, profile feedsvc where it misses."""
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    names = ("feedsvc", "feedsvc-nolog", "nginx", "nginx-nolog", "ceiling", "hello", "naive")
    ports = {name: free_port() for name in names}
    processes: dict[str, Any] = {}
    try:
        served = env(ports["feedsvc"])  # one site URL for all: the same bytes everywhere
        nolog = {**served, "FEEDSVC_ACCESS_LOG": "0"}
        for name, target, app_env in (
            ("feedsvc", TARGET, served),
            ("feedsvc-nolog", TARGET, nolog),
            ("ceiling", "benchmarks.apps:ceiling_app", nolog),
        ):
            log_file = logs / f"{name}.log"
            processes[name] = granian(target, ports[name], app_env, log_file, interface=INTERFACE)
        processes["hello"] = granian(
            "benchmarks.apps:hello_app", ports["hello"], {}, logs / "hello.log"
        )
        processes["naive"] = granian(
            "benchmarks.apps:naive_app", ports["naive"], served, logs / "naive.log"
        )
        out = export(f"http://127.0.0.1:{ports['feedsvc']}")
        for name in ("nginx", "nginx-nolog"):
            conf = _nginx_conf(work, out, ports[name], name, logged=name == "nginx")
            processes[name] = nginx(conf, work, ports[name])
        base = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        plan = _plan(base)
        results: dict[str, Any] = {}
        for scenario, targets in plan.items():
            results[scenario] = _measure(scenario, targets, processes, seconds, rounds)
        results["feed"]["bytes"] = len(_get(base["feedsvc"] + "/feeds/atom.xml")[1])
        ratios = ratio_table(results)
        profiles = {}
        for scenario, row in ratios.items():
            if row["log"] < TARGET_RATIO or (row["p99"] is not None and row["p99"] > TARGET_P99):
                log(f"profiling feedsvc on {scenario}")
                url, headers, _ = plan[scenario]["feedsvc"]
                found = profile.profile(url, headers, processes["feedsvc"].pid, max(seconds, 3))
                nginx_cpu = results[scenario]["nginx"].get("cpu_us")
                profiles[scenario] = {
                    **found,
                    "text": profile.summary(scenario, found, nginx_cpu),
                }
    finally:
        for process in processes.values():
            stop(process)
    return {"servers": results, "ratios": ratios, "profiles": profiles}


def _measure(
    scenario: str,
    targets: dict[str, tuple[str, dict[str, str], int]],
    processes: dict[str, Any],
    seconds: int,
    rounds: int,
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for server in ("hello", "naive"):
        if server in targets:
            url, headers, expect = targets[server]
            log(f"wrk {scenario} on {server} ({rounds} x {seconds} s)")
            figures[server] = wrk(
                url, seconds=seconds, rounds=rounds, headers=headers, expect=expect
            ).figures()
    order = list(INTERLEAVED)
    for server in order:
        url, headers, expect = targets[server]
        check_status(url, headers, expect)
    log(f"wrk {scenario}: {rounds} interleaved rounds x {seconds} s on {', '.join(order)}")
    measured: dict[str, list[Round]] = {server: [] for server in order}
    for n in range(rounds):
        for server in order if n % 2 == 0 else reversed(order):
            url, headers, _ = targets[server]
            measured[server].append(
                wrk_round(url, seconds=seconds, headers=headers, server=processes[server].pid)
            )
    for server in order:
        figures[server] = median_load(measured[server]).figures()
    return figures


def ratio_table(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return, per scenario, feedsvc's requests/s over nginx's (logging on both, off on both),
    the ceiling's over nginx's and, for the warm feed, feedsvc's p99 over nginx's."""
    table = {}
    for scenario in SCENARIOS:
        row = results[scenario]
        logged, bare = (row[a]["rps"] / row[b]["rps"] for a, b in PAIRS)
        p99 = (
            row["feedsvc"]["p99_ms"] / row["nginx"]["p99_ms"]
            if scenario in ("feed", "feed gzip")
            else None
        )
        ceiling = row["ceiling"]["rps"] / row["nginx-nolog"]["rps"]
        table[scenario] = {"log": logged, "nolog": bare, "ceiling": ceiling, "p99": p99}
    return table


def targets(http: dict[str, Any], row: Callable[..., None]) -> None:
    """Add the HTTP targets to a target table (`row(name, value, bound, higher)`)."""
    servers, ratios = http["servers"], http["ratios"]
    for scenario in SCENARIOS:
        row(f"{scenario} / nginx, both logging", ratios[scenario]["log"], TARGET_RATIO, True)
        row(
            f"{scenario} / nginx, neither logging",
            ratios[scenario]["nolog"],
            TARGET_RATIO,
            True,
            note=" (informational)",
        )
    for scenario in ("feed", "feed gzip"):
        row(f"p99 of {scenario} / nginx's", ratios[scenario]["p99"], TARGET_P99, False)
    hello = servers["feed"]["hello"]["rps"]
    row("warm feed / hello-world", servers["feed"]["feedsvc"]["rps"] / hello, 0.9, True)
    row("304 / hello-world", servers["304"]["feedsvc"]["rps"] / hello, 0.95, True)
    naive = servers["feed"]["naive"]["rps"]
    row("warm feed / naive feedgen", servers["feed"]["feedsvc"]["rps"] / naive, 10, True)


def table(http: dict[str, Any]) -> str:
    """Return the HTTP figures as Markdown, then the profiles of the scenarios that missed."""
    lines = [
        "| scenario | server | requests/s | p50 ms | p99 ms | server CPU µs/request | errors |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for scenario, servers in http["servers"].items():
        for server, figures in servers.items():
            if isinstance(figures, dict):
                cpu = figures.get("cpu_us")
                lines.append(
                    f"| {scenario} | {server} | {figures['rps']:,.0f} | {figures['p50_ms']:.2f} | "
                    f"{figures['p99_ms']:.2f} | {'' if cpu is None else f'{cpu:.1f}'} | "
                    f"{figures['errors']} |"
                )
    lines += [
        "",
        "| scenario | feedsvc / nginx, both logging | neither logging | ceiling / nginx, "
        "neither logging | p99 feedsvc / nginx |",
        "|---|---:|---:|---:|---:|",
    ]
    for scenario, row in http["ratios"].items():
        p99 = "" if row["p99"] is None else f"{row['p99']:.2f}"
        lines.append(
            f"| {scenario} | {row['log']:.2f} | {row['nolog']:.2f} | {row['ceiling']:.2f} | {p99} |"
        )
    for found in http["profiles"].values():
        lines += ["", "```", found["text"], "```"]
    return "\n".join(lines)
