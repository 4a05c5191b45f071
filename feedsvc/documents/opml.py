"""OPML 2.0 subscription lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from lxml import etree


@dataclass(frozen=True, slots=True)
class Subscription:
    """One feed a reader can subscribe to."""

    text: str
    xml_url: str
    html_url: str


def build_opml(
    title: str, groups: Sequence[tuple[str, Sequence[Subscription]]], modified: datetime
) -> bytes:
    """Return an OPML 2.0 document with one outline group per (name, subscriptions)."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    etree.SubElement(head, "dateModified").text = format_datetime(modified, usegmt=True)
    body = etree.SubElement(root, "body")
    for name, subscriptions in groups:
        group = etree.SubElement(body, "outline", text=name)
        for item in subscriptions:
            etree.SubElement(
                group,
                "outline",
                type="rss",
                text=item.text,
                title=item.text,
                xmlUrl=item.xml_url,
                htmlUrl=item.html_url,
            )
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
