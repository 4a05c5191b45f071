"""The one question federation asks of the catalog beyond its API: the fixed place (`seq`,
first-ingest order, never reused) of given articles, which object ids are made from. (A
candidate for feedsvc.catalog.reader once the catalog's schema work settles.)"""

from __future__ import annotations

from collections.abc import Iterable

from feedsvc.catalog import Catalog, Record


def places(catalog: Catalog, records: Iterable[Record]) -> dict[str, int]:
    """Return {entry_id: seq} of the given articles."""
    ids = [record.entry_id for record in records]
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    with catalog.errors():
        rows = catalog.connection.execute(
            f"SELECT entry_id, seq FROM articles WHERE entry_id IN ({marks})",  # noqa: S608
            ids,
        ).fetchall()
    return {str(row[0]): int(row[1]) for row in rows}
