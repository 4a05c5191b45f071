"""One date per article: whole seconds, none shared within the publication (published, and
updated), ties pushed forward one second at a time in the order articles take their places;
old catalogs migrated without moving a date by more than the tie-break needs."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from feedsvc.catalog import Catalog, format_time, open_catalog, parse_time
from feedsvc.catalog.schema import _MIGRATIONS
from feedsvc.catalog.times import distinct_seconds, spread
from feedsvc.support.migrations import migrate
from tests.conftest import T0, article_text, run_ingest, write_article
from tests.gitrepo import DAY0, Repo

S = timedelta(seconds=1)


def dates(catalog: Catalog) -> dict[str, tuple[datetime, datetime]]:
    """Return key -> (published, updated) of every row, withdrawn ones too."""
    rows = catalog.connection.execute("SELECT key, published, updated FROM articles")
    return {row[0]: (parse_time(row[1]), parse_time(row[2])) for row in rows}


def places(catalog: Catalog) -> list[str]:
    return [row[0] for row in catalog.connection.execute("SELECT key FROM articles ORDER BY seq")]


def assert_distinct(found: dict[str, tuple[datetime, datetime]]) -> None:
    published = [pair[0] for pair in found.values()]
    updated = [pair[1] for pair in found.values()]
    assert len(set(published)) == len(published)
    assert len(set(updated)) == len(updated)
    assert all(moment.microsecond == 0 for moment in published + updated)
    assert all(pair[1] >= pair[0] for pair in found.values())


def _mkdir(folder: Path) -> Path:
    folder.mkdir()
    return folder


def dated(day: str, updated: str = "") -> str:
    return f"---\ndate: {day}\n" + (f"updated: {updated}\n" if updated else "") + "---\n"


def test_a_batch_takes_successive_seconds_in_the_order_of_its_places(
    tmp_path: Path, catalog: Catalog
) -> None:
    seeds = _mkdir(tmp_path / "seeds")
    for number in range(20):
        write_article(seeds, f"{number:02d}", "World", "T")
    run_ingest(catalog, seeds, now=T0 + timedelta(microseconds=987_654))
    found = dates(catalog)
    assert_distinct(found)
    assert [found[key] for key in places(catalog)] == [(T0 + n * S, T0 + n * S) for n in range(20)]
    # The next ingest in the same second dates its new article after the batch.
    write_article(seeds, "20", "World", "T")
    run_ingest(catalog, seeds, now=T0 + timedelta(microseconds=999_999))
    assert dates(catalog)["20"] == (T0 + 20 * S, T0 + 20 * S)


def test_shared_front_matter_dates_are_pushed_forward_in_key_order(
    tmp_path: Path, catalog: Catalog
) -> None:
    seeds = _mkdir(tmp_path / "seeds")
    day = "2024-01-05T10:00:00.750Z"  # a fraction is cut, never rounded up
    for key in ("c", "a", "b"):
        text = dated(day, "2024-01-06T00:00:00Z") + article_text("World", key, ["Body."])
        (seeds / f"{key}.txt").write_text(text, encoding="utf-8")
    run_ingest(catalog, seeds)
    found = dates(catalog)
    assert_distinct(found)
    start = datetime.fromisoformat("2024-01-05T10:00:00Z")
    edit = datetime.fromisoformat("2024-01-06T00:00:00Z")
    assert found == {
        "a": (start, edit),
        "b": (start + S, edit + S),
        "c": (start + 2 * S, edit + 2 * S),
    }

    # An edit that keeps the date keeps the second the tie gave it.
    text = dated(day, "2024-01-06T00:00:00Z") + article_text("World", "b", ["Edited."])
    (seeds / "b.txt").write_text(text, encoding="utf-8")
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=1))
    assert dates(catalog)["b"] == found["b"]


def test_files_added_by_one_commit_are_pushed_forward_in_place_order(tmp_path: Path) -> None:
    from feedsvc.catalog.safekeeping import run_ingest as settled_ingest
    from feedsvc.config.settings import load_settings

    repo = Repo(tmp_path / "newsroom")
    for key in ("b", "c", "a"):
        repo.write(f"articles/{key}.txt", article_text("World", key.upper(), ["Body."]))
    repo.commit("three at once", DAY0)
    database = tmp_path / "c.sqlite3"
    settings = load_settings(
        {},
        {
            "SEEDS_DIR": repo.top / "articles",
            "DATABASE": database,
            "SETTLE_MS": 0,
            "SITE_URL": "https://news.example.org",
        },
    )
    settled_ingest(settings, now=DAY0 + timedelta(days=3))
    catalog = open_catalog(database, readonly=True)
    try:
        assert places(catalog) == ["a", "b", "c"]
        assert dates(catalog) == {key: (DAY0 + n * S, DAY0 + n * S) for n, key in enumerate("abc")}
    finally:
        catalog.close()


def test_edits_in_one_ingest_get_distinct_seconds_after_what_readers_saw(
    seeds: Path, catalog: Catalog
) -> None:
    run_ingest(catalog, seeds)
    before = dates(catalog)
    # Two edits seen at once, and two giving the same front-matter `updated`.
    write_article(seeds, "001_markets", "Business", "Markets", "Edited.")
    write_article(seeds, "002_comet", "Science", "A comet returns", "Edited.")
    for key in ("003_x", "004_y"):
        text = dated("2024-02-01T00:00:00Z", "2024-02-20T08:00:00Z")
        (seeds / f"{key}.txt").write_text(text + article_text("World", key, ["B."]), "utf-8")
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=2, microseconds=5))
    after = dates(catalog)
    assert_distinct(after)
    later = T0 + timedelta(hours=2)
    assert after["001_markets"] == (before["001_markets"][0], later)
    assert after["002_comet"] == (before["002_comet"][0], later + S)
    assert after["003_x"][1] == datetime.fromisoformat("2024-02-20T08:00:00Z")
    assert after["004_y"][1] == datetime.fromisoformat("2024-02-20T08:00:01Z")


def test_a_withdrawn_article_keeps_its_seconds_and_returns_to_them(
    seeds: Path, catalog: Catalog
) -> None:
    run_ingest(catalog, seeds)
    comet = dates(catalog)["002_comet"]
    text = (seeds / "002_comet.txt").read_bytes()
    (seeds / "002_comet.txt").unlink()
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=1, microseconds=300))
    removed = catalog.connection.execute("SELECT removed FROM articles WHERE key = '002_comet'")
    assert removed.fetchone()[0] == format_time(T0 + timedelta(hours=1))
    # A new article asking for the comet's second gets the next free one.
    wanted = comet[0].isoformat()
    (seeds / "003_new.txt").write_text(dated(wanted) + article_text("World", "New", ["B."]))
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=2))
    assert dates(catalog)["003_new"][0] == comet[0] + S
    (seeds / "002_comet.txt").write_bytes(text)
    run_ingest(catalog, seeds, now=T0 + timedelta(hours=3))
    assert dates(catalog)["002_comet"] == comet
    assert_distinct(dates(catalog))


def test_spread_cuts_fractions_and_pushes_ties_forward() -> None:
    ms = timedelta(milliseconds=1)
    given = [T0 + 3 * ms, T0 + 900 * ms, T0 + S, T0 + 5 * S, T0 + 5 * S + ms]
    assert spread(given) == [T0, T0 + S, T0 + 2 * S, T0 + 5 * S, T0 + 6 * S]
    assert spread([]) == []


# An old catalog: ties within one second, an `updated` tie, a withdrawn article (key,
# published, updated, removed), in the order of their places.
OLD = (
    ("a", T0 + timedelta(microseconds=1), None, None),
    ("b", T0 + timedelta(microseconds=2), None, None),
    ("c", T0 + timedelta(microseconds=3), T0 + timedelta(seconds=5, milliseconds=100), None),
    ("g", T0 + timedelta(milliseconds=500), None, None),
    ("d", T0 + timedelta(milliseconds=1500), None, None),
    ("e", T0 + timedelta(milliseconds=4200), T0 + timedelta(seconds=5, milliseconds=300), None),
    ("f", T0 + timedelta(milliseconds=10700), None, T0 + timedelta(milliseconds=20700)),
)


def _old_catalog(database: Path) -> None:
    database.parent.mkdir(parents=True)
    db = sqlite3.connect(database, isolation_level=None)
    try:
        migrate(db, _MIGRATIONS[: _MIGRATIONS.index(distinct_seconds)])
        db.execute("BEGIN")
        for seq, (key, published, updated, removed) in enumerate(OLD, start=1):
            db.execute(
                "INSERT INTO articles (key, entry_id, slug, section, section_slug, title, "
                "paragraphs, content_hash, published, updated, removed, seq, section_seq) "
                "VALUES (?, ?, ?, 'S', 's', 'T', 'P', ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    f"tag:x,2024:{key}",
                    f"slug-{key}",
                    f"hash-{key}",
                    format_time(published),
                    format_time(updated or published),
                    removed and format_time(removed),
                    seq,
                    seq,
                ),
            )
        db.execute("INSERT INTO scope_places VALUES ('section', 's', ?)", (len(OLD),))
        db.execute("COMMIT")
    finally:
        db.close()


def test_an_old_catalog_with_ties_is_migrated_by_the_tie_break_alone(
    database: Path, tmp_path: Path
) -> None:
    _old_catalog(database)
    catalog = open_catalog(database)
    try:
        found = dates(catalog)
        assert_distinct(found)
        seconds = {key: ((p - T0) // S, (u - T0) // S) for key, (p, u) in found.items()}
        # Cut to the second; ties pushed forward one second at a time in publication order;
        # `updated` never before `published`, and an `updated` tie pushed forward too.
        assert seconds == {
            "a": (0, 0),
            "b": (1, 1),
            "c": (2, 5),
            "g": (3, 3),
            "d": (4, 4),
            "e": (5, 6),
            "f": (10, 10),
        }
        removed = catalog.connection.execute("SELECT removed FROM articles WHERE key = 'f'")
        assert removed.fetchone()[0] == format_time(T0 + 20 * S)
        # The writer keeps them distinct: a new article seen at 4.5 s takes the first second
        # no article holds as published or updated.
        seeds = _mkdir(tmp_path / "seeds")
        write_article(seeds, "h", "World", "New")
        run_ingest(catalog, seeds, now=T0 + timedelta(milliseconds=4500))
        assert dates(catalog)["h"] == (T0 + 7 * S, T0 + 7 * S)
        assert {key: dates(catalog)[key] for key in found} == found  # withdrawn, not moved
    finally:
        catalog.close()


def test_a_second_given_as_one_articles_updated_is_never_another_articles(
    tmp_path: Path,
) -> None:
    from feedsvc.catalog.safekeeping import run_ingest as settled_ingest
    from feedsvc.config.settings import load_settings

    repo = Repo(tmp_path / "newsroom")
    repo.write("articles/a.txt", article_text("World", "A", ["Committed."]))
    repo.commit("a", DAY0)
    now = DAY0 + timedelta(days=10)
    # a: committed, then changed: its `updated` is the moment it is seen. b asks for that
    # very second as its date.
    repo.write("articles/a.txt", article_text("World", "A", ["Changed since."]))
    repo.write("articles/b.txt", dated(now.isoformat()) + article_text("World", "B", ["B."]))
    database = tmp_path / "c.sqlite3"
    settings = load_settings(
        {},
        {
            "SEEDS_DIR": repo.top / "articles",
            "DATABASE": database,
            "SETTLE_MS": 0,
            "SITE_URL": "https://news.example.org",
        },
    )
    settled_ingest(settings, now=now)
    catalog = open_catalog(database, readonly=True)
    try:
        found = dates(catalog)
        assert found == {"a": (DAY0, now), "b": (now + S, now + S)}
        assert_distinct(found)
    finally:
        catalog.close()
