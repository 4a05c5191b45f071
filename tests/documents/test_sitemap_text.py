"""Sitemaps written as text are what lxml's pretty printer writes for the same entries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from feedsvc.documents.sitemap import SITEMAP_NS, build_index, build_urlset
from feedsvc.support.dates import iso_seconds

_XML_TEXT = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00").filter(
        lambda c: c in "\t\n\r" or (c >= " " and c not in "\ufffe\uffff")
    ),
    max_size=30,
)
_MOMENTS = st.datetimes(min_value=datetime(1990, 1, 1), timezones=st.just(UTC))


def _lxml(kind: str, child: str, entries: list[tuple[str, datetime]]) -> bytes:
    root = etree.Element(f"{{{SITEMAP_NS}}}{kind}", nsmap={None: SITEMAP_NS})  # type: ignore[dict-item]
    for loc, lastmod in entries:
        item = etree.SubElement(root, f"{{{SITEMAP_NS}}}{child}")
        etree.SubElement(item, f"{{{SITEMAP_NS}}}loc").text = loc
        etree.SubElement(item, f"{{{SITEMAP_NS}}}lastmod").text = iso_seconds(lastmod)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


@settings(max_examples=300, deadline=None)
@given(entries=st.lists(st.tuples(_XML_TEXT, _MOMENTS), max_size=5))
def test_the_text_is_lxml_s_bytes(entries: list[tuple[str, datetime]]) -> None:
    """Any text XML can hold (markup characters, carriage returns, any script) is escaped as
    lxml escapes it, in its layout, empty documents included."""
    assert build_urlset(entries) == _lxml("urlset", "url", entries)
    assert build_index(entries) == _lxml("sitemapindex", "sitemap", entries)


@pytest.mark.parametrize("bad", ["\x00", "a\x01b", "\ufffe"])
def test_text_xml_cannot_hold_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not XML text"):
        build_urlset([(bad, datetime(2024, 1, 1, tzinfo=UTC))])
