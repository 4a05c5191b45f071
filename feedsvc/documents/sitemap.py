"""Sitemaps (sitemaps.org 0.9) and robots.txt."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from xml.sax.saxutils import escape

from feedsvc.support.dates import iso_seconds

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def _document(kind: str, child: str, entries: Sequence[tuple[str, datetime]]) -> bytes:
    """Return the document as lxml's pretty printer writes it, written as text: a sitemap part
    holds 10,000 URLs, and building them as elements cost five times as much."""
    if not entries:
        return f'{_DECLARATION}<{kind} xmlns="{SITEMAP_NS}"/>\n'.encode()
    items = "".join(
        f"  <{child}>\n    <loc>{_text(loc)}</loc>\n"
        f"    <lastmod>{iso_seconds(lastmod)}</lastmod>\n  </{child}>\n"
        for loc, lastmod in entries
    )
    return f'{_DECLARATION}<{kind} xmlns="{SITEMAP_NS}">\n{items}</{kind}>\n'.encode()


_DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>\n"
# Characters XML 1.0 cannot hold at all (lxml refuses them too).
_ESCAPES = {"\r": "&#13;"}  # besides &, < and >
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str) -> str:
    """Return `value` escaped as element text; refuse what XML cannot hold."""
    if _NOT_XML.search(value):
        raise ValueError(f"not XML text: {value!r}")
    return escape(value, _ESCAPES)  # as lxml escapes text


def build_urlset(entries: Sequence[tuple[str, datetime]]) -> bytes:
    """Return a sitemap of (absolute URL, last modified) pairs."""
    return _document("urlset", "url", entries)


def build_index(entries: Sequence[tuple[str, datetime]]) -> bytes:
    """Return a sitemap index of (sitemap URL, last modified) pairs."""
    return _document("sitemapindex", "sitemap", entries)


def build_robots(sitemap_url: str) -> bytes:
    """Return a robots.txt that allows everything and names the sitemap."""
    return f"User-agent: *\nAllow: /\n\nSitemap: {sitemap_url}\n".encode()
