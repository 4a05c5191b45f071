"""Run one ingest in this process and print its time and the process's peak memory as JSON."""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from feedsvc.catalog import open_catalog
from feedsvc.catalog.dating import Dating
from feedsvc.catalog.ingest import ingest


def main() -> None:
    """Usage: python -m benchmarks.ingest_once SEEDS DATABASE [--git-dates]."""
    seeds, database = Path(sys.argv[1]), Path(sys.argv[2])
    git = "--git-dates" in sys.argv[3:]
    catalog = open_catalog(database, create=True)
    started = time.perf_counter()
    report = ingest(catalog, seeds, site_host="bench.example", dating=Dating(seeds, git=git))
    seconds = time.perf_counter() - started
    catalog.close()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    json.dump(
        {
            "seconds": seconds,
            "peak_mib": peak_kib / 1024,
            "added": len(report.added),
            "unchanged": len(report.unchanged),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
