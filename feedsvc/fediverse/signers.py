"""Who signed an inbox POST: the key named by the signature's keyId, proven to belong to the
activity's actor, cached only once that is proven.

A key document proves nothing about who owns it: anyone can publish a key that says "owner:
alice". So the key counts only when alice's own actor document, fetched from alice's id, lists
that keyId with that same public key (when the key is part of that very document, fetched from
that id, one fetch shows both). Fetches are GETs signed by the site's actor (servers with
authorized fetch require it), all within one deadline. `cached_key` needs no network and runs
in the request; `fetched_key` waits on other servers and runs only off the serving path (the
inbox's backlog, whose threads also bound how many fetches run at once).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urldefrag

from feedsvc.config.settings import Settings
from feedsvc.fediverse.actors import site_actor
from feedsvc.fediverse.errors import FetchError, RequestRefused
from feedsvc.fediverse.keys import load_keys
from feedsvc.fediverse.remote import Policy, check_url, fetch_json
from feedsvc.fediverse.signatures import Signed, sign, verify
from feedsvc.fediverse.store import RemoteKey, Store

KEY_MAX_AGE = 86_400.0  # a cached key older than this is fetched again before use


def policy(settings: Settings) -> Policy:
    """Return how remote documents may be fetched under these settings."""
    return Policy(
        allow_private=settings.fediverse_allow_private,
        timeout=float(settings.fediverse_timeout),
    )


def signed_get(settings: Settings, url: str, deadline: float | None = None) -> dict[str, Any]:
    """Fetch a remote document with a GET signed by the site's actor (authorized fetch)."""
    keys = load_keys(settings.database)
    actor = site_actor(settings)
    headers = sign("GET", url, None, keys, actor.key_id(settings), datetime.now(UTC))
    return fetch_json(url, headers, policy(settings), deadline)


def _key_in(document: dict[str, Any], key_id: str) -> dict[str, Any] | None:
    """Return the key `key_id` as a document holds it: the document itself when it is that key,
    else its `publicKey` (one or a list) with that id, or its only key when the document's own
    id is the keyId."""
    if document.get("id") == key_id and isinstance(document.get("publicKeyPem"), str):
        return document
    held = document.get("publicKey")
    only = isinstance(held, dict) and document.get("id") == key_id
    for key in held if isinstance(held, list) else [held]:
        if not isinstance(key, dict) or not isinstance(key.get("publicKeyPem"), str):
            continue
        if only or key.get("id") == key_id:
            return key
    return None


def _same_pem(one: str, other: str) -> bool:
    return "".join(one.split()) == "".join(other.split())


def _usable(url: object, settings: Settings) -> str | None:
    try:
        return check_url(url, policy(settings))
    except FetchError:
        return None


def _fetch_key(settings: Settings, key_id: str, actor: str, deadline: float) -> RemoteKey:
    document = signed_get(settings, key_id, deadline)
    key = _key_in(document, key_id)
    if key is None:
        raise RequestRefused(401, "the signer's document does not hold the key it signed with")
    embedded = key is not document
    owner = key.get("owner") or (document.get("id") if embedded else None)
    if owner != actor:
        raise RequestRefused(401, "the activity's actor is not the key's owner")
    if embedded and document.get("id") == actor == urldefrag(key_id).url:
        owner_document = document  # the actor's own document, fetched from its id
    else:
        owner_document = signed_get(settings, actor, deadline)
        listed = _key_in(owner_document, key_id)
        if owner_document.get("id") != actor or listed is None:
            raise RequestRefused(401, "the key's owner does not list the key")
        if not _same_pem(listed["publicKeyPem"], key["publicKeyPem"]):
            raise RequestRefused(401, "the key's owner lists another public key under its id")
    endpoints = owner_document.get("endpoints")
    shared = endpoints.get("sharedInbox") if isinstance(endpoints, dict) else None
    return RemoteKey(
        key_id,
        actor,
        key["publicKeyPem"],
        _usable(owner_document.get("inbox"), settings),
        _usable(shared, settings),
        time.time(),
    )


def _gone(settings: Settings, answered_410: str, actor: str, deadline: float) -> bool:
    """Return whether the actor's own server says it is gone (410 at the actor's id)."""
    if urldefrag(answered_410).url == actor:
        return True
    try:
        signed_get(settings, actor, deadline)
    except FetchError as exc:
        return exc.status == 410
    return False


def cached_key(
    store: Store, signed: Signed, actor: str, *, own_delete: bool = False
) -> RemoteKey | None:
    """Return the cached key of `actor` that verifies `signed`, None when a fetch must decide
    (no key cached, too old, or one that fails: the actor may have a new key); raise
    RequestRefused(401) when the cached key is another actor's. Reads the store only.

    For the Delete of the signer's own account (`own_delete`) a cached key of any age will do:
    the account, and so its key, is usually gone by then.
    """
    cached = store.key(signed.key_id)
    if cached is None:
        return None
    if cached.owner != actor:
        raise RequestRefused(401, "the activity's actor is not the key's owner")
    young = time.time() - cached.fetched < KEY_MAX_AGE
    return cached if (young or own_delete) and verify(cached.pem, signed) else None


def fetched_key(
    settings: Settings, store: Store, signed: Signed, actor: str, *, own_delete: bool = False
) -> RemoteKey | None:
    """Fetch the key `signed` names, prove it is `actor`'s, verify `signed` with it and cache
    it; raise RequestRefused(401) when any of that fails. Waits on other servers (at most
    FEEDSVC_FEDIVERSE_TIMEOUT): never call it while serving a request.

    For the Delete of the signer's own account, None means the actor's own server answers 410:
    it is gone, whoever sent the Delete.
    """
    deadline = time.monotonic() + settings.fediverse_timeout
    try:
        fresh = _fetch_key(settings, signed.key_id, actor, deadline)
    except FetchError as exc:
        if own_delete and exc.status == 410 and _gone(settings, exc.url, actor, deadline):
            return None
        raise RequestRefused(401, f"the signer's key cannot be fetched: {exc.reason}") from None
    if not verify(fresh.pem, signed):
        raise RequestRefused(401, "the signature does not verify with the signer's key")
    store.put_key(fresh)
    return fresh
