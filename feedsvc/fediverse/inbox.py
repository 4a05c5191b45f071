"""The inbox: what a signed POST from another server does.

Order of checks (cheapest first, nothing written before the signature is verified): size (413),
the Signature, Host, Date and Digest headers (401/400, signatures.check_form), the JSON body
(400), the signer's key, which must be the activity's actor's own, and a signature never seen
before (401: a replay). A key cached and young verifies in the request (signers.cached_key) and
the POST is acted on at once. Any other key must be fetched from the signer's server, which may
take the whole FEEDSVC_FEDIVERSE_TIMEOUT or never answer: such a POST is answered 202 at once
and handed to the backlog (backlog.py; 429 or 503 with Retry-After when it is full), whose
threads fetch the key (signers.fetched_key), verify, and only then act (`verify_later`).

Acting: `Follow` of one of the publication's actors records the follower and queues a signed
`Accept`; `Undo` of a Follow forgets it; `Delete` of the actor itself forgets every follow of it
(also when the actor's own server already answers 410); anything else is taken and ignored.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from feedsvc.config.settings import Settings
from feedsvc.errors import FeedsvcError
from feedsvc.fediverse import objects, queue
from feedsvc.fediverse.actors import Actor, actor_by_id, section_actor, site_actor
from feedsvc.fediverse.addresses import check_literal
from feedsvc.fediverse.backlog import Backlog, Job
from feedsvc.fediverse.errors import FetchError, RequestRefused
from feedsvc.fediverse.signatures import MAX_SKEW, Signed, check_form
from feedsvc.fediverse.signers import cached_key, fetched_key, policy
from feedsvc.fediverse.store import Follower, RemoteKey, Store, open_store, signature_digest

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the inbox did: the status to answer with and a word for the log."""

    status: int
    what: str


def _parse(body: bytes) -> dict[str, Any]:
    try:
        activity = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python parses
        raise RequestRefused(400, "the body is not JSON (or nested too deep)") from None
    if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
        raise RequestRefused(400, "the body is not an activity")
    if not isinstance(activity.get("actor"), str):
        raise RequestRefused(400, "the activity has no actor")
    return activity


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
    backlog: Backlog,
) -> Outcome:
    """Handle one inbox POST without waiting on any other server: act on it when its key is
    cached, else queue it on `backlog`; raise RequestRefused for a request that must change
    nothing now."""
    if len(body) > MAX_BODY:
        raise RequestRefused(413, f"the body is larger than {MAX_BODY} bytes")
    now = datetime.now(UTC)
    signed = check_form(method, target, header, body, now, site_url=settings.site.url)
    activity = _parse(body)
    actor: str = activity["actor"]
    deleted = activity.get("object")
    own_delete = activity["type"] == "Delete" and actor in (deleted, _id_of(deleted))
    if own_delete and not store.is_follower(actor):
        # Servers announce deleted accounts everywhere; one we never knew changes nothing
        # here, and its key is usually gone already.
        return Outcome(202, "ignored Delete of an unknown actor")
    key = cached_key(store, signed, actor, own_delete=own_delete)
    if key is not None:
        return _take(settings, store, signed, key, activity)
    for url in (signed.key_id, actor):  # what a fetch would be refused at once: refuse now
        try:
            check_literal(url, policy(settings))
        except FetchError as exc:
            raise RequestRefused(401, f"the signer's key cannot be fetched: {exc.reason}") from None
    if store.was_seen(signed.key_id, signed.signature, now.timestamp()):
        raise RequestRefused(401, "a replayed request (this signature was taken already)")
    token = signature_digest(signed.key_id, signed.signature)
    job = functools.partial(verify_later, settings, signed, activity, own_delete=own_delete)
    sender = urlsplit(signed.key_id).netloc.lower()
    backlog.submit(Job(sender, token, job), retry_after=settings.fediverse_timeout)
    return Outcome(202, "queued until the signer's key is fetched")


def verify_later(
    settings: Settings, signed: Signed, activity: dict[str, Any], *, own_delete: bool
) -> Outcome | None:
    """Fetch the signer's key, verify, then act (a backlog thread, never a request); log what
    came of it; return the outcome, None when the activity was dropped."""
    actor: str = activity["actor"]
    try:
        with open_store(settings.database) as store:
            key = fetched_key(settings, store, signed, actor, own_delete=own_delete)
            if key is None:
                store.remove_actor(actor)
                outcome = Outcome(202, "forgot a deleted actor (its server answers 410)")
            else:
                outcome = _take(settings, store, signed, key, activity)
    except RequestRefused as exc:
        log.info("inbox: dropped once its key was fetched (%d): %s", exc.status, exc.reason)
        return None
    except FeedsvcError as exc:  # the federation store (StoreError), the catalog
        log.error("inbox: dropped: %s", exc)
        return None
    log.info("inbox: %s (once its key was fetched)", outcome.what)
    return outcome


def _take(
    settings: Settings, store: Store, signed: Signed, key: RemoteKey, activity: dict[str, Any]
) -> Outcome:
    """Act on an activity whose signature `key` verified."""
    actor: str = activity["actor"]
    kind: str = activity["type"]
    expires = (signed.sent + MAX_SKEW).timestamp()
    if not store.first_sight(signed.key_id, signed.signature, expires, time.time()):
        raise RequestRefused(401, "a replayed request (this signature was taken already)")
    if kind == "Follow":
        return _follow(settings, store, key, activity)
    if kind == "Undo" and isinstance(activity.get("object"), dict):
        inner = activity["object"]
        target_actor = _actor_of(settings, inner.get("object"))
        if inner.get("type") == "Follow" and inner.get("actor") == actor and target_actor:
            store.remove_follower(target_actor.scope, actor)
            return Outcome(202, "unfollowed")
    deleted = activity.get("object")
    if kind == "Delete" and actor in (deleted, _id_of(deleted)):
        store.remove_actor(actor)
        return Outcome(202, "forgot a deleted actor")
    return Outcome(202, f"ignored {kind[:40]}")


def _id_of(value: object) -> object:
    return value.get("id") if isinstance(value, dict) else None


def _follow(settings: Settings, store: Store, key: RemoteKey, activity: dict[str, Any]) -> Outcome:
    followed = _actor_of(settings, activity.get("object"))
    if followed is None:
        raise RequestRefused(400, "the Follow's object is not one of this site's actors")
    inbox = key.inbox
    if inbox is None:
        raise RequestRefused(400, "the follower has no inbox a request can be sent to")
    body = json.dumps(objects.accept(settings, followed, activity)).encode("utf-8")
    follower = Follower(followed.scope, key.owner, inbox, key.shared_inbox)
    # One transaction: a follower is never kept without its Accept queued.
    store.add_follower(
        follower, then=lambda: queue.insert(store, [(inbox, followed.id(settings), body)])
    )
    log.info("%s now follows %s", key.owner[:200], followed.account(settings))
    return Outcome(202, "followed")
