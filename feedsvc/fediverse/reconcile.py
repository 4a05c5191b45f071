"""What followers must be told: the catalog's live articles against what they were told
(the `published` table), turned into queued activities in one transaction.

Comparing states instead of listening to each ingest means a writer killed between committing
an ingest and queueing its deliveries loses nothing: the next pass finds the difference. The
first pass only takes note of what is there (no flood of old articles to new followers).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from feedsvc.catalog import Catalog, Record, format_time
from feedsvc.config.settings import Settings
from feedsvc.fediverse import objects, queue
from feedsvc.fediverse.actors import section_actor, site_actor
from feedsvc.fediverse.store import Store


def _body(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def reconcile(settings: Settings, store: Store, catalog: Catalog) -> int:
    """Queue Create/Announce, Update and Delete activities for what changed since the last
    pass; return how many deliveries were queued."""
    generation = str(catalog.generation())
    if store.meta("generation") == generation:
        return 0
    with store.errors():
        rows = store.db.execute(
            "SELECT entry_id, seq, section_slug, updated FROM published"
        ).fetchall()
    known = {row[0]: (int(row[1]), str(row[2]), str(row[3])) for row in rows}
    first = store.meta("baseline") is None
    site = site_actor(settings).id(settings)
    items: list[tuple[str, str, bytes]] = []
    upserts: list[tuple[str, int, str, str]] = []
    for record, seq, _section_seq in catalog.each_live():
        stamp = format_time(record.updated)
        old = known.pop(record.entry_id, None)
        if old is not None and old[1:] == (record.section_slug, stamp):
            continue
        upserts.append((record.entry_id, seq, record.section_slug, stamp))
        if not first:
            items += _changed(settings, store, record, seq, old is None, site)
    removed = datetime.now(UTC)
    for _entry_id, (seq, section_slug, _stamp) in known.items():
        if first:
            continue
        body = _body(objects.delete(settings, seq, removed))
        items += [(inbox, site, body) for inbox in store.inboxes(["", section_slug])]
    with store.transaction():
        store.db.executemany("INSERT OR REPLACE INTO published VALUES (?, ?, ?, ?)", upserts)
        store.db.executemany(
            "DELETE FROM published WHERE entry_id = ?", [(entry_id,) for entry_id in known]
        )
        queue.insert(store, items)
        for name, value in (("generation", generation), ("baseline", "done")):
            store.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, value))
    return len(items)


def _changed(
    settings: Settings, store: Store, record: Record, seq: int, new: bool, site: str
) -> list[tuple[str, str, bytes]]:
    document = objects.note(settings, record, seq)
    if not new:
        body = _body(objects.update(settings, document))
        return [(inbox, site, body) for inbox in store.inboxes(["", record.section_slug])]
    body = _body(objects.create(settings, document))
    items = [(inbox, site, body) for inbox in store.inboxes([""])]
    section = section_actor(settings, record.section_slug, record.section)
    boost = _body(objects.announce(settings, section, document))
    signer = section.id(settings)
    items += [(inbox, signer, boost) for inbox in store.inboxes([record.section_slug])]
    return items
