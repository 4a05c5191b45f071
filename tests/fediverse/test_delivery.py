"""The delivery queue: a follower inbox answering 500 gets retries and then the activity, a
dead inbox is dropped with its followers, and deliveries survive SIGKILL of the writer.
Every delivery received is checked against the site's public key here, with `cryptography`."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from feedsvc.config.settings import load_settings
from feedsvc.fediverse.delivery import DeliveryWorker
from feedsvc.fediverse.keys import load_keys
from feedsvc.fediverse.store import Follower, open_store
from tests.conftest import SITE_URL, run_ingest, stop_server, write_article
from tests.fediverse.helpers import serve


class Inbox:
    """A loopback inbox: answers each POST with `answer(n)` (n counts from 0), after `delay`."""

    def __init__(self, answer: Callable[[int], int], delay: float = 0.0) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(delay)
                with owner.lock:
                    number = len(owner.received)
                    owner.received.append((self.path, dict(self.headers), body))
                self.send_response(answer(number))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def check_signature(public_pem: str, path: str, headers: dict[str, str], body: bytes) -> None:
    """Verify a delivery's draft-cavage signature and Digest, independently of feedsvc."""
    params = dict(part.split("=", 1) for part in headers["Signature"].replace('"', "").split(","))
    assert params["headers"] == "(request-target) host date digest"
    expected = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert headers["Digest"] == expected
    text = (
        f"(request-target): post {path}\nhost: {headers['Host']}\ndate: {headers['Date']}\n"
        f"digest: {headers['Digest']}"
    )
    key = serialization.load_pem_public_key(public_pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(  # raises InvalidSignature
        base64.b64decode(params["signature"]), text.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def _settings(seeds: Path, database: Path, **extra: object) -> Any:
    return load_settings(
        {},
        {
            "SEEDS_DIR": seeds,
            "DATABASE": database,
            "SITE_URL": SITE_URL,
            "FEDIVERSE": True,
            "FEDIVERSE_ALLOW_PRIVATE": True,
            "FEDIVERSE_TIMEOUT": 2,
            "FEDIVERSE_RETRY_MS": 50,
            **extra,
        },
    )


def _wait(condition: Callable[[], bool], timeout: float, what: str = "the condition") -> None:
    """Poll `condition` until it holds; fail after `timeout` s (bounds are generous: the
    machine may be loaded, and a poll ends as soon as the condition holds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def worker_for() -> Iterator[Callable[[Any], DeliveryWorker]]:
    started: list[DeliveryWorker] = []

    def start(settings: Any) -> DeliveryWorker:
        started.append(DeliveryWorker(settings).start())
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


def test_an_inbox_answering_500_gets_retries_then_the_activity(
    seeds: Path, database: Path, catalog: Any, worker_for: Callable[[Any], DeliveryWorker]
) -> None:
    inbox = Inbox(lambda n: 500 if n < 2 else 202)
    try:
        settings = _settings(seeds, database)
        run_ingest(catalog, seeds)
        with open_store(database) as store:
            store.add_follower(Follower("", "https://a.example/u", inbox.url + "/inbox", None))
        DeliveryWorker(settings).run_once()  # the first pass only takes note
        write_article(seeds, "009_new", "Science", "Fresh news", "Body.")
        run_ingest(catalog, seeds)
        worker_for(settings)
        _wait(lambda: len(inbox.received) >= 3, 20)
        with open_store(database) as store:
            _wait(lambda: store.count("delivered") == 1, 10)
            assert store.db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0
        bodies = {body for _path, _headers, body in inbox.received}
        assert len(bodies) == 1  # the same activity, tried three times
        activity = json.loads(bodies.pop())
        assert activity["type"] == "Create"
        assert "Fresh news" in activity["object"]["content"]
        pem = load_keys(database).public_pem
        for path, headers, body in inbox.received:
            check_signature(pem, path, headers, body)
    finally:
        inbox.close()


@pytest.mark.slow
def test_a_dead_inbox_is_dropped_with_its_followers(
    seeds: Path, database: Path, catalog: Any, worker_for: Callable[[Any], DeliveryWorker]
) -> None:
    inbox = Inbox(lambda n: 503)
    try:
        settings = _settings(seeds, database, FEDIVERSE_GIVE_UP_SECONDS=1)
        run_ingest(catalog, seeds)
        with open_store(database) as store:
            store.add_follower(Follower("", "https://a.example/u", inbox.url + "/inbox", None))
        DeliveryWorker(settings).run_once()
        write_article(seeds, "009_new", "Science", "Fresh news", "Body.")
        run_ingest(catalog, seeds)
        worker_for(settings)
        with open_store(database) as store:
            _wait(lambda: store.follower_count() == 0, 20)
            assert store.count("dropped") == 1
            assert store.db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0
        assert len(inbox.received) >= 2  # retried before giving up
    finally:
        inbox.close()


@pytest.mark.slow
def test_deliveries_survive_sigkill_of_the_writer(seeds: Path, tmp_path: Path) -> None:
    inbox = Inbox(lambda n: 202, delay=0.2)
    followers = 24
    process, _base, log = serve(seeds, tmp_path, {"FEEDSVC_FEDIVERSE_CONCURRENCY": "2"})
    try:
        database = tmp_path / "served.sqlite3"
        with open_store(database) as store:
            _wait(lambda: store.meta("baseline") is not None, 90, "the writer's first pass")
            for n in range(followers):
                inbox_url = f"{inbox.url}/inbox/{n}"
                store.add_follower(Follower("", f"https://f{n}.example/u", inbox_url, None))
        write_article(seeds, "009_new", "Science", "Fresh news", "Body.")
        _wait(lambda: len(inbox.received) >= 4, 90, "the first deliveries")
        state = json.loads((tmp_path / "run" / "supervisor.json").read_text())
        os.kill(state["writer_pid"], signal.SIGKILL)
        killed_at = time.monotonic()
        every = {f"/inbox/{n}" for n in range(followers)}
        _wait(lambda: {p for p, _h, _b in inbox.received} >= every, 60, "every inbox")
        drained = time.monotonic() - killed_at
        with open_store(database) as store:
            _wait(
                lambda: store.db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0,
                60,
                "an empty queue",
            )
        paths = [p for p, _h, _b in inbox.received]
        assert sorted(set(paths)) == sorted(f"/inbox/{n}" for n in range(followers))
        # At most the deliveries in flight at the kill (2) arrive twice (receivers drop repeats).
        assert len(paths) - followers <= 2
        assert drained < 60
    finally:
        inbox.close()
        assert stop_server(process) == 0, log.read_text()


def test_health_shows_the_queue_and_an_overdue_one_is_a_problem(
    seeds: Path, database: Path, catalog: Any
) -> None:
    from feedsvc.catalog.watch import CatalogState
    from feedsvc.fediverse import queue
    from feedsvc.health import health

    settings = _settings(seeds, database, HEALTH_MAX_LAG=60)
    run_ingest(catalog, seeds)
    with open_store(database) as store:
        store.add_follower(Follower("", "https://a.example/u", "https://a.example/inbox", None))
        queue.enqueue(store, [("https://a.example/inbox", "https://x/actor", b"{}")])
    now = time.time()
    fresh = health(settings, CatalogState("ok"), now=now)["fediverse"]
    assert fresh["followers"] == 1
    assert fresh["queue"]["pending"] == 1
    late = health(settings, CatalogState("ok"), now=now + 600)
    assert any("fediverse deliveries" in problem for problem in late["problems"])


def test_a_claimed_delivery_that_never_ended_is_overdue_in_health(
    seeds: Path, database: Path, catalog: Any
) -> None:
    from feedsvc.catalog.watch import CatalogState
    from feedsvc.fediverse import queue
    from feedsvc.health import health

    settings = _settings(seeds, database, HEALTH_MAX_LAG=60)
    run_ingest(catalog, seeds)
    now = time.time()
    with open_store(database) as store:
        queue.enqueue(store, [("https://a.example/inbox", "https://x/actor", b"{}")], now - 900)
        assert len(queue.claim(store, 1, now=now - 900)) == 1  # by a worker that then hung
    late = health(settings, CatalogState("ok"), now=now)
    assert any("fediverse deliveries" in problem for problem in late["problems"])
    assert late["fediverse"]["queue"]["claimed"] == 1


def test_an_inbox_url_that_cannot_be_sent_to_never_stops_the_worker(
    seeds: Path, database: Path, catalog: Any, worker_for: Callable[[Any], DeliveryWorker]
) -> None:
    inbox = Inbox(lambda n: 202)
    try:
        settings = _settings(seeds, database)
        run_ingest(catalog, seeds)
        with open_store(database) as store:  # as a store made before inboxes were checked
            bad = inbox.url + "/inbox/\u00e9"
            store.add_follower(Follower("", "https://a.example/u", bad, None))
            store.add_follower(Follower("", "https://b.example/u", inbox.url + "/inbox/b", None))
        DeliveryWorker(settings).run_once()
        write_article(seeds, "009_new", "Science", "Fresh news", "Body.")
        run_ingest(catalog, seeds)
        worker = worker_for(settings)
        with open_store(database) as store:
            _wait(lambda: store.count("delivered") == 1 and store.count("refused") == 1, 30)
            assert store.db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0
        assert [path for path, _h, _b in inbox.received] == ["/inbox/b"]
        assert worker.thread is not None
        assert worker.thread.is_alive()
    finally:
        inbox.close()


@pytest.mark.slow
def test_the_worker_outlives_a_failing_store_and_goes_on(
    seeds: Path,
    database: Path,
    catalog: Any,
    worker_for: Callable[[Any], DeliveryWorker],
    caplog: pytest.LogCaptureFixture,
) -> None:
    inbox = Inbox(lambda n: 202)
    try:
        settings = _settings(seeds, database)
        run_ingest(catalog, seeds)
        with open_store(database) as store:
            store.add_follower(Follower("", "https://a.example/u", inbox.url + "/inbox", None))
            (schema,) = store.db.execute(
                "SELECT sql FROM sqlite_master WHERE name = 'deliveries'"
            ).fetchone()
        DeliveryWorker(settings).run_once()
        with open_store(database) as store, store.db:
            store.db.execute("DROP TABLE deliveries")  # every claim now fails
        worker = worker_for(settings)
        _wait(lambda: "the delivery worker failed" in caplog.text, 30)
        with open_store(database) as store, store.db:
            store.db.execute(schema)
        write_article(seeds, "009_new", "Science", "Fresh news", "Body.")
        run_ingest(catalog, seeds)
        _wait(lambda: len(inbox.received) == 1, 60)
        assert worker.thread is not None
        assert worker.thread.is_alive()
    finally:
        inbox.close()
