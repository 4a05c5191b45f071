"""The ingest plan, without files: what the folder's state against the catalog's means."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace

import pytest

from feedsvc.articles.problems import Rejected
from feedsvc.articles.text_format import Article
from feedsvc.catalog.ingest_plan import (
    Add,
    Brief,
    Catalogued,
    Change,
    Pending,
    Reject,
    Remove,
    Rename,
    Seen,
    Step,
    Stored,
    Touch,
    Unchanged,
    must_read,
    plan,
    sections,
    steps,
)

PUBLISHED = "2024-03-01T09:30:00.000000Z"


def article(key: str, title: str = "A comet returns", body: str = "Astronomers saw it.") -> Article:
    return Article(key=key, section="Science", title=title, paragraphs=(body,))


def stored(parsed: Article, *, sig: str = "sig-1", removed: str | None = None) -> Stored:
    """Return the row the catalog holds for an article ingested earlier."""
    return Stored(
        key=parsed.key,
        slug="a-comet-returns",
        title=parsed.title,
        section_slug="science",
        content_hash=parsed.content_hash,
        file_sig=sig,
        published=PUBLISHED,
        updated=PUBLISHED,
        removed=removed,
    )


def kinds(planned: tuple[Step, ...]) -> list[tuple[str, str]]:
    return [(type(step).__name__, step.key) for step in planned]


def test_a_new_file_is_added_with_its_signature() -> None:
    new = article("002_comet")
    planned = plan([Seen("002_comet", "sig-1", new)], [])
    assert planned == (Add(new, "sig-1"),)
    assert sections(planned[0]) == ("science",)


def test_an_edit_is_a_change_of_content() -> None:
    old = article("002_comet")
    new = article("002_comet", body="Astronomers saw it again.")
    planned = plan([Seen("002_comet", "sig-2", new)], [stored(old)])
    assert planned == (Change(new, "sig-2", stored(old)),)
    assert stored(old).content_hash != new.content_hash  # the writer gives it a new `updated`


def test_a_touched_file_only_gets_its_new_signature() -> None:
    same = article("002_comet")
    planned = plan([Seen("002_comet", "sig-2", same)], [stored(same)])
    assert planned == (Touch("002_comet", "sig-2"),)
    assert sections(planned[0]) == ()


def test_a_file_as_last_seen_is_unchanged_and_never_looked_up() -> None:
    same = article("002_comet")
    looked_up: list[str] = []

    class Rows(Mapping[str, Stored]):
        def __getitem__(self, key: str) -> Stored:
            looked_up.append(key)
            return stored(same)

        def __iter__(self) -> Iterator[str]:
            return iter(["002_comet"])

        def __len__(self) -> int:
            return 1

    catalog = Catalogued({"002_comet": Brief("sig-1", None)}, {}, Rows())
    assert list(steps([Seen("002_comet", "sig-1", "unchanged")], catalog)) == [
        Unchanged(("002_comet",))
    ]
    assert looked_up == []


def test_only_new_withdrawn_or_changed_files_are_read() -> None:
    assert must_read("sig-1", None)
    assert must_read("sig-1", Brief("sig-1", PUBLISHED))  # withdrawn: it may be back
    assert must_read("sig-2", Brief("sig-1", None))
    assert not must_read("sig-1", Brief("sig-1", None))


def test_a_rename_keeps_the_row_and_removes_nothing() -> None:
    old = article("002_comet")
    new = article("renamed comet")
    planned = plan([Seen("renamed comet", "sig-9", new)], [stored(old)])
    assert planned == (Rename(new, "sig-9", stored(old)),)
    assert kinds(planned) == [("Rename", "renamed comet")]


def test_a_rename_across_two_scans_finds_the_withdrawn_row() -> None:
    old = article("002_comet")
    first = plan([], [stored(old)])
    assert first == (Remove(stored(old)),)
    withdrawn = stored(old, removed="2024-03-01T10:30:00.000000Z")
    second = plan([Seen("renamed comet", "sig-9", article("renamed comet"))], [withdrawn])
    assert kinds(second) == [("Rename", "renamed comet")]
    assert second[0].old == withdrawn  # type: ignore[union-attr]


def test_a_rename_takes_a_gone_row_first_then_the_latest_withdrawn() -> None:
    content = article("x")
    rows = [
        stored(article("a_early")),
        stored(article("b_late"), removed="2024-03-02T00:00:00.000000Z"),
        stored(article("c_old"), removed="2024-03-01T00:00:00.000000Z"),
    ]
    rows = [replace(row, content_hash=content.content_hash) for row in rows]
    new = Seen("new", "sig", article("new"))
    planned = plan([new, Seen("copy", "sig", article("copy"))], rows)
    # One row per content is a candidate: the gone one; the other copy is a new article.
    assert [(type(s).__name__, s.key) for s in planned] == [("Rename", "new"), ("Add", "copy")]
    assert planned[0].old.key == "a_early"  # type: ignore[union-attr]
    planned = plan([new], rows[1:])
    assert planned[0].old.key == "b_late"  # type: ignore[union-attr]


def test_a_deleted_file_is_removed_after_everything_else_in_key_order() -> None:
    rows = [stored(article("b")), stored(article("a")), stored(article("c"), removed=PUBLISHED)]
    new = article("d", title="Other", body="Other.")
    planned = plan([Seen("d", "sig", new)], rows)
    assert kinds(planned) == [("Add", "d"), ("Remove", "a"), ("Remove", "b")]
    assert sections(planned[1]) == ("science",)


def test_a_withdrawn_file_that_comes_back_is_changed_not_edited() -> None:
    same = article("002_comet")
    withdrawn = stored(same, removed="2024-03-02T00:00:00.000000Z")
    planned = plan([Seen("002_comet", "sig-1", same)], [withdrawn])
    assert planned == (Change(same, "sig-1", withdrawn),)
    # Same content: the writer keeps its dates (it is live again, nothing was edited).
    assert withdrawn.content_hash == same.content_hash


def test_a_published_file_that_breaks_keeps_its_last_good_version() -> None:
    problem = Rejected("seeds/002_comet.txt", "empty", "is empty")
    planned = plan([Seen("002_comet", "sig-2", problem)], [stored(article("002_comet"))])
    assert planned == (Reject("002_comet", problem),)  # no change, no removal


def test_a_file_that_cannot_be_looked_at_is_rejected_and_still_present() -> None:
    problem = Rejected("seeds/002_comet.txt", "vanished", "disappeared while it was being read")
    planned = plan([Seen("002_comet", None, problem)], [stored(article("002_comet"))])
    assert planned == (Reject("002_comet", problem),)


def test_pending_files_count_as_present() -> None:
    planned = plan(
        [Seen("002_comet", "sig-2", "pending"), Seen("003_new", "sig", "pending")],
        [stored(article("002_comet"))],
    )
    assert planned == (Pending("002_comet"), Pending("003_new"))


def test_duplicate_titles_are_two_adds_the_writer_gives_slugs() -> None:
    first = article("003_again", body="Another one.")
    second = article("004_thrice", body="A third.")
    planned = plan([Seen("003_again", "s", first), Seen("004_thrice", "s", second)], [])
    assert planned == (Add(first, "s"), Add(second, "s"))


def test_same_content_twice_is_one_rename_and_one_add() -> None:
    old = article("002_comet")
    planned = plan(
        [Seen("copy_1", "s", article("copy_1")), Seen("copy_2", "s", article("copy_2"))],
        [stored(old)],
    )
    assert kinds(planned) == [("Rename", "copy_1"), ("Add", "copy_2")]


def test_steps_come_as_files_do_holding_one_article_at_a_time() -> None:
    consumed: list[str] = []

    def files() -> Iterator[Seen]:
        for key in ("a", "b", "c"):
            consumed.append(key)
            yield Seen(key, "sig", article(key, title=f"Title {key}"))

    planned = steps(files(), Catalogued({}, {}, {}))
    assert next(planned).key == "a"
    assert consumed == ["a"]
    assert [step.key for step in planned] == ["b", "c"]


def test_a_read_file_needs_a_signature() -> None:
    with pytest.raises(ValueError, match="signature"):
        plan([Seen("a", None, article("a"))], [])
