"""The runner's chart: requests/s and p50 latency per scenario and server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SERVERS = ("feedsvc", "feedsvc-nolog", "ceiling", "nginx", "nginx-nolog", "hello", "naive")
COLORS = {
    "feedsvc": "#0b5cad",
    "feedsvc-nolog": "#6fa8dc",
    "nginx": "#27ae60",
    "nginx-nolog": "#8fd19e",
    "ceiling": "#f0b429",
    "hello": "#8a8a8a",
    "naive": "#c0392b",
}


def chart(data: dict[str, Any], path: Path) -> None:
    """Draw requests/s and p50 latency per scenario and server."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    servers = data["http"]["servers"]
    scenarios = list(servers)
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(11, 8))
    width = 0.115
    for index, server in enumerate(SERVERS):
        xs, rps, p50 = [], [], []
        for n, scenario in enumerate(scenarios):
            figures = servers[scenario].get(server)
            if isinstance(figures, dict):
                xs.append(n + (index - 3) * width)
                rps.append(figures["rps"])
                p50.append(figures["p50_ms"])
        top.bar(xs, rps, width, label=server, color=COLORS[server])
        bottom.bar(xs, p50, width, label=server, color=COLORS[server])
    for axis, label in ((top, "requests/s (median)"), (bottom, "p50 latency, ms (median)")):
        axis.set_xticks(range(len(scenarios)), scenarios)
        axis.set_ylabel(label)
        axis.grid(axis="y", alpha=0.3)
    bottom.set_yscale("log")
    top.legend(ncols=7, loc="upper right", fontsize="small")
    top.set_title(
        f"feedsvc vs nginx and Flask baselines, {data['machine']['cores']} cores, wrk -c32 on "
        f"loopback, {data['config']['http']:,} articles"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
