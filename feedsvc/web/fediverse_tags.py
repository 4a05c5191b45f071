"""What pages say about the fediverse, with or without federation on: the `rel=alternate`
link to the actor or Note a page stands for, and `fediverse:creator` (a handle setting alone
is enough). Light on purpose: the ActivityPub endpoints (feedsvc.web.fediverse, with the
cryptography they need) are loaded only when FEEDSVC_FEDIVERSE is on."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, has_request_context, request

from feedsvc import urlmap
from feedsvc.catalog import Record
from feedsvc.fediverse.places import places
from feedsvc.web.context import catalog, settings

bp = Blueprint("fediverse_tags", __name__)


@bp.app_context_processor
def _page_tags() -> dict[str, Any]:
    return {"fediverse_links": _actor_links, "fediverse_creator": _creator}


def _actor_links(record: Record | None = None) -> list[str]:
    """Return the actor a front or section page stands for, or the Note an article page
    shows (its rel=alternate link: pasting the page's URL in Mastodon finds it)."""
    config = settings()
    if not config.fediverse or not has_request_context():
        return []
    if record is not None:
        seq = places(catalog(), [record]).get(record.entry_id)
        return [config.site.absolute(urlmap.ap_object(seq))] if seq else []
    endpoint, args = request.endpoint or "", request.view_args or {}
    if endpoint in ("pages.index", "pages.index_page"):
        return [config.site.absolute(urlmap.actor(None))]
    if endpoint in ("pages.section", "pages.section_page") and "slug" in args:
        return [config.site.absolute(urlmap.actor(str(args["slug"])))]
    return []


def _creator(record: Record) -> str | None:
    """Return the fediverse handle of an article's author (front matter) or of the site."""
    config = settings()
    for pair in (config.fediverse_authors or "").split(";"):
        author, _, handle = pair.strip().partition("=")
        if record.author and author == record.author:
            return handle
    return config.fediverse_handle
