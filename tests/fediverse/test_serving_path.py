"""Serving never waits on another server: an inbox POST whose signer's key lives on a host that
never answers is answered at once (202, verified later off the serving path), and feeds keep
answering while such key fetches hang; a flood of them is refused with 429 (one sender) or 503
(the bounded queue is full), each with Retry-After, and nothing unverified is ever stored."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from feedsvc.catalog import Catalog
from feedsvc.fediverse.backlog import CAPACITY, PER_SENDER, THREADS
from tests.conftest import SITE_URL, stop_server
from tests.fediverse.helpers import (
    INBOX,
    RemoteActor,
    Silent,
    activity,
    cavage_headers,
    inbox_app,
    post_inbox,
    serve,
    settled,
    stored,
)

HANG = 10  # FEEDSVC_FEDIVERSE_TIMEOUT here: how long each key fetch waits on the silent host
QUICK = 2.0  # seconds: a feed or an inbox answer within this took no part in the wait


@pytest.fixture
def silent() -> Iterator[Silent]:
    host = Silent()
    yield host
    host.close()


def _request(
    base: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, float]:
    """Send one request; return its status and the seconds it took (bounded: 30 s at most)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    started = time.monotonic()
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    except TimeoutError:
        return 0, time.monotonic() - started
    finally:
        connection.close()


@pytest.mark.slow
def test_feeds_answer_while_signers_keys_hang(seeds: Path, tmp_path: Path, silent: Silent) -> None:
    process, base, log = serve(seeds, tmp_path, {"FEEDSVC_FEDIVERSE_TIMEOUT": str(HANG)})
    try:
        assert _request(base, "GET", "/feeds/atom.xml")[0] == 200  # warm
        posts: list[tuple[int, float]] = []
        senders = []
        for number in range(3):
            body, headers = silent.signed(f"mute{number}", base + "/fediverse/inbox")
            sender = threading.Thread(
                target=lambda b=body, h=headers: posts.append(
                    _request(base, "POST", "/fediverse/inbox", b, h)
                )
            )
            sender.start()
            senders.append(sender)
        assert silent.wait_for_connection(HANG), "no key fetch reached the silent host"
        status, seconds = _request(base, "GET", "/feeds/atom.xml")
        assert status == 200
        assert seconds < QUICK, f"the feed waited {seconds:.1f} s behind the key fetches"
        for sender in senders:
            sender.join(40)
        assert sorted(status for status, _seconds in posts) == [202, 202, 202]
        assert max(seconds for _status, seconds in posts) < QUICK
    finally:
        silent.close()
        assert stop_server(process) == 0, log.read_text()
    assert stored(tmp_path / "served.sqlite3") == (0, 0, 0)  # nothing unverified was kept


def _inbox_threads() -> int:
    return sum(thread.name == "fediverse-inbox" for thread in threading.enumerate())


@pytest.fixture
def client(seeds: Path, database: Path, catalog: Catalog) -> FlaskClient:
    # Key fetches would wait 10 s: each test ends them by closing its silent hosts.
    return inbox_app(seeds, database, catalog, FEDIVERSE_TIMEOUT=HANG).test_client()


def test_one_sender_flooding_is_429_with_retry_after(
    client: FlaskClient, silent: Silent, database: Path
) -> None:
    answers = []
    for number in range(PER_SENDER + 2):
        body, headers = silent.signed(f"mute{number}", INBOX)
        answers.append(post_inbox(client, body, headers, settle=False)[2])
    assert [a.status_code for a in answers] == [202] * PER_SENDER + [429, 429]
    assert int(answers[-1].headers["Retry-After"]) == HANG
    other = Silent()  # another sender still gets in
    try:
        body, headers = other.signed("someone", INBOX)
        assert post_inbox(client, body, headers, settle=False)[0] == 202
    finally:
        other.close()
        silent.close()
    settled(client)
    assert stored(database) == (0, 0, 0)


def test_a_full_backlog_is_503_with_retry_after_and_feeds_still_answer(
    client: FlaskClient, silent: Silent, database: Path
) -> None:
    hosts = [Silent() for _ in range(CAPACITY // PER_SENDER)]
    try:
        for host in hosts:
            for number in range(PER_SENDER):
                body, headers = host.signed(f"mute{number}", INBOX)
                assert post_inbox(client, body, headers, settle=False)[0] == 202
        body, headers = silent.signed("one-too-many", INBOX)
        status, _seconds, response = post_inbox(client, body, headers, settle=False)
        assert status == 503
        assert int(response.headers["Retry-After"]) == HANG
        assert _inbox_threads() <= THREADS  # the rest wait their turn, holding nothing
        assert client.get("/feeds/atom.xml", base_url=SITE_URL).status_code == 200
    finally:
        for host in hosts:
            host.close()
    settled(client)
    assert stored(database) == (0, 0, 0)
    deadline = time.monotonic() + 10
    while _inbox_threads() and time.monotonic() < deadline:  # idle threads end
        time.sleep(0.05)
    assert _inbox_threads() == 0


def test_the_same_request_twice_while_its_key_is_fetched_is_401(
    client: FlaskClient, silent: Silent, database: Path
) -> None:
    body, headers = silent.signed("mute", INBOX)
    assert post_inbox(client, body, headers, settle=False)[0] == 202
    status, _seconds, response = post_inbox(client, body, headers, settle=False)
    assert status == 401
    assert "replay" in response.text
    silent.close()
    settled(client)
    assert stored(database) == (0, 0, 0)


def test_a_cached_key_verifies_in_the_request_and_is_acted_on_at_once(
    client: FlaskClient, database: Path
) -> None:
    remote = RemoteActor()
    try:
        body = activity("Follow", remote.actor)
        headers = cavage_headers(remote.key, remote.key_id, INBOX, body)
        assert post_inbox(client, body, headers)[0] == 202  # fetched off the serving path
        assert stored(database)[0] == 1
        fetches = remote.requests
        undo = activity("Undo", remote.actor, json.loads(body))
        headers = cavage_headers(remote.key, remote.key_id, INBOX, undo)
        assert post_inbox(client, undo, headers, settle=False)[0] == 202
        assert stored(database)[0] == 0  # done before the answer, nothing left to wait for
        assert remote.requests == fetches
    finally:
        remote.close()
