"""Keep the catalog live while serving: re-ingest when seed files change, and periodically.

The watcher is the one writer. It runs in its own process (started by `feedsvc serve`, or
alone with `feedsvc watch`), so the server's worker processes never share its threads or locks;
workers notice each commit through SQLite's data_version.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Iterable
from dataclasses import replace

import watchfiles

from feedsvc.config import Settings
from feedsvc.errors import FeedsvcError
from feedsvc.feeds import FORMATS
from feedsvc.ingest import IngestReport, Rejected, run_ingest
from feedsvc.websub import HubNotifier

log = logging.getLogger(__name__)


def changed_feeds(settings: Settings, report: IngestReport) -> list[str]:
    """Return the subscription feed URLs a report touched: the site's and its sections'."""
    site = settings.site
    folders = ["/feeds/", *(f"/sections/{slug}/" for slug in sorted(report.sections))]
    return [site.absolute(folder + fmt.filename) for folder in folders for fmt in FORMATS.values()]


class Watcher:
    """Re-ingests on file events (debounced) and every `rescan_seconds` as a fallback."""

    def __init__(self, settings: Settings, notifier: HubNotifier | None = None) -> None:
        self.settings = settings
        self.notifier = notifier
        self.stop_event = threading.Event()
        self._reported: dict[str, Rejected] = {}

    def run_once(self) -> IngestReport | None:
        """Ingest now; log what changed and each newly rejected file once."""
        settings = self.settings
        try:
            report = run_ingest(settings)
        except FeedsvcError as exc:
            log.error("ingest failed: %s", exc)
            return None
        self._log(report.rejected)
        if report.changed_anything:
            log.info(
                "catalog updated: %d added, %d changed, %d removed, %d renamed",
                len(report.added),
                len(report.changed),
                len(report.removed),
                len(report.renamed),
            )
            if self.notifier is not None:
                self.notifier.publish(changed_feeds(settings, report))
        return report

    def _log(self, rejected: Iterable[Rejected]) -> None:
        current = {item.path: item for item in rejected}
        for path, item in current.items():
            if self._reported.get(path) != item:
                log.warning("rejected %s: %s [%s] %s", path, item.reason, item.code, item.hint)
        self._reported = current

    def run(self, parent_pid: int | None = None) -> None:
        """Watch until stopped (or until the parent process is gone)."""
        self.run_once()
        seeds = self.settings.seeds_dir
        timeout_ms = self.settings.rescan_seconds * 1000
        while not self.stop_event.is_set():
            try:
                for _changes in watchfiles.watch(
                    seeds,
                    stop_event=self.stop_event,
                    debounce=150,
                    step=50,
                    rust_timeout=timeout_ms,
                    yield_on_timeout=True,
                    recursive=False,
                    raise_interrupt=False,
                    ignore_permission_denied=True,
                    watch_filter=None,
                ):
                    if parent_pid is not None and os.getppid() != parent_pid:
                        return
                    self.run_once()
            except (OSError, RuntimeError) as exc:
                # No notifications (missing folder, no inotify): rescan on a timer instead.
                log.warning(
                    "file notifications unavailable (%s); rescanning every %ss",
                    exc,
                    self.settings.rescan_seconds,
                )
                if self.stop_event.wait(self.settings.rescan_seconds):
                    return
                if parent_pid is not None and os.getppid() != parent_pid:
                    return
                self.run_once()


def watch_forever(settings: Settings, parent_pid: int | None = None) -> None:
    """Run the watcher (with a WebSub notifier when a hub is set) until stopped."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    notifier = HubNotifier(settings.websub_hub).start() if settings.websub_hub else None
    try:
        Watcher(settings, notifier).run(parent_pid)
    finally:
        if notifier is not None:
            notifier.drain(15)
            notifier.stop()


def start_watcher_process(settings: Settings) -> multiprocessing.process.BaseProcess:
    """Start the watcher in a fresh process (spawned: it shares no threads with the server)."""
    context = multiprocessing.get_context("spawn")
    process = context.Process(
        target=watch_forever,
        args=(replace(settings), os.getpid()),
        name="feedsvc-watch",
        daemon=True,
    )
    process.start()
    return process
