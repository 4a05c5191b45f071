"""A section as a read-only reader sees it: read from the list of every section, kept until
another connection commits."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from feedsvc.catalog import Catalog, open_catalog
from feedsvc.errors import NotFound
from tests.conftest import T0, run_ingest, write_article


def test_a_reader_sees_each_commit_of_the_writer(
    catalog: Catalog, seeds: Path, database: Path
) -> None:
    run_ingest(catalog, seeds)
    reader = open_catalog(database, readonly=True)
    try:
        science = reader.section("science")
        assert science == catalog.section("science")
        assert science.count == 1
        with pytest.raises(NotFound):
            reader.section("culture")

        write_article(seeds, "003_bees", "Science", "Bees are back", "They came back.")
        write_article(seeds, "004_opera", "Culture", "An opera opens", "It opened.")
        run_ingest(catalog, seeds, now=T0 + timedelta(hours=1))
        after = reader.section("science")
        assert after.count == 2
        assert after.updated == T0 + timedelta(hours=1)
        assert after == catalog.section("science")
        assert reader.section("culture").name == "Culture"

        (seeds / "004_opera.txt").unlink()
        run_ingest(catalog, seeds, now=T0 + timedelta(hours=2))
        with pytest.raises(NotFound):
            reader.section("culture")
        assert [s.slug for s in reader.sections()] == [s.slug for s in catalog.sections()]
    finally:
        reader.close()
