"""Keep the catalog live while serving: the writer re-ingests when seed files change.

The writer is the catalog's one writer. It runs in its own process (supervised by `feedsvc
serve`, see supervisor.py, or alone with `feedsvc watch`), so the server's worker processes
never share its threads or locks; workers notice each commit through SQLite's data_version.
It never stops silently: a failing ingest is logged once per change of reason and retried
with backoff, files still being written wait until they settle, and its state is kept in the
run folder for /healthz and `feedsvc status`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import watchfiles

from feedsvc import urlmap
from feedsvc.articles.seeds_folder import warm_readers
from feedsvc.catalog.ingest import IngestReport, Rejected, Settle
from feedsvc.catalog.place import FileIdentity
from feedsvc.catalog.safekeeping import run_ingest
from feedsvc.config.settings import Settings
from feedsvc.deploy.continuous import Publisher
from feedsvc.deploy.websub import HubNotifier
from feedsvc.documents.feeds import FORMATS
from feedsvc.errors import FeedsvcError
from feedsvc.health import WRITER, write_state

log = logging.getLogger(__name__)

MAX_RETRY_SECONDS = 60.0
TICK_MS = 500  # the writer wakes at least this often: heartbeat, due ingests, parent check


def changed_feeds(settings: Settings, report: IngestReport) -> list[str]:
    """Return the subscription feed URLs a report touched: the site's, its sections', tags'
    and authors'."""
    scopes = [(None, "section"), *((slug, "section") for slug in sorted(report.sections))]
    scopes += [(slug, kind) for kind, slug in sorted(report.members)]
    return [
        settings.site.absolute(urlmap.feed(slug, name, kind=kind))
        for slug, kind in scopes
        for name in FORMATS
    ]


class Writer:
    """Re-ingests on file events (debounced), when files settle, every `rescan_seconds`, and
    after a failure with exponential backoff; reports its state."""

    def __init__(
        self,
        settings: Settings,
        notifier: HubNotifier | None = None,
        heartbeat: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.notifier = notifier
        self.publisher: Publisher | None = None
        if settings.deploy_target is not None:
            ping = notifier.publish if notifier is not None else None
            self.publisher = Publisher(settings, ping, self.beat)
            self.publisher.changed([])  # bring the target up to date at start
        self.heartbeat = heartbeat or (lambda: None)
        self.stop_event = threading.Event()
        self.settle = Settle(settings.settle_ms / 1000)
        self.known: FileIdentity | None = None
        self.failures = 0
        self.due: float | None = 0.0  # monotonic time an ingest is due (None: nothing due)
        self._reported: dict[str, Rejected] = {}
        self._failed_on: tuple[int, int, int] | None = None  # the catalog file as it failed
        self._saved = 0.0
        self.state: dict[str, Any] = {
            "pid": os.getpid(),
            "heartbeat": time.time(),
            "last_ingest": None,
            "last_change": None,
            "last_error": None,
            "error_since": None,
            "pending": 0,
            "behind_since": None,
        }

    def beat(self) -> None:
        """Tell the supervisor the writer makes progress; refresh the state file each second."""
        self.heartbeat()
        self.state["heartbeat"] = time.time()
        if time.monotonic() - self._saved >= 1.0:
            self.save()

    def save(self) -> None:
        """Write the state file now."""
        self._saved = time.monotonic()
        write_state(self.settings.runtime, WRITER, self.state)

    def seen_change(self) -> None:
        """Note a change in the folder that is not published yet."""
        now = time.monotonic()
        self.due = now if self.due is None else min(self.due, now)
        if self.state["behind_since"] is None:
            self.state["behind_since"] = time.time()

    def run_once(self) -> IngestReport | None:
        """Ingest now; log what changed, each newly rejected file and each new failure once."""
        started = time.time()
        try:
            report, self.known = run_ingest(
                self.settings, settle=self.settle, known=self.known, progress=self.beat, wait=30
            )
        except FeedsvcError as exc:
            self._failed(str(exc))
            return None
        if self.state["last_error"] is not None:
            log.info("ingest works again after %d failed attempts: publishing", self.failures)
        self.failures = 0
        self.state |= {"last_error": None, "error_since": None, "last_ingest": time.time()}
        self._log(report.rejected)
        if report.changed_anything:
            self.state["last_change"] = time.time()
            log.info(
                "catalog updated: %d added, %d changed, %d removed, %d renamed",
                len(report.added),
                len(report.changed),
                len(report.removed),
                len(report.renamed),
            )
            feeds = changed_feeds(self.settings, report)
            if self.publisher is not None:
                self.publisher.changed(feeds)  # pinged once deployed
            elif self.notifier is not None:
                self.notifier.publish(feeds)
        if self.publisher is not None and self.publisher.backlog:
            deployed = self.publisher.publish()
            self.state |= self.publisher.state
            if not deployed:  # its own backoff: the ingest itself works
                delay = min(MAX_RETRY_SECONDS, 2.0 ** (self.publisher.failures - 1))
                self.due = time.monotonic() + delay
        self.state["pending"] = len(report.pending)
        if report.pending:
            wait = (report.settle_in or 0.0) + 0.02
            self.due = time.monotonic() + wait
            self.state["behind_since"] = self.state["behind_since"] or started
        else:
            self.state["behind_since"] = None
        self.save()
        return report

    def _catalog_stamp(self) -> tuple[int, int, int] | None:
        try:
            stat = self.settings.database.stat()
        except OSError:
            return None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def _catalog_came_back(self) -> bool:
        """Tell whether the catalog file changed since the last failure (restored, moved back,
        its disk remounted): worth a try now rather than at the end of the backoff."""
        return self.failures > 0 and self._catalog_stamp() != self._failed_on

    def _failed(self, reason: str) -> None:
        self.failures += 1
        self._failed_on = self._catalog_stamp()
        delay = min(MAX_RETRY_SECONDS, 2.0 ** (self.failures - 1))
        self.due = time.monotonic() + delay
        if reason != self.state["last_error"]:
            log.error(
                "ingest failed: %s. Nothing new is published until this is fixed; feedsvc "
                "keeps serving what it has and retries (at most every %d s).",
                reason,
                MAX_RETRY_SECONDS,
            )
            self.state["error_since"] = time.time()
        self.state["last_error"] = reason
        self.state["behind_since"] = self.state["behind_since"] or time.time()
        self.save()

    def _log(self, rejected: Iterable[Rejected]) -> None:
        current = {item.path: item for item in rejected}
        for path, item in current.items():
            if self._reported.get(path) != item:
                log.warning("rejected %s: %s [%s] %s", path, item.reason, item.code, item.hint)
        self._reported = current

    def _tick(self, changed: bool, next_rescan: float) -> float:
        """Handle one wake-up; return when the next full rescan is due."""
        if changed or self._catalog_came_back():
            self.seen_change()
        now = time.monotonic()
        if now >= next_rescan:
            self.due = now if self.due is None else min(self.due, now)
            next_rescan = now + self.settings.rescan_seconds
        self.beat()
        if self.due is not None and now >= self.due:
            self.due = None
            self.run_once()
        # Due before the next wake-up (a file settling): run it then, not up to a tick late.
        soon = self.due is not None and self.due - time.monotonic() < TICK_MS / 1000
        if soon and not self.stop_event.wait(max(0.0, (self.due or 0.0) - time.monotonic())):
            self.due = None
            self.run_once()
        return next_rescan

    def run(self, parent_pid: int | None = None) -> None:
        """Watch until stopped (or until the parent process is gone)."""
        seeds = self.settings.seeds_dir
        # The first ingest (due at once) runs on the watcher's first wake-up, once it watches:
        # a file written between an ingest made before and the watch would go unseen until
        # the next full rescan.
        next_rescan = time.monotonic() + self.settings.rescan_seconds
        while not self.stop_event.is_set():
            try:
                for changes in watchfiles.watch(
                    seeds,
                    stop_event=self.stop_event,
                    debounce=150,
                    step=50,
                    rust_timeout=TICK_MS,
                    yield_on_timeout=True,
                    recursive=False,
                    raise_interrupt=False,
                    ignore_permission_denied=True,
                    watch_filter=None,
                ):
                    if parent_pid is not None and os.getppid() != parent_pid:
                        return
                    next_rescan = self._tick(bool(changes), next_rescan)
            except (OSError, RuntimeError) as exc:
                # No notifications (missing folder, no inotify): rescan on a timer instead.
                log.warning(
                    "file notifications unavailable (%s); rescanning every %ss",
                    exc,
                    self.settings.rescan_seconds,
                )
                while not self.stop_event.wait(TICK_MS / 1000):
                    if parent_pid is not None and os.getppid() != parent_pid:
                        return
                    next_rescan = self._tick(False, next_rescan)
                    if seeds.is_dir():
                        break  # notifications may work again


def watch_forever(
    settings: Settings,
    parent_pid: int | None = None,
    heartbeat: Callable[[], None] | None = None,
    known: FileIdentity | None = None,
) -> None:
    """Run the writer (with a WebSub notifier when a hub is set) until stopped.

    `known` is the catalog file the caller wrote: the writer refuses to write any other."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    notifier = HubNotifier(settings.websub_hub).start() if settings.websub_hub else None
    writer = Writer(settings, notifier, heartbeat)
    warm_readers(settings.file_seconds)
    writer.known = known
    # Fediverse deliveries run here, in the writer process: never in a web worker, whose
    # requests must not wait on other servers.
    deliveries = None
    if settings.fediverse:  # cryptography (the fediverse extra) is loaded only then
        from feedsvc.fediverse.delivery import start_worker

        deliveries = start_worker(settings)
    # Outside the main thread (tests) the caller stops it through stop_event instead.
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGTERM, lambda *_: writer.stop_event.set())
    try:
        writer.run(parent_pid)
    finally:
        if deliveries is not None:
            deliveries.stop()
        if notifier is not None:
            notifier.drain(15)
            notifier.stop()
