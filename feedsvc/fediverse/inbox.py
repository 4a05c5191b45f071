"""The inbox: what a signed POST from another server does.

Order of checks (cheapest first, nothing written before the last): size (413), the Signature,
Date and Digest headers (401/400, signatures.check_form), the JSON body (400), the signer's key
(fetched with a signed GET, cached, fetched again once when a cached key fails; 401), the key's
owner is the activity's actor (401). Then: `Follow` of one of the publication's actors records
the follower and queues a signed `Accept`; `Undo` of a Follow forgets it; `Delete` of the actor
itself forgets every follow of it; anything else is accepted with 202 and ignored.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feedsvc.config import Settings
from feedsvc.fediverse import objects, queue
from feedsvc.fediverse.actors import Actor, actor_by_id, section_actor, site_actor
from feedsvc.fediverse.errors import FetchError, Rejected
from feedsvc.fediverse.keys import load_keys
from feedsvc.fediverse.remote import Policy, fetch_json
from feedsvc.fediverse.signatures import Signed, check_form, sign, verify
from feedsvc.fediverse.store import Follower, RemoteKey, Store

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024
KEY_MAX_AGE = 86_400.0  # a cached key older than this is fetched again before use


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the inbox did: the status to answer with and a word for the log."""

    status: int
    what: str


def policy(settings: Settings) -> Policy:
    """Return how remote documents may be fetched under these settings."""
    return Policy(
        allow_private=settings.fediverse_allow_private,
        timeout=float(settings.fediverse_timeout),
    )


def signed_get(settings: Settings, url: str) -> dict[str, Any]:
    """Fetch a remote document with a GET signed by the site's actor (authorized fetch)."""
    keys = load_keys(settings.database)
    actor = site_actor(settings)
    headers = sign("GET", url, None, keys, actor.key_id(settings), datetime.now(UTC))
    return fetch_json(url, headers, policy(settings))


def _remote_key(settings: Settings, key_id: str) -> RemoteKey:
    document = signed_get(settings, key_id)
    key = document.get("publicKey", document)
    if isinstance(key, list):
        key = next((k for k in key if isinstance(k, dict) and k.get("id") == key_id), None)
    if not isinstance(key, dict) or not isinstance(key.get("publicKeyPem"), str):
        raise Rejected(401, "the signer's document has no public key")
    if key.get("id") != key_id.split("#", 1)[0] and key.get("id") != key_id:
        raise Rejected(401, "the signer's key id does not match the document")
    owner = key.get("owner") or document.get("id")
    if not isinstance(owner, str):
        raise Rejected(401, "the signer's key has no owner")
    actor = document if document.get("id") == owner else signed_get(settings, owner)
    endpoints = actor.get("endpoints")
    shared = endpoints.get("sharedInbox") if isinstance(endpoints, dict) else None
    inbox = actor.get("inbox")
    return RemoteKey(
        key_id,
        owner,
        key["publicKeyPem"],
        inbox if isinstance(inbox, str) else None,
        shared if isinstance(shared, str) else None,
        time.time(),
    )


def authenticate(settings: Settings, store: Store, signed: Signed) -> RemoteKey:
    """Return the key that verifies `signed` (cached, or fetched and then cached)."""
    cached = store.key(signed.key_id)
    fresh_enough = cached is not None and time.time() - cached.fetched < KEY_MAX_AGE
    if cached is not None and fresh_enough and verify(cached.pem, signed):
        return cached
    try:
        fresh = _remote_key(settings, signed.key_id)
    except FetchError as exc:
        raise Rejected(401, f"the signer's key cannot be fetched: {exc.reason}") from None
    if not verify(fresh.pem, signed):
        raise Rejected(401, "the signature does not verify with the signer's key")
    store.put_key(fresh)
    return fresh


def _actor_of(settings: Settings, url: object) -> Actor | None:
    from feedsvc.catalog import open_catalog  # the inbox reads sections only on a Follow

    if not isinstance(url, str):
        return None
    found = actor_by_id(settings, url)
    if found is None:
        return None
    (slug,) = found
    if slug is None:
        return site_actor(settings)
    catalog = open_catalog(settings.database, readonly=True)
    try:
        names = {section.slug: section.name for section in catalog.sections()}
    finally:
        catalog.close()
    return section_actor(settings, slug, names[slug]) if slug in names else None


def receive(
    settings: Settings,
    store: Store,
    method: str,
    target: str,
    header: Callable[[str], str | None],
    body: bytes,
) -> Outcome:
    """Handle one inbox POST; raise Rejected for a request that must change nothing."""
    if len(body) > MAX_BODY:
        raise Rejected(413, f"the body is larger than {MAX_BODY} bytes")
    signed = check_form(method, target, header, body, datetime.now(UTC))
    try:
        activity = json.loads(body)
    except ValueError:
        raise Rejected(400, "the body is not JSON") from None
    if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
        raise Rejected(400, "the body is not an activity")
    actor = activity.get("actor")
    if not isinstance(actor, str):
        raise Rejected(400, "the activity has no actor")
    kind = activity["type"]
    if kind == "Delete" and activity.get("object") == actor and not store.is_follower(actor):
        # Servers announce deleted accounts everywhere; one we never knew changes nothing
        # here, and its key is usually gone already.
        return Outcome(202, "ignored Delete of an unknown actor")
    key = authenticate(settings, store, signed)
    if key.owner != actor:
        raise Rejected(401, "the activity's actor is not the key's owner")
    if kind == "Follow":
        return _follow(settings, store, key, activity)
    if kind == "Undo" and isinstance(activity.get("object"), dict):
        inner = activity["object"]
        target_actor = _actor_of(settings, inner.get("object"))
        if inner.get("type") == "Follow" and inner.get("actor") == actor and target_actor:
            store.remove_follower(target_actor.scope, actor)
            return Outcome(202, "unfollowed")
    if kind == "Delete" and activity.get("object") == actor:
        store.remove_actor(actor)
        return Outcome(202, "forgot a deleted actor")
    return Outcome(202, f"ignored {kind[:40]}")


def _follow(settings: Settings, store: Store, key: RemoteKey, activity: dict[str, Any]) -> Outcome:
    followed = _actor_of(settings, activity.get("object"))
    if followed is None:
        raise Rejected(400, "the Follow's object is not one of this site's actors")
    inbox = key.inbox
    if inbox is None:
        raise Rejected(400, "the follower has no inbox")
    body = json.dumps(objects.accept(settings, followed, activity)).encode("utf-8")
    follower = Follower(followed.scope, key.owner, inbox, key.shared_inbox)
    # One transaction: a follower is never kept without its Accept queued.
    store.add_follower(
        follower, then=lambda: queue.insert(store, [(inbox, followed.id(settings), body)])
    )
    log.info("%s now follows %s", key.owner[:200], followed.account(settings))
    return Outcome(202, "followed")
