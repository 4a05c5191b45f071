"""The delivery worker: runs in the writer process (never in a web request), notices catalog
changes, queues what followers must be told (reconcile.py) and sends the queue, each delivery
signed by its actor, at most `fediverse_concurrency` at a time.

Nothing one delivery does can stop the worker: any error while sending counts as a failed
attempt (retried with backoff), a URL no request can go to is dropped at once, and the loop
itself is supervised (an error is logged and the loop starts again after a pause)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime

from feedsvc.catalog import open_catalog
from feedsvc.config.settings import Settings
from feedsvc.errors import FeedsvcError
from feedsvc.fediverse import queue
from feedsvc.fediverse.errors import FetchError
from feedsvc.fediverse.keys import load_keys
from feedsvc.fediverse.queue import Delivery
from feedsvc.fediverse.reconcile import reconcile
from feedsvc.fediverse.remote import ACCEPT, ACTIVITY_JSON, check_url, request
from feedsvc.fediverse.signatures import sign
from feedsvc.fediverse.signers import policy
from feedsvc.fediverse.store import Store, open_store

log = logging.getLogger(__name__)

POLL = 0.25  # seconds between looks at the catalog and the queue when idle
RESTART_PAUSE = (1.0, 60.0)  # the supervised loop's first and longest pause after an error


def send(settings: Settings, item: Delivery) -> tuple[str, str]:
    """Send one delivery; return ('ok' | 'refused' | 'failed', reason). Never raises."""
    try:
        return _send(settings, item)
    except Exception as exc:  # a bug or a surprise: one failed attempt, never a dead worker
        if item.attempts == 0:  # once per delivery, not once per retry
            log.exception("fediverse: delivery to %r raised", item.inbox[:200])
        return "failed", f"{type(exc).__name__}: {exc}"[:500]


def _send(settings: Settings, item: Delivery) -> tuple[str, str]:
    try:
        check_url(item.inbox, policy(settings))
    except FetchError as exc:
        return "refused", exc.reason  # no request can ever go there
    keys = load_keys(settings.database)
    headers = sign(
        "POST", item.inbox, item.body, keys, item.signer + "#main-key", datetime.now(UTC)
    )
    headers |= {"Content-Type": ACTIVITY_JSON, "Accept": ACCEPT}
    try:
        answer = request("POST", item.inbox, headers, item.body, policy(settings))
    except FetchError as exc:
        return "failed", exc.reason
    if 200 <= answer.status < 300:
        return "ok", str(answer.status)
    reason = f"answered {answer.status}"
    if 400 <= answer.status < 500 and answer.status not in (408, 429):
        return "refused", reason
    return "failed", reason


class DeliveryWorker:
    """Reconciles and delivers until stopped."""

    def __init__(self, settings: Settings, stop_event: threading.Event | None = None) -> None:
        self.settings = settings
        self.stop_event = stop_event or threading.Event()
        self.thread: threading.Thread | None = None
        self._failing: str | None = None

    def start(self) -> DeliveryWorker:
        """Run in a daemon thread."""
        self.thread = threading.Thread(target=self.run, name="fediverse-delivery", daemon=True)
        self.thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the worker to stop and wait for it (deliveries in flight finish or time out)."""
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout)

    def run(self) -> None:
        """Run the loop until stopped; when it fails, log why and start it again after a pause
        (doubling up to a minute while it keeps failing)."""
        pause = RESTART_PAUSE[0]
        while not self.stop_event.is_set():
            started = time.monotonic()
            try:
                self._loop()
            except Exception:
                log.exception("fediverse: the delivery worker failed; again in %g s", pause)
            else:
                return  # stopped
            if time.monotonic() - started > RESTART_PAUSE[1]:
                pause = RESTART_PAUSE[0]  # it ran a while: a new trouble, not the same one
            self.stop_event.wait(pause)
            pause = min(RESTART_PAUSE[1], pause * 2)

    def _loop(self) -> None:
        """Reconcile when the catalog changed, keep up to `fediverse_concurrency` deliveries in
        flight, record each as soon as it ends (so a kill repeats at most those in flight)."""
        workers = self.settings.fediverse_concurrency
        in_flight: dict[Future[tuple[str, str]], Delivery] = {}
        checked = 0.0
        with open_store(self.settings.database) as store:
            queue.release_claims(store)  # the claims of a loop or writer that is gone
            with ThreadPoolExecutor(workers, thread_name_prefix="fediverse-send") as pool:
                while not self.stop_event.is_set() or in_flight:
                    if time.monotonic() - checked >= POLL and not self.stop_event.is_set():
                        checked = time.monotonic()
                        self._reconcile(store)
                    free = 0 if self.stop_event.is_set() else workers - len(in_flight)
                    for item in queue.claim(store, free) if free else []:
                        in_flight[pool.submit(send, self.settings, item)] = item
                    if not in_flight:
                        self.stop_event.wait(POLL)
                        continue
                    done, _pending = wait(in_flight, timeout=POLL, return_when=FIRST_COMPLETED)
                    for future in done:
                        self._record(store, in_flight.pop(future), *future.result())

    def run_once(self) -> int:
        """Reconcile, then send everything due now (tests, `feedsvc` tools); return how many
        deliveries were tried."""
        with open_store(self.settings.database) as store:
            self._reconcile(store)
            tried = 0
            while items := queue.claim(store, 64):
                for item in items:
                    self._record(store, item, *send(self.settings, item))
                tried += len(items)
            return tried

    def _reconcile(self, store: Store) -> None:
        try:
            catalog = open_catalog(self.settings.database, readonly=True)
        except FeedsvcError as exc:
            self._log_failure(str(exc))
            return
        try:
            queued = reconcile(self.settings, store, catalog)
        except FeedsvcError as exc:
            self._log_failure(str(exc))
            return
        finally:
            catalog.close()
        self._failing = None
        if queued:
            log.info("fediverse: %d deliveries queued", queued)

    def _log_failure(self, reason: str) -> None:
        if reason != self._failing:
            log.error("fediverse: cannot compare the catalog with the store: %s (retrying)", reason)
        self._failing = reason

    def _record(self, store: Store, item: Delivery, verdict: str, reason: str) -> None:
        if verdict == "ok":
            queue.delivered(store, item)
            return
        if verdict == "refused":
            log.warning("fediverse: %s refused a delivery (%s): dropped", item.inbox, reason)
            queue.refused(store, item, reason)
            return
        settings = self.settings
        dead = queue.failed(
            store,
            item,
            reason,
            base=settings.fediverse_retry_ms / 1000,
            give_up=float(settings.fediverse_give_up_seconds),
            now=time.time(),
        )
        if item.attempts == 0:
            log.info("fediverse: delivery to %s failed (%s): retrying", item.inbox, reason)
        if dead:
            gone = store.drop_inbox(item.inbox)
            log.warning(
                "fediverse: %s has failed for %d s: %d followers through it dropped",
                item.inbox,
                settings.fediverse_give_up_seconds,
                gone,
            )


def start_worker(settings: Settings) -> DeliveryWorker | None:
    """Start the delivery worker when federation is on (the writer process calls this)."""
    if not settings.fediverse:
        return None
    with contextlib.suppress(FeedsvcError):
        load_keys(settings.database)  # made once, before any request needs it
    return DeliveryWorker(settings).start()
