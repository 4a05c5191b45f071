"""Every live article's row, without its text, and the whole rows of a few, from one state."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from feedsvc.catalog import Catalog, open_catalog
from tests.conftest import T0, run_ingest, write_article


def test_rows_without_text_are_the_rows_less_their_text(
    catalog: Catalog, seeds: Path, database: Path
) -> None:
    run_ingest(catalog, seeds)
    whole = [dict(row) for row in catalog.live_rows()]
    light = [dict(row) for row in catalog.live_rows(text=False)]
    assert [row["paragraphs"] for row in light] == [None] * len(whole)
    assert all(row["paragraphs"] for row in whole)
    assert light == [row | {"paragraphs": None} for row in whole]
    keys = [row["key"] for row in whole]
    chosen = catalog.whole_rows([keys[0], keys[-1], "no-such-key"])
    assert {key: dict(row) for key, row in chosen.items()} == {
        row["key"]: row for row in (whole[0], whole[-1])
    }
    (seeds / f"{keys[0]}.txt").unlink()
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=1))
    assert list(catalog.whole_rows([keys[0]])) == []  # withdrawn: no longer live


def test_a_snapshot_reads_one_state_while_the_writer_commits(
    catalog: Catalog, seeds: Path, database: Path
) -> None:
    run_ingest(catalog, seeds)
    reader = open_catalog(database, readonly=True)
    try:
        with reader.snapshot():
            before = [row["key"] for row in reader.live_rows(text=False)]
            write_article(seeds, "003_bees", "Nature", "Bees are back", "They came back.")
            run_ingest(catalog, seeds, now=T0 + timedelta(hours=1))
            assert [row["key"] for row in reader.live_rows(text=False)] == before
            assert reader.whole_rows(["003_bees"]) == {}
        assert "003_bees" in [row["key"] for row in reader.live_rows(text=False)]
    finally:
        reader.close()
