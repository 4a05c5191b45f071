"""What other sites embed: preview cards, the oEmbed provider and the framable embed card."""

from __future__ import annotations

import base64
import hashlib

from flask import Blueprint, Response, abort, redirect, render_template, request
from markupsafe import Markup
from werkzeug.wrappers.response import Response as BaseResponse

from feedsvc import urlmap
from feedsvc.catalog import Lookup, Record
from feedsvc.documents.cards import CardStore, card_for
from feedsvc.documents.entry_images import entry_image
from feedsvc.documents.headers import ANY_ORIGIN, embed_csp, error_kind
from feedsvc.documents.oembed import Limits, article_slug, document, to_json, to_xml
from feedsvc.errors import NotFound
from feedsvc.urlmap import RULES
from feedsvc.web.context import cache_control, catalog, finish, page_context, settings

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


def _moved(path: str, *, framable: bool = False) -> BaseResponse:
    """Answer 301 to the current URL of what an old slug named: sites that embedded a card or
    stored an oEmbed document keep the old URL."""
    response = redirect(settings().site.absolute(path), code=301)
    response.headers["Cache-Control"] = cache_control("redirect")
    if framable:  # never X-Frame-Options: DENY on the way to a card that may be framed
        response.headers["Content-Security-Policy"] = embed_csp(_CSS_HASH)
    return response


def _current(slug: str) -> Lookup:
    """Return what `slug` leads to; a withdrawn article answers 410 Gone."""
    found = catalog().lookup(slug)
    if found.redirect_to is None and found.record is None:
        abort(410)
    return found


@bp.get(RULES["card"])
def card(slug: str, version: str) -> BaseResponse:
    """Serve an article's preview card; the version in the name makes it immutable. An old
    slug's card (of any version) redirects to the current card."""
    found = _current(slug)
    if found.redirect_to is not None:
        record = _live(found.redirect_to)
        current = card_for(record, settings().site.title).version
        return _moved(urlmap.card(record.slug, current))
    assert found.record is not None
    record = found.record
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


def _oembed_document(slug: str, fmt: str) -> BaseResponse:
    found = _current(slug)
    if found.redirect_to is not None:
        response = _moved(urlmap.oembed(found.redirect_to, fmt))
        response.headers.set(*ANY_ORIGIN)  # fetch() follows a redirect that passes CORS
        return response
    assert found.record is not None
    return _oembed(found.record, fmt, Limits())


@bp.get(RULES["oembed_json"])
def oembed_json(slug: str) -> BaseResponse:
    """Serve the article's oEmbed document (JSON) at a static path."""
    return _oembed_document(slug, "json")


@bp.get(RULES["oembed_xml"])
def oembed_xml(slug: str) -> BaseResponse:
    """Serve the article's oEmbed document (XML) at a static path."""
    return _oembed_document(slug, "xml")


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
def embed(slug: str) -> BaseResponse:
    """Serve a compact card of the article, framable by any site, with no script. An old slug
    redirects to the current card; a withdrawn article's card says so (410), still framable:
    a site that embedded it shows a card, never a broken frame."""
    found = catalog().lookup(slug)
    if found.redirect_to is not None:
        return _moved(urlmap.embed(found.redirect_to), framable=True)
    if found.record is None:
        html = render_template("embed_gone.html", css=EMBED_CSS, **page_context())
        response = Response(html, status=410, mimetype="text/html")
        response.headers["Cache-Control"] = cache_control(error_kind(410))
    else:
        html = render_template("embed.html", record=found.record, css=EMBED_CSS, **page_context())
        response = finish(Response(html, mimetype="text/html"), "page", found.record.updated)
    response.headers["Content-Security-Policy"] = embed_csp(_CSS_HASH)
    return response
