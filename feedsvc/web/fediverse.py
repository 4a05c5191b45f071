"""The fediverse edge: WebFinger, NodeInfo, actors, outboxes, objects, followers counts and the
inbox (feedsvc/fediverse holds the logic; this module only speaks HTTP). Everything answers
404 unless FEEDSVC_FEDIVERSE is on."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Response, abort, current_app, request

from feedsvc import urlmap
from feedsvc.documents.headers import ANY_ORIGIN
from feedsvc.errors import CatalogError
from feedsvc.fediverse import documents, objects
from feedsvc.fediverse.actors import (
    Actor,
    account_host,
    check_site_url,
    section_actor,
    site_actor,
    username,
)
from feedsvc.fediverse.backlog import Backlog
from feedsvc.fediverse.errors import RequestRefused
from feedsvc.fediverse.inbox import MAX_BODY, receive
from feedsvc.fediverse.keys import load_keys
from feedsvc.fediverse.places import places
from feedsvc.fediverse.store import open_store
from feedsvc.urlmap import RULES
from feedsvc.web.context import cache_control, catalog, finish, for_export, settings

log = logging.getLogger(__name__)
bp = Blueprint("fediverse", __name__)
# An app over a site URL other servers cannot federate with is never made (ConfigError).
bp.record_once(lambda state: check_site_url(state.app.config["FEEDSVC"]))

ACTIVITY_JSON = "application/activity+json"
RETRY_AFTER = 30  # seconds, when the inbox answers 503 because the store is unavailable


@bp.before_request
def _only_when_on() -> None:
    if not settings().fediverse:
        abort(404)


def _json(document: dict[str, Any], media_type: str = ACTIVITY_JSON, status: int = 200) -> Response:
    body = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    response = Response(body, status=status, mimetype=media_type)
    if status == 200:
        finish(response, "page")
    else:
        response.headers["Cache-Control"] = cache_control("not-found")
    return response


def _section(slug: str) -> Actor:
    found = catalog().section(slug)  # NotFound: 404
    return section_actor(settings(), found.slug, found.name)


def _actor(slug: str | None) -> Actor:
    return site_actor(settings()) if slug is None else _section(slug)


def _find_account(resource: str) -> Actor | None:
    config = settings()
    site = site_actor(config)
    if resource.startswith("acct:"):
        name, _, host = resource.removeprefix("acct:").lstrip("@").rpartition("@")
        if host.lower() != account_host(config):
            return None
        name = name.lower()
        if name == site.username:
            return site
        return next(
            (
                section_actor(config, s.slug, s.name)
                for s in catalog().sections()
                if username(s.slug) == name
            ),
            None,
        )
    for candidate in [site, *(section_actor(config, s.slug, s.name) for s in catalog().sections())]:
        if resource in (candidate.id(config), candidate.page(config)):
            return candidate
    return None


@bp.get(RULES["webfinger"])
def webfinger() -> Response:
    """Answer a WebFinger query; without a resource 400 (RFC 7033), except to the static export,
    whose file a static host serves for every query: the site's actor."""
    resource = request.args.get("resource", "")[:500]
    if not resource and not for_export():
        response = Response(
            "400 Bad request: WebFinger needs a resource, such as "
            f"?resource=acct:{site_actor(settings()).username}@{account_host(settings())}\n",
            400,
            mimetype="text/plain",
        )
        response.headers["Cache-Control"] = cache_control("error")
        return response
    found = _find_account(resource) if resource else site_actor(settings())
    if found is None:
        response = Response("404 Not found: no such account here.\n", 404, mimetype="text/plain")
        response.headers["Cache-Control"] = cache_control("not-found")
        return response
    response = _json(documents.webfinger(settings(), found), "application/jrd+json")
    response.headers[ANY_ORIGIN[0]] = ANY_ORIGIN[1]
    return response


@bp.get(RULES["nodeinfo_links"])
def nodeinfo_links() -> Response:
    """Say where the NodeInfo document is."""
    response = _json(documents.nodeinfo_links(settings()), "application/json")
    response.headers[ANY_ORIGIN[0]] = ANY_ORIGIN[1]
    return response


@bp.get(RULES["nodeinfo"])
def nodeinfo() -> Response:
    """Describe the server (NodeInfo 2.1)."""
    actors = 1 + len(catalog().sections())
    document = documents.nodeinfo(settings(), actors, catalog().count())
    response = _json(document, "application/json")
    response.headers[ANY_ORIGIN[0]] = ANY_ORIGIN[1]
    return response


def _actor_document(slug: str | None) -> Response:
    keys = load_keys(settings().database)
    return _json(documents.actor_document(settings(), _actor(slug), keys.public_pem))


def _outbox(slug: str | None, number: int | None) -> Response:
    config = settings()
    actor = _actor(slug)
    total = catalog().count(section_slug=slug)
    if number is None:
        return _json(documents.outbox(config, actor, total))
    if not 1 <= number <= urlmap.pages(total, config.page_size):
        abort(404)
    size = config.page_size
    records = catalog().latest(size, (number - 1) * size, section_slug=slug)
    seqs = places(catalog(), records)
    items = [(record, seqs[record.entry_id]) for record in records]
    return _json(documents.outbox_page(config, actor, number, total, items))


def _followers(slug: str | None) -> Response:
    actor = _actor(slug)
    with open_store(settings().database) as store:
        count = store.follower_count(actor.scope)
    response = _json(documents.followers(settings(), actor, count))
    response.headers["Cache-Control"] = cache_control("no-store")  # not the catalog's state
    return response


@bp.get(RULES["site_actor"])
def site_actor_document() -> Response:
    """Serve the site's actor."""
    return _actor_document(None)


@bp.get(RULES["section_actor"])
def section_actor_document(slug: str) -> Response:
    """Serve a section's actor."""
    return _actor_document(slug)


@bp.get(RULES["site_outbox"])
def site_outbox() -> Response:
    """Serve the site's outbox."""
    return _outbox(None, None)


@bp.get(RULES["site_outbox_page"])
def site_outbox_page(number: int) -> Response:
    """Serve a page of the site's outbox."""
    return _outbox(None, number)


@bp.get(RULES["section_outbox"])
def section_outbox(slug: str) -> Response:
    """Serve a section's outbox."""
    return _outbox(slug, None)


@bp.get(RULES["section_outbox_page"])
def section_outbox_page(slug: str, number: int) -> Response:
    """Serve a page of a section's outbox."""
    return _outbox(slug, number)


@bp.get(RULES["site_followers"])
def site_followers() -> Response:
    """Say how many follow the site."""
    return _followers(None)


@bp.get(RULES["section_followers"])
def section_followers(slug: str) -> Response:
    """Say how many follow a section."""
    return _followers(slug)


@bp.get(RULES["ap_object"])
def ap_object(seq: int) -> Response:
    """Serve an article as a Note; a withdrawn one as a Tombstone (410)."""
    found = catalog().block(seq, seq)
    if found:
        return _json(objects.note(settings(), found[0], seq))
    if seq > catalog().slots():
        abort(404)
    tombstone = {
        "@context": objects.AS,
        "id": objects.object_id(settings(), seq),
        "type": "Tombstone",
        "formerType": "Note",
    }
    return _json(tombstone, status=410)


def backlog() -> Backlog:
    """Return this app's backlog of inbox POSTs awaiting their signer's key (one per process:
    granian makes the app in each worker)."""
    found: Backlog = current_app.extensions.setdefault("feedsvc.fediverse.backlog", Backlog())
    return found


@bp.post(RULES["inbox"])
def inbox() -> Response:
    """Take a signed activity; 202 when taken or queued for its signer's key, 400/401/413 (and
    nothing changed) when not, 429/503 with Retry-After when it cannot now."""
    length = request.content_length
    if length is not None and length > MAX_BODY:
        return _refused(RequestRefused(413, f"the body is larger than {MAX_BODY} bytes"))
    body = request.stream.read(MAX_BODY + 1)
    target = request.full_path if request.query_string else request.path
    try:
        with open_store(settings().database) as store:
            outcome = receive(
                settings(), store, "POST", target, request.headers.get, body, backlog()
            )
    except RequestRefused as exc:
        return _refused(exc)
    except CatalogError as exc:  # the federation store (StoreError): senders retry later
        log.error("inbox: %s", exc)
        return _refused(RequestRefused(503, "the inbox cannot take activities right now"))
    log.info("inbox: %s", outcome.what)
    response = Response("", status=outcome.status)
    response.headers["Cache-Control"] = cache_control("no-store")
    return response


def _refused(exc: RequestRefused) -> Response:
    log.info("inbox refused (%d): %s from %s", exc.status, exc.reason, request.remote_addr)
    response = Response(f"{exc.status}: {exc.reason}\n", status=exc.status, mimetype="text/plain")
    response.headers["Cache-Control"] = cache_control("no-store")
    if exc.status == 413:
        response.headers["Connection"] = "close"  # the rest of the body is never read
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    elif exc.status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER)
    return response
