"""Sitemaps (sitemaps.org 0.9) and robots.txt."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from lxml import etree

from feedsvc.support.dates import iso_seconds

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def _document(kind: str, child: str, entries: Sequence[tuple[str, datetime]]) -> bytes:
    root = etree.Element(f"{{{SITEMAP_NS}}}{kind}", nsmap={None: SITEMAP_NS})  # type: ignore[dict-item]
    for loc, lastmod in entries:
        item = etree.SubElement(root, f"{{{SITEMAP_NS}}}{child}")
        etree.SubElement(item, f"{{{SITEMAP_NS}}}loc").text = loc
        etree.SubElement(item, f"{{{SITEMAP_NS}}}lastmod").text = iso_seconds(lastmod)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def build_urlset(entries: Sequence[tuple[str, datetime]]) -> bytes:
    """Return a sitemap of (absolute URL, last modified) pairs."""
    return _document("urlset", "url", entries)


def build_index(entries: Sequence[tuple[str, datetime]]) -> bytes:
    """Return a sitemap index of (sitemap URL, last modified) pairs."""
    return _document("sitemapindex", "sitemap", entries)


def build_robots(sitemap_url: str) -> bytes:
    """Return a robots.txt that allows everything and names the sitemap."""
    return f"User-agent: *\nAllow: /\n\nSitemap: {sitemap_url}\n".encode()
