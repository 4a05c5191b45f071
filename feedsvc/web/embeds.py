"""What other sites embed: preview cards, the oEmbed provider and the framable embed card."""

from __future__ import annotations

import base64
import hashlib

from flask import Blueprint, Response, abort, request
from markupsafe import Markup

from feedsvc import urlmap
from feedsvc.catalog import Record
from feedsvc.documents.cards import CardStore, card_for
from feedsvc.documents.entry_images import entry_image
from feedsvc.documents.headers import ANY_ORIGIN, embed_csp
from feedsvc.documents.oembed import Limits, article_slug, document, to_json, to_xml
from feedsvc.errors import NotFound
from feedsvc.urlmap import RULES
from feedsvc.web.context import catalog, finish, page_context, settings

bp = Blueprint("embeds", __name__)

# The embed card's whole style, inline so the card makes no request; the CSP allows exactly it.
EMBED_CSS = Markup(
    "body{margin:0;font:16px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;"
    "color:#1b1b1b;background:#fff}"
    ".card{box-sizing:border-box;height:100vh;padding:14px 18px;border:1px solid #d0d7de;"
    "border-radius:10px;overflow:hidden;display:flex;flex-direction:column;gap:6px}"
    ".meta{font-size:12px;letter-spacing:.05em;text-transform:uppercase;color:#57606a}"
    "h1{margin:0;font-size:20px;line-height:1.25}"
    "a{color:#0b5cad;text-decoration:none}a:hover,a:focus{text-decoration:underline}"
    "p{margin:0;color:#3b3b3b;overflow:hidden;display:-webkit-box;-webkit-line-clamp:3;"
    "-webkit-box-orient:vertical}"
    ".site{margin-top:auto;font-size:13px;color:#57606a}"
    "@media (prefers-color-scheme:dark){body{color:#e8e6e3;background:#161b22}"
    ".card{border-color:#30363d}.meta,.site{color:#9da7b3}p{color:#c9d1d9}a{color:#7fb4ff}}"
)
_CSS_HASH = base64.b64encode(hashlib.sha256(str(EMBED_CSS).encode()).digest()).decode()


def _live(slug: str) -> Record:
    found = catalog().lookup(slug)
    if found.record is None:
        raise NotFound("article", slug)
    return found.record


@bp.get(RULES["card"])
def card(slug: str, version: str) -> Response:
    """Serve an article's preview card; the version in the name makes it immutable."""
    record = _live(slug)
    wanted = card_for(record, settings().site.title)
    if version != wanted.version:
        raise NotFound("card", version)
    body = CardStore(settings().cards).get(wanted)
    return finish(Response(body, mimetype="image/png"), "immutable", record.updated)


def _oembed(record: Record, fmt: str, limits: Limits) -> Response:
    site = settings().site
    fields = document(
        record,
        site,
        embed_url=site.absolute(urlmap.embed(record.slug)),
        thumbnail=entry_image(record, settings(), measure=False),
        limits=limits,
    )
    if fmt == "xml":
        response = Response(to_xml(fields), mimetype="text/xml")
    else:
        response = Response(to_json(fields), mimetype="application/json")
    response.headers.set(*ANY_ORIGIN)
    return finish(response, "page", record.updated)


@bp.get(RULES["oembed_json"])
def oembed_json(slug: str) -> Response:
    """Serve the article's oEmbed document (JSON) at a static path."""
    return _oembed(_live(slug), "json", Limits())


@bp.get(RULES["oembed_xml"])
def oembed_xml(slug: str) -> Response:
    """Serve the article's oEmbed document (XML) at a static path."""
    return _oembed(_live(slug), "xml", Limits())


def _dimension(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 5 and 0 < int(raw) <= 10_000):
        abort(400, f"{name} must be a whole number of pixels from 1 to 10000")
    return int(raw)


@bp.get(RULES["oembed"])
def oembed() -> Response:
    """Answer an oEmbed request for one of this site's article URLs."""
    url = request.args.get("url", "")
    if not url:
        abort(400, "the url parameter is required")
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "xml"):
        abort(501, "format must be json or xml")
    limits = Limits(_dimension("maxwidth"), _dimension("maxheight"))
    slug = article_slug(settings().site, url)
    if slug is None:
        raise NotFound("article at that URL", url[:200])
    found = catalog().lookup(slug)
    if found.redirect_to is not None:
        found = catalog().lookup(found.redirect_to)
    if found.record is None:
        raise NotFound("article at that URL", url[:200])
    return _oembed(found.record, fmt, limits)


@bp.get(RULES["embed"])
def embed(slug: str) -> Response:
    """Serve a compact card of the article, framable by any site, with no script."""
    from flask import render_template

    record = _live(slug)
    html = render_template("embed.html", record=record, css=EMBED_CSS, **page_context())
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = embed_csp(_CSS_HASH)
    return finish(response, "page", record.updated)
