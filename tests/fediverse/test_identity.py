"""Who signed an inbox POST: the key must belong to the activity's actor (its actor document
lists that key, with that PEM), keys are cached only once that holds, a follower's Delete of
its own account works when its server already answers 410. A key that must be fetched is
fetched off the serving path: such a POST is answered 202 and dropped, unstored, when its key
does not hold (the log says why)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from feedsvc.catalog import Catalog
from feedsvc.fediverse.store import open_store
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


@pytest.fixture(autouse=True)
def _inbox_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="feedsvc.fediverse.inbox")


@pytest.fixture
def client(seeds: Path, database: Path, catalog: Catalog) -> FlaskClient:
    return inbox_app(seeds, database, catalog).test_client()


def _by_alice(remote: RemoteActor, body: bytes) -> dict[str, str]:
    return cavage_headers(remote.key, remote.key_id, INBOX, body)


def test_a_key_whose_claimed_owner_does_not_list_it_is_dropped(
    client: FlaskClient, remote: RemoteActor, database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # mallory's own document says its key's owner is alice; alice's document says otherwise.
    key, pem = make_key()
    mallory = remote.person("mallory", pem, owner=remote.actor)
    body = activity("Follow", remote.actor)
    status, _seconds, response = post_inbox(
        client, body, cavage_headers(key, mallory + "#main-key", INBOX, body)
    )
    assert status == 202, response.text
    assert "the key's owner does not list the key" in dropped(caplog)
    assert stored(database) == (0, 0, 0)  # no follower, and the key is not cached either


def test_a_key_document_claiming_to_be_another_actor_is_dropped(
    client: FlaskClient, remote: RemoteActor, database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key, pem = make_key()
    mallory = remote.person("mallory", pem)
    document = remote.documents["/users/mallory"]
    document["id"] = remote.actor  # served at mallory's URL, claiming to be alice
    document["publicKey"]["owner"] = remote.actor
    body = activity("Follow", remote.actor)
    headers = cavage_headers(key, mallory + "#main-key", INBOX, body)
    assert post_inbox(client, body, headers)[0] == 202
    assert "the key's owner does not list the key" in dropped(caplog)
    assert stored(database) == (0, 0, 0)


def test_a_separate_key_document_listed_by_its_owner_is_taken(
    client: FlaskClient, remote: RemoteActor, database: Path
) -> None:
    key_id = remote.base + "/keys/alice"
    pem = remote.document["publicKey"]["publicKeyPem"]
    remote.documents["/keys/alice"] = {"id": key_id, "owner": remote.actor, "publicKeyPem": pem}
    remote.document["publicKey"] = [{"id": key_id, "owner": remote.actor, "publicKeyPem": pem}]
    body = activity("Follow", remote.actor)
    assert post_inbox(client, body, cavage_headers(remote.key, key_id, INBOX, body))[0] == 202
    assert stored(database) == (1, 1, 1)


def test_an_owner_listing_the_key_id_with_another_pem_is_dropped(
    client: FlaskClient, remote: RemoteActor, database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key, pem = make_key()
    key_id = remote.base + "/keys/alice"
    remote.documents["/keys/alice"] = {"id": key_id, "owner": remote.actor, "publicKeyPem": pem}
    remote.document["publicKey"]["id"] = key_id  # alice lists the id, with her own PEM
    body = activity("Follow", remote.actor)
    assert post_inbox(client, body, cavage_headers(key, key_id, INBOX, body))[0] == 202
    assert "lists another public key" in dropped(caplog)
    assert stored(database) == (0, 0, 0)


def test_a_cached_key_does_not_sign_for_another_actor(
    client: FlaskClient, remote: RemoteActor, database: Path
) -> None:
    body = activity("Follow", remote.actor)
    assert post_inbox(client, body, _by_alice(remote, body))[0] == 202
    bob = remote.person("bob", make_key()[1])
    body = activity("Follow", bob)
    assert post_inbox(client, body, _by_alice(remote, body))[0] == 401
    assert stored(database)[0] == 1  # alice only


def _follow_then_age_the_key(client: FlaskClient, remote: RemoteActor, database: Path) -> None:
    body = activity("Follow", remote.actor)
    assert post_inbox(client, body, _by_alice(remote, body))[0] == 202
    with open_store(database) as store, store.db:
        store.db.execute("UPDATE keys SET fetched = fetched - 30 * 86400")
    assert stored(database)[0] == 1


def test_a_follower_deleting_itself_with_an_old_cached_key_is_forgotten(
    client: FlaskClient, remote: RemoteActor, database: Path
) -> None:
    _follow_then_age_the_key(client, remote, database)
    remote.statuses["/users/alice"] = 410  # its server has deleted the account already
    body = activity("Delete", remote.actor, remote.actor)
    headers = cavage_headers(remote.key, remote.key_id, INBOX, body)
    status, _seconds, response = post_inbox(client, body, headers)
    assert status == 202, response.text
    assert stored(database)[0] == 0


def test_a_follower_whose_own_server_answers_410_is_forgotten_on_its_delete(
    client: FlaskClient, remote: RemoteActor, database: Path
) -> None:
    _follow_then_age_the_key(client, remote, database)
    with open_store(database) as store, store.db:
        store.db.execute("DELETE FROM keys")  # no key left to check the signature with
    remote.statuses["/users/alice"] = 410
    body = activity("Delete", remote.actor, remote.actor)
    headers = cavage_headers(remote.key, remote.key_id, INBOX, body)
    assert post_inbox(client, body, headers)[0] == 202  # its origin says it is gone
    assert stored(database)[0] == 0


def test_a_forged_delete_of_a_living_follower_is_dropped(
    client: FlaskClient, remote: RemoteActor, database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _follow_then_age_the_key(client, remote, database)
    forger, _pem = make_key()
    body = activity("Delete", remote.actor, remote.actor)
    headers = cavage_headers(forger, remote.key_id, INBOX, body)
    assert post_inbox(client, body, headers)[0] == 202
    assert "the signature does not verify" in dropped(caplog)
    assert stored(database)[0] == 1
