"""Build feed documents from catalog records: pure and deterministic, bytes out.

feedgen's traps are handled here, once:
- `updated`/`lastBuildDate` default to now() for the feed and each entry: always set from articles.
- `add_entry()` prepends by default: entries are appended to keep newest-first order.
- RSS `<link>` is the href of the *last* link added: the self link goes first, the page last.
- `content()` without a type is Atom text: always `type="html"`.
- `description()` after `content()` replaces the Atom content: each format gets its own builder.
- RSS `<author>` must be an e-mail address: names go in `dc:creator`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from feedgen.feed import FeedGenerator
from markupsafe import Markup, escape

from feedsvc.catalog import Record
from feedsvc.config import Site

GENERATOR = "feedsvc"


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """What one feed document is: its identity, title, links and time."""

    id: str
    title: str
    subtitle: str
    self_url: str
    page_url: str
    updated: datetime
    site: Site


def content_html(record: Record) -> str:
    """Return the article body as HTML: one <p> of escaped text per paragraph."""
    return str(Markup("\n").join(Markup("<p>{}</p>").format(text) for text in record.paragraphs))


def _generator(info: FeedInfo, media_type: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.id(info.id)
    fg.title(info.title)
    fg.author({"name": info.site.author})
    fg.language(info.site.language)
    fg.generator(GENERATOR)
    # Self first and the page last: RSS takes its channel <link> from the last link added.
    fg.link(href=info.self_url, rel="self", type=media_type)
    fg.link(href=info.page_url, rel="alternate", type="text/html")
    fg.updated(info.updated)
    return fg


def _entry(fg: FeedGenerator, record: Record, site: Site) -> object:
    fe = fg.add_entry(order="append")
    fe.id(record.entry_id)
    fe.title(record.title)
    fe.link(href=site.absolute(record.path), rel="alternate", type="text/html")
    fe.published(record.published)
    fe.updated(record.updated)
    fe.category(term=record.section, label=record.section)
    return fe


def build_atom(info: FeedInfo, records: Sequence[Record]) -> bytes:
    """Return an Atom 1.0 document of `records` (given newest first)."""
    fg = _generator(info, ATOM.media_type)
    fg.subtitle(info.subtitle)
    for record in records:
        fe = _entry(fg, record, info.site)
        fe.author({"name": info.site.author})  # type: ignore[attr-defined]
        fe.summary(record.summary, type="text")  # type: ignore[attr-defined]
        fe.content(content_html(record), type="html")  # type: ignore[attr-defined]
    return bytes(fg.atom_str(pretty=True))


def build_rss(info: FeedInfo, records: Sequence[Record]) -> bytes:
    """Return an RSS 2.0 document of `records` (given newest first)."""
    fg = _generator(info, RSS.media_type)
    fg.description(info.subtitle)
    fg.load_extension("dc", atom=False, rss=True)
    for record in records:
        fe = _entry(fg, record, info.site)
        fe.dc.dc_creator(info.site.author)  # type: ignore[attr-defined]
        # RSS readers treat <description> as HTML: the plain-text summary is escaped for it.
        fe.description(str(escape(record.summary)))  # type: ignore[attr-defined]
        fe.content(content_html(record), type="html")  # type: ignore[attr-defined]
    return bytes(fg.rss_str(pretty=True))


@dataclass(frozen=True, slots=True)
class FeedFormat:
    """One feed format: how to build it, what it is called and how it is served."""

    name: str
    filename: str
    media_type: str
    build: Callable[[FeedInfo, Sequence[Record]], bytes]
    title: str


ATOM = FeedFormat("atom", "atom.xml", "application/atom+xml", build_atom, "Atom")
RSS = FeedFormat("rss", "rss.xml", "application/rss+xml", build_rss, "RSS")
FORMATS: dict[str, FeedFormat] = {fmt.filename: fmt for fmt in (ATOM, RSS)}
