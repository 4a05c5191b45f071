"""Ingest and the catalog: identity, dates, slugs, removals, bad files, schema."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import fields
from datetime import timedelta
from pathlib import Path

import pytest

from feedsvc.catalog import SCHEMA_VERSION, Catalog, Lookup, open_catalog
from feedsvc.catalog.records import ARTICLE_COLUMNS
from feedsvc.catalog.writer import WRITTEN, Values
from feedsvc.errors import CatalogError, NotFound
from tests.conftest import T0, run_ingest, write_article


def rows(database: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT * FROM articles ORDER BY key").fetchall()


def test_first_ingest_adds_every_article(catalog: Catalog, seeds: Path) -> None:
    report = run_ingest(catalog, seeds)
    assert report.added == ("000_5633a81924f3da7a", "001_markets", "002_comet")
    assert report.rejected == ()
    record = catalog.lookup("a-comet-returns").record
    assert record is not None
    assert record.entry_id == "tag:news.example.org,2024-03-01:002_comet"
    assert record.published == record.updated == T0 + timedelta(seconds=2)
    assert record.published.tzinfo is not None
    # One ingest: successive whole seconds in file-name order, so no two entries tie.
    stamps = [catalog.lookup(r.slug).record.published for r in catalog.latest(3)]  # type: ignore[union-attr]
    assert stamps == [T0 + timedelta(seconds=n) for n in (2, 1, 0)]
    assert record.section_slug == "science"


def test_ingest_twice_changes_nothing(catalog: Catalog, seeds: Path, database: Path) -> None:
    run_ingest(catalog, seeds)
    before, generation = rows(database), catalog.generation()
    report = run_ingest(catalog, seeds, now=T0 + timedelta(days=3))
    assert report.unchanged == ("000_5633a81924f3da7a", "001_markets", "002_comet")
    assert not report.changed_anything
    assert rows(database) == before
    assert catalog.generation() == generation


def test_edit_keeps_id_and_published_and_moves_updated(catalog: Catalog, seeds: Path) -> None:
    run_ingest(catalog, seeds)
    old = catalog.lookup("a-comet-returns").record
    write_article(seeds, "002_comet", "Science", "A comet returns", "Astronomers saw it again.")
    later = T0 + timedelta(hours=5)
    report = run_ingest(catalog, seeds, now=later)
    assert report.changed == ("002_comet",)
    new = catalog.lookup("a-comet-returns").record
    assert old is not None
    assert new is not None
    assert (new.entry_id, new.published) == (old.entry_id, old.published)
    assert new.updated == later
    assert new.paragraphs == ("Astronomers saw it again.",)


def test_line_ending_change_is_not_an_edit(catalog: Catalog, seeds: Path) -> None:
    run_ingest(catalog, seeds)
    path = seeds / "002_comet.txt"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n") + b"\r\n")
    assert run_ingest(catalog, seeds, now=T0 + timedelta(1)).changed == ()


def test_new_title_gives_new_slug_and_old_one_redirects(catalog: Catalog, seeds: Path) -> None:
    run_ingest(catalog, seeds)
    write_article(seeds, "002_comet", "Science", "The comet is back", "Astronomers saw it.")
    run_ingest(catalog, seeds, now=T0 + timedelta(1))
    assert catalog.lookup("a-comet-returns").redirect_to == "the-comet-is-back"
    record = catalog.lookup("the-comet-is-back").record
    assert record is not None
    assert record.entry_id.endswith(":002_comet")
    # Back to the first title: the first slug is the article's again, the second redirects.
    write_article(seeds, "002_comet", "Science", "A comet returns", "Astronomers saw it.")
    run_ingest(catalog, seeds, now=T0 + timedelta(2))
    assert catalog.lookup("a-comet-returns").record is not None
    assert catalog.lookup("the-comet-is-back").redirect_to == "a-comet-returns"


def test_duplicate_titles_get_unique_slugs(catalog: Catalog, seeds: Path) -> None:
    write_article(seeds, "003_again", "Science", "A comet returns", "Another one.")
    write_article(seeds, "004_thrice", "Science", "A comet returns!", "A third.")
    run_ingest(catalog, seeds)
    slugs = [
        catalog.lookup(s).record
        for s in ("a-comet-returns", "a-comet-returns-2", "a-comet-returns-3")
    ]
    assert [r.key for r in slugs if r] == ["002_comet", "003_again", "004_thrice"]


def test_removed_file_is_withdrawn_and_can_return(catalog: Catalog, seeds: Path) -> None:
    run_ingest(catalog, seeds)
    text = (seeds / "002_comet.txt").read_bytes()
    (seeds / "002_comet.txt").unlink()
    report = run_ingest(catalog, seeds, now=T0 + timedelta(1))
    assert report.removed == ("002_comet",)
    assert catalog.lookup("a-comet-returns") == Lookup()  # withdrawn: no record, no redirect
    assert catalog.count() == 2
    (seeds / "002_comet.txt").write_bytes(text)
    run_ingest(catalog, seeds, now=T0 + timedelta(2))
    record = catalog.lookup("a-comet-returns").record
    assert record is not None
    assert record.published == record.updated == T0 + timedelta(seconds=2)


def test_bad_file_is_reported_and_the_rest_published(catalog: Catalog, seeds: Path) -> None:
    (seeds / "005_bad.txt").write_bytes(b"\x00\x01binary")
    (seeds / ".hidden.txt").write_text("S\n\nT\n\nB", encoding="utf-8")
    (seeds / "notes.md").write_text("not an article", encoding="utf-8")
    report = run_ingest(catalog, seeds)
    assert [(Path(r.path).name, r.code) for r in report.rejected] == [("005_bad.txt", "binary")]
    assert catalog.count() == 3


def test_broken_edit_keeps_the_last_good_version(catalog: Catalog, seeds: Path) -> None:
    run_ingest(catalog, seeds)
    (seeds / "002_comet.txt").write_text("", encoding="utf-8")
    report = run_ingest(catalog, seeds, now=T0 + timedelta(1))
    assert [r.code for r in report.rejected] == ["empty"]
    assert report.removed == ()
    assert catalog.lookup("a-comet-returns").record is not None


def test_latest_is_newest_first_with_ties_broken_by_key(catalog: Catalog, seeds: Path) -> None:
    run_ingest(catalog, seeds)
    write_article(seeds, "000_late", "Science", "Late news")
    run_ingest(catalog, seeds, now=T0 + timedelta(minutes=1))
    keys = [r.key for r in catalog.latest(10)]
    assert keys == ["000_late", "002_comet", "001_markets", "000_5633a81924f3da7a"]
    assert [r.key for r in catalog.latest(2, offset=1)] == ["002_comet", "001_markets"]
    assert [r.key for r in catalog.latest(10, section_slug="science")] == ["000_late", "002_comet"]


def test_sections(catalog: Catalog, seeds: Path) -> None:
    run_ingest(catalog, seeds)
    assert [(s.name, s.slug, s.count) for s in catalog.sections()] == [
        ("Business", "business", 1),
        ("Science", "science", 1),
        ("World News", "world-news", 1),
    ]


def test_unknown_slug_raises_not_found(catalog: Catalog, seeds: Path) -> None:
    run_ingest(catalog, seeds)
    with pytest.raises(NotFound):
        catalog.lookup("nothing-here")


def test_schema_version_and_wal(catalog: Catalog, database: Path) -> None:
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_corrupt_database_gives_a_catalog_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(CatalogError, match=r"broken\.sqlite3"):
        open_catalog(path)


def test_readonly_open_of_missing_catalog_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="feedsvc ingest"):
        open_catalog(tmp_path / "missing.sqlite3", readonly=True)


def test_newer_schema_is_refused(database: Path) -> None:
    database.parent.mkdir(parents=True)
    with sqlite3.connect(database) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(CatalogError, match="newer"):
        open_catalog(database)


def test_migrates_a_version_1_catalog(database: Path) -> None:
    from feedsvc.catalog.schema import _MIGRATIONS

    database.parent.mkdir(parents=True)
    with sqlite3.connect(database) as db:
        db.executescript(_MIGRATIONS[0] + "; PRAGMA user_version = 1;")
        for key, when in (("b", "2024-01-02T00:00:00Z"), ("a", "2024-01-01T00:00:00Z")):
            db.execute(
                "INSERT INTO articles VALUES (?, ?, ?, 'S', 's', 'T', '[\"P\"]', 'h', ?, ?, NULL)",
                (key, f"tag:x,2024:{key}", f"slug-{key}", when, when),
            )
        db.execute("INSERT INTO meta VALUES ('changed', '2024-01-02T00:00:00Z')")
    migrated = open_catalog(database)
    try:
        assert [(r.key, r.published.isoformat()) for r in migrated.latest(5)] == [
            ("b", "2024-01-02T00:00:00+00:00"),
            ("a", "2024-01-01T00:00:00+00:00"),
        ]
        assert migrated.block(1, 1)[0].key == "a"  # seq follows first-ingest order
        assert migrated.changed().isoformat() == "2024-01-02T00:00:00+00:00"
    finally:
        migrated.close()


def test_tombstones_last_for_the_retention_period(catalog: Catalog, seeds: Path) -> None:
    run_ingest(catalog, seeds)
    removed_at = T0 + timedelta(days=1)
    (seeds / "002_comet.txt").unlink()
    run_ingest(catalog, seeds, now=removed_at)
    stones = catalog.tombstones()
    assert [(t.entry_id.rsplit(":", 1)[1], t.removed, t.path) for t in stones] == [
        ("002_comet", removed_at, "/articles/a-comet-returns/")
    ]
    assert [t.entry_id for t in catalog.tombstones(section_slug="science")] == [stones[0].entry_id]
    assert catalog.tombstones(section_slug="business") == []
    generation = catalog.generation()
    report = run_ingest(catalog, seeds, now=removed_at + timedelta(days=29))
    assert not report.changed_anything
    assert len(catalog.tombstones()) == 1
    report = run_ingest(catalog, seeds, now=removed_at + timedelta(days=30, seconds=1))
    assert report.tombstones_expired
    assert catalog.tombstones() == []
    assert catalog.generation() == generation + 1  # the feeds change: they drop the tombstone


def test_rename_keeps_identity_even_across_ingests(catalog: Catalog, seeds: Path) -> None:
    run_ingest(catalog, seeds)
    old = catalog.lookup("a-comet-returns").record
    text = (seeds / "002_comet.txt").read_bytes()
    (seeds / "002_comet.txt").unlink()
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=1))  # seen as removed meanwhile
    (seeds / "renamed comet.txt").write_bytes(text)
    report = run_ingest(catalog, seeds, now=T0 + timedelta(hours=2))
    assert report.renamed == (("002_comet", "renamed comet"),)
    new = catalog.lookup("a-comet-returns").record
    assert old is not None
    assert new is not None
    assert (new.key, new.entry_id, new.published, new.updated) == (
        "renamed comet",
        old.entry_id,
        old.published,
        old.updated,
    )
    assert catalog.tombstones() == []


def test_unchanged_files_are_not_read_again(catalog: Catalog, seeds: Path) -> None:
    run_ingest(catalog, seeds)
    path = seeds / "002_comet.txt"
    path.chmod(0o000)  # unreadable, but its size/mtime/inode say it has not changed
    try:
        report = run_ingest(catalog, seeds, now=T0 + timedelta(hours=1))
    finally:
        path.chmod(0o644)
    assert report.rejected == ()
    assert "002_comet" in report.unchanged
    os.utime(path, ns=(0, 0))  # touched: read again, same content, still unchanged
    report = run_ingest(catalog, seeds, now=T0 + timedelta(hours=2))
    assert "002_comet" in report.unchanged
    assert not report.changed_anything


def test_moving_section_takes_a_new_place_at_its_end(catalog: Catalog, seeds: Path) -> None:
    write_article(seeds, "003_more", "Business", "More business", "Text.")
    run_ingest(catalog, seeds)
    assert catalog.slots(section_slug="business") == 2
    assert catalog.slots(section_slug="science") == 1
    write_article(seeds, "001_markets", "Science", 'Markets & <bonds> "rally"', "Now science.")
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=1))
    assert [r.key for r in catalog.block(2, 2, section_slug="science")] == ["001_markets"]
    assert [r.key for r in catalog.block(1, 2, section_slug="business")] == ["003_more"]
    assert catalog.slots(section_slug="business") == 2  # the hole stays: blocks never shift
    assert catalog.slots() == 4


def test_the_written_columns_are_one_list() -> None:
    # Values is typed field by field; its fields must be the columns every statement is made of.
    assert tuple(field.name for field in fields(Values)) == WRITTEN
    assert set(WRITTEN) ^ set(ARTICLE_COLUMNS) == {"entry_id", "file_sig"}


def test_a_new_file_under_a_renamed_articles_old_name_gets_an_id_of_its_own(
    catalog: Catalog, seeds: Path
) -> None:
    run_ingest(catalog, seeds)
    (seeds / "002_comet.txt").rename(seeds / "002_comet_moved.txt")
    run_ingest(catalog, seeds, now=T0 + timedelta(minutes=1))
    moved = catalog.lookup("a-comet-returns").record
    assert moved is not None
    assert moved.entry_id == "tag:news.example.org,2024-03-01:002_comet"  # it keeps its id
    write_article(seeds, "002_comet", "Science", "Another story", "Under the old name.")
    report = run_ingest(catalog, seeds, now=T0 + timedelta(minutes=2))
    assert report.added == ("002_comet",)
    new = catalog.lookup("another-story").record
    assert new is not None
    assert new.entry_id == "tag:news.example.org,2024-03-01:002_comet~2"
    assert run_ingest(catalog, seeds, now=T0 + timedelta(minutes=3)).changed_anything is False
