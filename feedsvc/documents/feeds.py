"""Build feed documents from catalog records: pure and deterministic, bytes out.

feedgen's traps are handled here, once:
- `updated`/`lastBuildDate` default to now() for the feed and each entry: always set from articles.
- `add_entry()` prepends by default: entries are appended to keep newest-first order.
- RSS `<link>` is the href of the *last* link added: the self link goes first, the page last.
- `content()` without a type is Atom text: always `type="html"`.
- `description()` after `content()` replaces the Atom content: each format gets its own builder.
- RSS `<author>` must be an e-mail address: names go in `dc:creator`.
- RSS keeps only the first self `atom:link`: the RFC 5005 links, `fh:archive` and the
  comment naming the subscribe page are added by a small extension (`_FeedsvcExtension`).
feedgen writes no JSON Feed: `build_json` writes JSON Feed 1.1 from the same records.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html.entities import name2codepoint
from typing import Any

from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree
from markupsafe import escape

from feedsvc.catalog import Record
from feedsvc.config.settings import Site
from feedsvc.documents import feed_images
from feedsvc.documents.feed_info import FeedInfo, content_html, reader_note, rfc3339
from feedsvc.documents.json_feed import build_json

GENERATOR = "feedsvc"
ATOM_MEDIA_TYPE = "application/atom+xml"
ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"
TOMBSTONES_NS = "http://purl.org/atompub/tombstones/1.0"


# Elements of plain text (not HTML) that feedgen writes on one line each. Atom's summary and
# content and RSS's <description> and content:encoded are HTML, escaped once more: never here.
_PLAIN_TEXT = re.compile(rb"(<(title|subtitle|name|dc:creator|category)(?: [^>]*)?>)([^<]+)(</\2>)")
_TAG_LIKE = re.compile(r"<[/A-Za-z]")
_REFERENCE_LIKE = re.compile(r"&(#?\w+)")


def looks_like_markup(text: str) -> bool:
    """Return whether plain text holds what the W3C feed validator takes for markup: a tag or
    an HTML character reference ("<b>", "</i>", "&copy", "&#38"), not "R&D" or "x < y"."""
    if _TAG_LIKE.search(text):
        return True
    return any(
        name in name2codepoint or name == "apos" or not name.isalpha()
        for name in _REFERENCE_LIKE.findall(text)
    )


def _hex_if_markup(match: re.Match[bytes]) -> bytes:
    start, _name, text, end = match.groups()
    decoded = text.replace(b"&lt;", b"<").replace(b"&gt;", b">").replace(b"&amp;", b"&")
    if looks_like_markup(decoded.decode("utf-8")):
        text = text.replace(b"&amp;", b"&#x26;").replace(b"&lt;", b"&#x3C;")
    return start + text + end


def plain_text_references(document: bytes) -> bytes:
    """Return an XML document whose plain text that looks like markup is written with
    hexadecimal references ("&#x3C;b>"), the rest as lxml writes it ("R&amp;D", "x &lt; y").

    Every XML parser reads both alike, but some clients decode their fields once more after
    the XML parser (@extractus/feed-extractor over fast-xml-parser, which leaves numeric
    references alone), and code reading fast-xml-parser's fields gets "&#x26;" as is: "&amp;"
    is the form all of them decode. The W3C validator warns about plain text that looks like
    markup (CharacterData, ContainsUndeclaredHTML) unless its line holds a hexadecimal
    reference, which the RSS Best Practices Profile recommends: those lines keep them.
    """
    return _PLAIN_TEXT.sub(_hex_if_markup, document)


class _FeedsvcExtension(BaseExtension):  # type: ignore[misc]
    """Add what feedgen cannot: the stylesheet instruction, fh:archive, RSS history links."""

    info: FeedInfo
    media_type: str

    def extend_ns(self) -> dict[str, str]:
        spaces = {"fh": HISTORY_NS} if self.info.archive else {}
        if self.info.tombstones and self.media_type == ATOM.media_type:
            spaces["at"] = TOMBSTONES_NS
        return spaces

    def _common(self, root: Any, parent: Any) -> None:
        if self.info.subscribe_url:
            # "--" may not occur in an XML comment; "-%2D" is the same URL (RFC 3986 6.2.2.2).
            note = reader_note(self.info.subscribe_url.replace("--", "-%2D"))
            root.addprevious(etree.Comment(f" {note} "))
        if self.info.archive:
            etree.SubElement(parent, f"{{{HISTORY_NS}}}archive")

    def extend_atom(self, feed: Any) -> Any:
        self._common(feed, feed)
        for tombstone in self.info.tombstones:
            # ref and when only: a nested atom:link is read by feedparser and reader as the
            # FEED's alternate link (and lxml would give it an ns0: prefix).
            etree.SubElement(
                feed,
                f"{{{TOMBSTONES_NS}}}deleted-entry",
                ref=tombstone.entry_id,
                when=rfc3339(tombstone.removed),
            )
        return feed

    def extend_rss(self, feed: Any) -> Any:
        channel = feed.find("channel")
        self._common(feed, channel)
        links = self.info.history_links()
        if self.info.hub_url:
            links.append(("hub", self.info.hub_url))
        for rel, href in links:
            link = etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=href, rel=rel)
            if rel != "hub":
                link.set("type", self.media_type)
        return feed


def _generator(info: FeedInfo, media_type: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.register_extension("feedsvc", _FeedsvcExtension, None)
    fg.register_extension(
        feed_images.NAME, feed_images.ImagesExtension, feed_images.ImageEntryExtension
    )
    fg.feedsvc.info = info
    fg.feedsvc.media_type = media_type
    fg.id(info.id)
    fg.title(info.title)
    fg.author({"name": info.site.author})
    fg.language(info.site.language)
    fg.generator(GENERATOR)
    # The page first in Atom (clients such as feed-extractor take the first link for the
    # site's), last for RSS (feedgen takes the channel <link> from the last link added).
    page = {"href": info.page_url, "rel": "alternate", "type": "text/html"}
    links = [{"href": info.self_url, "rel": "self", "type": media_type}]
    links += [{"href": href, "rel": rel, "type": media_type} for rel, href in info.history_links()]
    links += [{"href": info.hub_url, "rel": "hub"}] if info.hub_url else []
    for link in [page, *links] if media_type == ATOM_MEDIA_TYPE else [*links, page]:
        fg.link(**link)
    fg.updated(info.updated)
    return fg


def _entry(fg: FeedGenerator, record: Record, site: Site) -> Any:
    fe = fg.add_entry(order="append")
    fe.id(record.entry_id)
    fe.title(record.title)
    fe.link(href=site.absolute(record.path), rel="alternate", type="text/html")
    fe.published(record.published)
    fe.updated(record.updated)
    for category in record.categories:
        fe.category(term=category, label=category)
    return fe


def build_atom(info: FeedInfo, records: Sequence[Record]) -> bytes:
    """Return an Atom 1.0 document of `records` (given newest first)."""
    fg = _generator(info, ATOM.media_type)
    fg.subtitle(info.subtitle)
    if info.icon_url:
        fg.icon(info.icon_url)
    if info.logo_url:
        fg.logo(info.logo_url)
    for record in records:
        fe = _entry(fg, record, info.site)
        fe.author({"name": record.author or info.site.author})
        # The plain-text summary escaped as HTML, as in RSS <description>: a client that picks one
        # text per entry by media type (rss2email prefers text/plain) then finds no plain-text
        # rival to the content and mails the whole article, as it does from RSS.
        fe.summary(str(escape(record.summary)), type="html")
        image = info.images.get(record.key)
        fe.content(content_html(record, image), type="html")
        feed_images.set_image(fe, image, rss=False)
    return plain_text_references(bytes(fg.atom_str(pretty=True)))


def build_rss(info: FeedInfo, records: Sequence[Record]) -> bytes:
    """Return an RSS 2.0 document of `records` (given newest first)."""
    fg = _generator(info, RSS.media_type)
    fg.description(info.subtitle)
    if info.icon_url:  # title and link as the channel's: readers check they match
        size = str(info.icon_size)
        fg.image(info.icon_url, info.title, info.page_url, size, size)
    fg.load_extension("dc", atom=False, rss=True)
    # pubDate is the record's own date, never adjusted per document: the catalog gives every
    # article a whole second no other holds (RFC 822 has no fractions), the same in every feed.
    for record in records:
        fe = _entry(fg, record, info.site)
        fe.dc.dc_creator(record.author or info.site.author)
        # RSS readers treat <description> as HTML: the plain-text summary is escaped for it.
        fe.description(str(escape(record.summary)))
        image = info.images.get(record.key)
        fe.content(content_html(record, image), type="html")
        feed_images.set_image(fe, image, rss=True)
    return plain_text_references(bytes(fg.rss_str(pretty=True)))


@dataclass(frozen=True, slots=True)
class FeedFormat:
    """One feed format: how to build it, what it is called and how it is served."""

    name: str
    filename: str
    media_type: str
    build: Callable[[FeedInfo, Sequence[Record]], bytes]
    title: str


ATOM = FeedFormat("atom", "atom.xml", ATOM_MEDIA_TYPE, build_atom, "Atom")
RSS = FeedFormat("rss", "rss.xml", "application/rss+xml", build_rss, "RSS")
JSON_FEED = FeedFormat("json", "feed.json", "application/feed+json", build_json, "JSON Feed")
FORMATS: dict[str, FeedFormat] = {fmt.filename: fmt for fmt in (ATOM, RSS, JSON_FEED)}
