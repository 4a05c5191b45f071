"""The SQLite catalog: the one store between ingest (the only writer) and the readers."""

from feedsvc.catalog.reader import Catalog, open_catalog
from feedsvc.catalog.records import Lookup, Record, Section, Tombstone
from feedsvc.catalog.schema import SCHEMA_VERSION, format_time, parse_time
from feedsvc.catalog.watch import CatalogWatch

__all__ = [
    "SCHEMA_VERSION",
    "Catalog",
    "CatalogWatch",
    "Lookup",
    "Record",
    "Section",
    "Tombstone",
    "format_time",
    "open_catalog",
    "parse_time",
]
