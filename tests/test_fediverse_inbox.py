"""The inbox against hostile requests: each gets the right 4xx, stores nothing and never
hangs. Requests are signed in the tests with `cryptography` alone (fediverse_helpers), the
signer's actor is served over loopback HTTP, and a valid Follow shows each refusal was not
the only possible answer."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedsvc import create_app
from feedsvc.catalog import Catalog
from feedsvc.fediverse.store import open_store

from .conftest import SITE_URL, run_ingest
from .fediverse_helpers import cavage_headers, make_key

INBOX = f"{SITE_URL}/fediverse/inbox"
SITE_ACTOR = f"{SITE_URL}/fediverse/actor.json"


class RemoteActor:
    """A remote server on loopback that serves one actor document (and counts requests)."""

    def __init__(self) -> None:
        self.key, pem = make_key()
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests += 1
                body = json.dumps(owner.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/activity+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        port = self.server.server_address[1]
        self.actor = f"http://127.0.0.1:{port}/users/alice"
        self.key_id = self.actor + "#main-key"
        self.document = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.actor,
            "type": "Person",
            "inbox": self.actor + "/inbox",
            "endpoints": {"sharedInbox": f"http://127.0.0.1:{port}/inbox"},
            "publicKey": {"id": self.key_id, "owner": self.actor, "publicKeyPem": pem},
        }
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def remote() -> Iterator[RemoteActor]:
    actor = RemoteActor()
    yield actor
    actor.close()


def _app(seeds: Path, database: Path, catalog: Catalog, allow_private: bool) -> Flask:
    run_ingest(catalog, seeds)
    return create_app(
        {
            "SEEDS_DIR": seeds,
            "DATABASE": database,
            "SITE_URL": SITE_URL,
            "SITE_TITLE": "Test News",
            "FEDIVERSE": True,
            "FEDIVERSE_ALLOW_PRIVATE": allow_private,
            "FEDIVERSE_TIMEOUT": 1,
        }
    )


@pytest.fixture
def client(seeds: Path, database: Path, catalog: Catalog) -> FlaskClient:
    return _app(seeds, database, catalog, allow_private=True).test_client()


def _follow(actor: str) -> bytes:
    return json.dumps(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": actor + "/follows/1",
            "type": "Follow",
            "actor": actor,
            "object": SITE_ACTOR,
        }
    ).encode()


def _post(client: FlaskClient, body: bytes, headers: dict[str, str]) -> tuple[int, float]:
    started = time.monotonic()
    response = client.post(INBOX, data=body, headers=headers, base_url=SITE_URL)
    return response.status_code, time.monotonic() - started


def _stored(database: Path) -> tuple[int, int]:
    with open_store(database) as store:
        deliveries = store.db.execute("SELECT count(*) FROM deliveries").fetchone()[0]
        return store.follower_count(), int(deliveries)


def test_a_signed_follow_is_taken(client: FlaskClient, remote: RemoteActor, database: Path) -> None:
    body = _follow(remote.actor)
    status, _ = _post(client, body, cavage_headers(remote.key, remote.key_id, INBOX, body))
    assert status == 202
    assert _stored(database) == (1, 1)  # the follower, and its Accept queued


def test_unsigned_is_401(client: FlaskClient, remote: RemoteActor, database: Path) -> None:
    body = _follow(remote.actor)
    headers = cavage_headers(remote.key, remote.key_id, INBOX, body)
    del headers["Signature"]
    assert _post(client, body, headers)[0] == 401
    assert _stored(database) == (0, 0)


def test_wrong_key_is_401(client: FlaskClient, remote: RemoteActor, database: Path) -> None:
    other, _pem = make_key()
    body = _follow(remote.actor)
    assert _post(client, body, cavage_headers(other, remote.key_id, INBOX, body))[0] == 401
    assert _stored(database) == (0, 0)


def test_replayed_old_date_is_401(client: FlaskClient, remote: RemoteActor, database: Path) -> None:
    body = _follow(remote.actor)
    old = time.time() - 2 * 3600
    headers = cavage_headers(remote.key, remote.key_id, INBOX, body, date=old)
    assert _post(client, body, headers)[0] == 401
    assert _stored(database) == (0, 0)


def test_digest_mismatch_is_400(client: FlaskClient, remote: RemoteActor, database: Path) -> None:
    body = _follow(remote.actor)
    headers = cavage_headers(remote.key, remote.key_id, INBOX, body, body_digest=b"other")
    assert _post(client, body, headers)[0] == 400
    assert _stored(database) == (0, 0)


def test_a_10_mb_body_is_413_unread(
    client: FlaskClient, remote: RemoteActor, database: Path
) -> None:
    body = b"{" + b" " * (10 * 1024 * 1024) + b"}"
    headers = cavage_headers(remote.key, remote.key_id, INBOX, body)
    status, seconds = _post(client, body, headers)
    assert status == 413
    assert seconds < 5
    assert remote.requests == 0  # refused before any key was fetched
    assert _stored(database) == (0, 0)


def test_not_json_is_400(client: FlaskClient, remote: RemoteActor, database: Path) -> None:
    body = b"<xml/>"
    assert _post(client, body, cavage_headers(remote.key, remote.key_id, INBOX, body))[0] == 400
    assert _stored(database) == (0, 0)


def test_an_actor_on_loopback_is_refused_unless_allowed(
    seeds: Path, database: Path, catalog: Catalog, remote: RemoteActor
) -> None:
    client = _app(seeds, database, catalog, allow_private=False).test_client()
    body = _follow(remote.actor)
    status, _ = _post(client, body, cavage_headers(remote.key, remote.key_id, INBOX, body))
    assert status == 401
    assert remote.requests == 0  # never even asked
    assert _stored(database) == (0, 0)


def test_an_actor_that_never_answers_is_401_in_bounded_time(
    client: FlaskClient, database: Path
) -> None:
    key, _pem = make_key()
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        actor = f"http://127.0.0.1:{silent.getsockname()[1]}/users/mute"
        body = _follow(actor)
        status, seconds = _post(client, body, cavage_headers(key, actor + "#main-key", INBOX, body))
    assert status == 401
    assert seconds < 5  # FEEDSVC_FEDIVERSE_TIMEOUT=1
    assert _stored(database) == (0, 0)


def test_a_get_of_the_inbox_is_405(client: FlaskClient) -> None:
    assert client.get(INBOX, base_url=SITE_URL).status_code == 405
