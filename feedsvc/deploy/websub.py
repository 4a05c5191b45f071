"""WebSub publisher: tell a hub which feeds changed, in the background, with timeout and retries.

https://www.w3.org/TR/websub/#publishing: a POST with hub.mode=publish and hub.url=<topic>.
It runs in the writer (ingest), never in a web request.
"""

from __future__ import annotations

import logging
import queue
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable
from urllib.parse import urlencode

log = logging.getLogger(__name__)


def notify(hub: str, topic: str, *, timeout: float = 10.0) -> None:
    """POST one publish ping; raise OSError (URLError, HTTPError, timeout) when it fails."""
    body = urlencode({"hub.mode": "publish", "hub.url": topic}).encode("ascii")
    request = urllib.request.Request(  # noqa: S310 - the configured hub, http(s) only
        hub,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "feedsvc"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        response.read(1024)


class HubNotifier:
    """A background thread that pings the hub for each changed feed, retrying with backoff."""

    def __init__(
        self, hub: str, *, timeout: float = 10.0, attempts: int = 4, backoff: float = 1.0
    ) -> None:
        self.hub = hub
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="websub", daemon=True)
        self.sent = 0
        self.failed = 0

    def start(self) -> HubNotifier:
        """Start the background thread."""
        self._thread.start()
        return self

    def publish(self, topics: Iterable[str]) -> None:
        """Queue publish pings for these feed URLs (never blocks)."""
        for topic in topics:
            self._queue.put(topic)

    def drain(self, timeout: float) -> bool:
        """Wait until every queued ping was sent or given up; return whether that happened."""
        done = threading.Event()

        def wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the current ping (queued ones are dropped)."""
        self._stop.set()
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            topic = self._queue.get()
            try:
                if topic is not None:
                    self._send(topic)
            finally:
                self._queue.task_done()

    def _send(self, topic: str) -> None:
        for attempt in range(1, self.attempts + 1):
            try:
                notify(self.hub, topic, timeout=self.timeout)
            except (OSError, ValueError) as exc:
                log.warning("websub: ping %d for %s failed: %s", attempt, topic, exc)
                if attempt == self.attempts or self._stop.wait(self.backoff * 2 ** (attempt - 1)):
                    self.failed += 1
                    log.error("websub: gave up on %s after %d attempts", topic, attempt)
                    return
            else:
                self.sent += 1
                log.info("websub: told %s that %s changed", self.hub, topic)
                return
