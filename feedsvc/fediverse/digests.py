"""Which fediverse documents a catalog change touches: for each exported fediverse path, a
digest of exactly what its bytes are made from (feedsvc.export.fingerprints adds them when
FEEDSVC_FEDIVERSE is on)."""

from __future__ import annotations

import hashlib
from collections import defaultdict

from feedsvc import urlmap
from feedsvc.catalog import Catalog, Record
from feedsvc.config.settings import Settings
from feedsvc.documents.cards import card_for
from feedsvc.support.dates import iso_seconds


def _digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:24]


def note_digest(record: Record, seq: int, site_title: str) -> str:
    """Return the digest of what an article's Note shows."""
    own = record.image
    image = (
        (own.name, own.media_type, own.alt, own.width, own.height)
        if own
        else card_for(record, site_title).version
    )
    return _digest(
        seq,
        record.title,
        record.summary,
        record.slug,
        record.section,
        record.section_slug,
        iso_seconds(record.published),
        iso_seconds(record.updated),
        record.categories,
        image,
    )


def fediverse_fingerprints(catalog: Catalog, settings: Settings) -> dict[str, str]:
    """Return {path: digest} of every exported fediverse path."""
    found: dict[str, str] = {}
    shown: dict[str | None, list[str]] = defaultdict(list)
    for record, seq, _section_seq in catalog.each_live():
        note = note_digest(record, seq, settings.site.title)
        found[urlmap.ap_object(seq)] = note
        shown[None].append(note)
        shown[record.section_slug].append(note)
    sections = {section.slug: section.name for section in catalog.sections()}
    found[urlmap.WEBFINGER] = found[urlmap.NODEINFO_LINKS] = "constant"  # settings only
    found[urlmap.NODEINFO] = _digest(len(sections), len(shown[None]))
    size = settings.page_size
    for slug in [None, *sections]:
        notes = shown[slug]
        found[urlmap.actor(slug)] = "constant" if slug is None else _digest(sections[slug])
        found[urlmap.outbox(slug)] = _digest(len(notes))
        for number in range(1, urlmap.pages(len(notes), size) + 1):
            page = notes[(number - 1) * size : number * size]
            found[urlmap.outbox(slug, number)] = _digest(len(notes), page)
    return found
