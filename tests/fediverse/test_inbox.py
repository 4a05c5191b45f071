"""The inbox against hostile requests: each gets the right 4xx (or, when only the signer's
fetched key can tell, 202 and is dropped once it is fetched), stores nothing and never hangs.
Requests are signed in the tests with `cryptography` alone (fediverse_helpers), the signer's
actor is served over loopback HTTP, and a valid Follow shows each refusal was not the only
possible answer."""

from __future__ import annotations

import logging
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from feedsvc.catalog import Catalog
from feedsvc.fediverse.store import open_store, store_file
from tests.fediverse.helpers import (
    INBOX,
    RemoteActor,
    activity,
    cavage_headers,
    dropped,
    inbox_app,
    make_key,
    post_inbox,
    stored,
)


@pytest.fixture
def remote() -> Iterator[RemoteActor]:
    actor = RemoteActor()
    yield actor
    actor.close()


@pytest.fixture
def client(seeds: Path, database: Path, catalog: Catalog) -> FlaskClient:
    return inbox_app(seeds, database, catalog).test_client()


def _signed(remote: RemoteActor, body: bytes, **options: object) -> dict[str, str]:
    return cavage_headers(remote.key, remote.key_id, INBOX, body, **options)  # type: ignore[arg-type]


def test_a_signed_follow_is_taken(client: FlaskClient, remote: RemoteActor, database: Path) -> None:
    body = activity("Follow", remote.actor)
    assert post_inbox(client, body, _signed(remote, body))[0] == 202
    assert stored(database) == (1, 1, 1)  # the follower, its Accept queued, the key cached


def test_unsigned_is_401(client: FlaskClient, remote: RemoteActor, database: Path) -> None:
    body = activity("Follow", remote.actor)
    headers = _signed(remote, body)
    del headers["Signature"]
    assert post_inbox(client, body, headers)[0] == 401
    assert stored(database) == (0, 0, 0)


@pytest.fixture(autouse=True)
def _inbox_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="feedsvc.fediverse.inbox")


def test_wrong_key_is_dropped_once_the_key_is_fetched(
    client: FlaskClient, remote: RemoteActor, database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    other, _pem = make_key()
    body = activity("Follow", remote.actor)
    assert post_inbox(client, body, cavage_headers(other, remote.key_id, INBOX, body))[0] == 202
    assert "(401): the signature does not verify" in dropped(caplog)
    assert stored(database) == (0, 0, 0)


def test_wrong_key_with_the_right_key_cached_is_401_or_dropped(
    client: FlaskClient, remote: RemoteActor, database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    body = activity("Follow", remote.actor)
    assert post_inbox(client, body, _signed(remote, body))[0] == 202
    other, _pem = make_key()
    body = activity("Undo", remote.actor, {"type": "Follow", "actor": remote.actor})
    # The cached key fails: the actor may have a new one, so it is fetched again.
    assert post_inbox(client, body, cavage_headers(other, remote.key_id, INBOX, body))[0] == 202
    assert "(401): the signature does not verify" in dropped(caplog)
    assert stored(database) == (1, 1, 1)


def test_replayed_old_date_is_401(client: FlaskClient, remote: RemoteActor, database: Path) -> None:
    body = activity("Follow", remote.actor)
    headers = _signed(remote, body, date=time.time() - 2 * 3600)
    assert post_inbox(client, body, headers)[0] == 401
    assert stored(database) == (0, 0, 0)


def test_a_date_from_the_future_is_401(
    client: FlaskClient, remote: RemoteActor, database: Path
) -> None:
    body = activity("Follow", remote.actor)
    headers = _signed(remote, body, date=time.time() + 2 * 3600)
    status, _seconds, response = post_inbox(client, body, headers)
    assert status == 401, response.text
    assert "Date" in response.text
    assert stored(database) == (0, 0, 0)


def test_a_signature_that_does_not_cover_the_digest_is_401(
    client: FlaskClient, remote: RemoteActor, database: Path
) -> None:
    body = activity("Follow", remote.actor)
    headers = _signed(remote, body, covered=("(request-target)", "host", "date"))
    status, _seconds, response = post_inbox(client, body, headers)
    assert status == 401
    assert "digest" in response.text
    assert remote.requests == 0
    assert stored(database) == (0, 0, 0)


def test_a_request_signed_for_another_host_is_401(
    client: FlaskClient, remote: RemoteActor, database: Path
) -> None:
    # A request to another server's inbox, replayed here: its signature is valid, its Host not.
    body = activity("Follow", remote.actor)
    elsewhere = "https://evil.example/fediverse/inbox"
    headers = cavage_headers(remote.key, remote.key_id, elsewhere, body)
    status, _seconds, response = post_inbox(client, body, headers)
    assert status == 401
    assert "host" in response.text.lower()
    assert remote.requests == 0
    assert stored(database) == (0, 0, 0)


def test_the_host_is_the_forwarded_one_only_behind_a_trusted_proxy(
    seeds: Path, database: Path, catalog: Catalog, remote: RemoteActor
) -> None:
    body = activity("Follow", remote.actor)
    headers = _signed(remote, body)
    proxied = headers | {"Host": "127.0.0.1:8000", "X-Forwarded-Host": headers["Host"]}
    direct = inbox_app(seeds, database, catalog).test_client()
    assert post_inbox(direct, body, proxied)[0] == 401
    assert stored(database) == (0, 0, 0)
    behind = inbox_app(seeds, database, catalog, TRUST_PROXY=True).test_client()
    assert post_inbox(behind, body, proxied)[0] == 202


def test_the_same_signed_request_twice_is_401_the_second_time(
    client: FlaskClient, remote: RemoteActor, database: Path
) -> None:
    body = activity("Follow", remote.actor)
    headers = _signed(remote, body)
    assert post_inbox(client, body, headers)[0] == 202
    status, _seconds, response = post_inbox(client, body, headers)
    assert status == 401
    assert "replay" in response.text
    assert stored(database) == (1, 1, 1)  # one Accept, not two


def test_digest_mismatch_is_400(client: FlaskClient, remote: RemoteActor, database: Path) -> None:
    body = activity("Follow", remote.actor)
    headers = _signed(remote, body, body_digest=b"other")
    assert post_inbox(client, body, headers)[0] == 400
    assert stored(database) == (0, 0, 0)


def test_a_10_mb_body_is_413_unread(
    client: FlaskClient, remote: RemoteActor, database: Path
) -> None:
    body = b"{" + b" " * (10 * 1024 * 1024) + b"}"
    status, seconds, _response = post_inbox(client, body, _signed(remote, body))
    assert status == 413
    assert seconds < 5
    assert remote.requests == 0  # refused before any key was fetched
    assert stored(database) == (0, 0, 0)


def test_not_json_is_400(client: FlaskClient, remote: RemoteActor, database: Path) -> None:
    body = b"<xml/>"
    assert post_inbox(client, body, _signed(remote, body))[0] == 400
    assert stored(database) == (0, 0, 0)


def test_deeply_nested_json_is_400(
    client: FlaskClient, remote: RemoteActor, database: Path
) -> None:
    body = b"[" * 100_000
    assert post_inbox(client, body, _signed(remote, body))[0] == 400
    body = b'{"a":' * 20_000 + b"1" + b"}" * 20_000  # valid JSON, too deep for the parser
    assert post_inbox(client, body, _signed(remote, body))[0] == 400
    assert remote.requests == 0
    assert stored(database) == (0, 0, 0)


def test_a_follower_inbox_that_is_not_a_usable_url_is_refused(
    client: FlaskClient, remote: RemoteActor, database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    remote.document["inbox"] = remote.actor + "/inbox/\u00e9"
    remote.document["endpoints"] = {"sharedInbox": "ftp://127.0.0.1/inbox"}
    body = activity("Follow", remote.actor)
    assert post_inbox(client, body, _signed(remote, body))[0] == 202  # queued for its key
    assert "(400): the follower has no inbox" in dropped(caplog)
    assert stored(database)[:2] == (0, 0)
    # Its key is cached now: the same refusal comes at once, as a 400.
    body = activity("Follow", remote.actor).replace(b"follow-1", b"follow-2")
    status, _seconds, response = post_inbox(client, body, _signed(remote, body))
    assert status == 400
    assert "inbox" in response.text
    assert stored(database)[:2] == (0, 0)


def test_a_bad_shared_inbox_is_ignored_and_the_inbox_used(
    client: FlaskClient, remote: RemoteActor, database: Path
) -> None:
    remote.document["endpoints"] = {"sharedInbox": "http://127.0.0.1/" + "x" * 5000}
    body = activity("Follow", remote.actor)
    assert post_inbox(client, body, _signed(remote, body))[0] == 202
    with open_store(database) as store:
        row = store.db.execute("SELECT inbox, shared_inbox FROM followers").fetchone()
    assert row == (remote.actor + "/inbox", None)


def test_an_actor_on_loopback_is_refused_unless_allowed(
    seeds: Path, database: Path, catalog: Catalog, remote: RemoteActor
) -> None:
    client = inbox_app(seeds, database, catalog, FEDIVERSE_ALLOW_PRIVATE=False).test_client()
    body = activity("Follow", remote.actor)
    assert post_inbox(client, body, _signed(remote, body))[0] == 401
    assert remote.requests == 0  # never even asked
    assert stored(database) == (0, 0, 0)


def test_an_actor_that_never_answers_is_dropped_in_bounded_time(
    client: FlaskClient, database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key, _pem = make_key()
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        actor = f"http://127.0.0.1:{silent.getsockname()[1]}/users/mute"
        body = activity("Follow", actor)
        headers = cavage_headers(key, actor + "#main-key", INBOX, body)
        status, seconds, _response = post_inbox(client, body, headers)  # settles: bounded
    assert status == 202
    assert seconds < 2  # answered before the fetch (1 s at most) was over
    assert "no complete answer within 1 s" in dropped(caplog)  # FEEDSVC_FEDIVERSE_TIMEOUT=1
    assert stored(database) == (0, 0, 0)


def test_a_broken_federation_store_is_503_not_500(
    client: FlaskClient, remote: RemoteActor, database: Path
) -> None:
    stored(database)  # made
    with sqlite3.connect(store_file(database)) as broken:
        broken.execute("DROP TABLE keys")
    body = activity("Follow", remote.actor)
    status, _seconds, response = post_inbox(client, body, _signed(remote, body))
    assert status == 503
    assert response.headers["Retry-After"]


def test_a_get_of_the_inbox_is_405(client: FlaskClient) -> None:
    assert client.get(INBOX).status_code == 405
