"""The inbox: what a signed POST from another server does.

Order of checks (cheapest first, nothing written before the last): size (413), the Signature,
Host, Date and Digest headers (401/400, signatures.check_form), the JSON body (400), the
signer's key, which must be the activity's actor's own (signers.authenticate: fetched with a
signed GET, cached, fetched again once when a cached key fails; 401, or 503 when too many
fetches run), and a signature never seen before (401: a replay). Then: `Follow` of one of the
publication's actors records the follower and queues a signed `Accept`; `Undo` of a Follow
forgets it; `Delete` of the actor itself forgets every follow of it (also when the actor's own
server already answers 410); anything else is accepted with 202 and ignored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feedsvc.config.settings import Settings
from feedsvc.fediverse import objects, queue
from feedsvc.fediverse.actors import Actor, actor_by_id, section_actor, site_actor
from feedsvc.fediverse.errors import RequestRefused
from feedsvc.fediverse.signatures import MAX_SKEW, check_form
from feedsvc.fediverse.signers import authenticate
from feedsvc.fediverse.store import Follower, RemoteKey, Store

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
) -> Outcome:
    """Handle one inbox POST; raise RequestRefused for a request that must change nothing."""
    if len(body) > MAX_BODY:
        raise RequestRefused(413, f"the body is larger than {MAX_BODY} bytes")
    now = datetime.now(UTC)
    signed = check_form(method, target, header, body, now, site_url=settings.site.url)
    activity = _parse(body)
    actor: str = activity["actor"]
    kind = activity["type"]
    deleted = activity.get("object")
    own_delete = kind == "Delete" and actor in (deleted, _id_of(deleted))
    if own_delete and not store.is_follower(actor):
        # Servers announce deleted accounts everywhere; one we never knew changes nothing
        # here, and its key is usually gone already.
        return Outcome(202, "ignored Delete of an unknown actor")
    key = authenticate(settings, store, signed, actor, own_delete=own_delete)
    if key is None:
        store.remove_actor(actor)
        return Outcome(202, "forgot a deleted actor (its server answers 410)")
    expires = (signed.sent + MAX_SKEW).timestamp()
    if not store.first_sight(signed.key_id, signed.signature, expires, now.timestamp()):
        raise RequestRefused(401, "a replayed request (this signature was taken already)")
    if kind == "Follow":
        return _follow(settings, store, key, activity)
    if kind == "Undo" and isinstance(activity.get("object"), dict):
        inner = activity["object"]
        target_actor = _actor_of(settings, inner.get("object"))
        if inner.get("type") == "Follow" and inner.get("actor") == actor and target_actor:
            store.remove_follower(target_actor.scope, actor)
            return Outcome(202, "unfollowed")
    if own_delete:
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
