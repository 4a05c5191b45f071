"""The deployed record: what the publication publishes, for builders that have no catalog."""

from __future__ import annotations

from flask import Blueprint, Response

from feedsvc.catalog.deployed import encode
from feedsvc.documents.headers import RECORD_MEDIA_TYPE
from feedsvc.urlmap import RULES
from feedsvc.web.context import catalog, finish

bp = Blueprint("record", __name__)


@bp.get(RULES["record"])
def record() -> Response:
    """Serve the record of every live article's id, dates, slugs and place."""
    body = encode(catalog())
    return finish(Response(body, mimetype=RECORD_MEDIA_TYPE), "record", catalog().changed())
