"""The articles' git history: real repositories, commits at set dates."""

from __future__ import annotations

import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest

from feedsvc.articles.history import HistoryError, ShallowHistory, read_history
from tests.conftest import article_text
from tests.gitrepo import DAY0, Repo

DAY = timedelta(days=1)


LONG = " ".join(["A paragraph long enough for git to see a renamed file as the same one."] * 4)


def text(title: str, body: str = "Body.") -> str:
    return article_text("World", title, [LONG, body])


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "newsroom")


def test_a_folder_outside_git_has_no_history(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    assert read_history(folder) is None


def test_added_and_changed_dates_follow_renames(repo: Repo) -> None:
    repo.write("articles/a.txt", text("A"))
    repo.write("articles/b.txt", text("B"))
    repo.commit("two articles", DAY0)
    repo.git("mv", "articles/a.txt", "articles/a-renamed.txt")
    repo.commit("a pure rename", DAY0 + DAY)
    repo.write("articles/b.txt", text("B", "Corrected."))
    repo.commit("an edit", DAY0 + 2 * DAY)
    repo.git("mv", "articles/b.txt", "articles/b2.txt")
    repo.write("articles/b2.txt", text("B", "Corrected again, and renamed."))
    repo.commit("a rename with an edit", DAY0 + 3 * DAY)

    history = read_history(repo.top / "articles")
    assert history is not None
    assert history.first() == DAY0
    renamed = history.dates("a-renamed.txt")
    assert renamed is not None
    assert (renamed.published, renamed.updated) == (DAY0, DAY0)  # a rename is no change
    edited = history.dates("b2.txt")
    assert edited is not None
    assert (edited.published, edited.updated) == (DAY0, DAY0 + 3 * DAY)
    assert history.dates("a.txt") is None
    assert history.dates("b.txt") is None


def test_a_file_added_on_a_branch_dates_from_its_merge(repo: Repo) -> None:
    repo.write("articles/first.txt", text("First"))
    repo.commit("first", DAY0)
    repo.git("checkout", "-q", "-b", "draft")
    repo.write("articles/drafted.txt", text("Drafted"))
    repo.commit("drafted on a branch", DAY0 + DAY)
    repo.git("checkout", "-q", "main")
    repo.write("articles/other.txt", text("Other"))
    repo.commit("meanwhile on main", DAY0 + 2 * DAY)
    repo.git("merge", "-q", "--no-ff", "-m", "publish the draft", "draft", when=DAY0 + 3 * DAY)

    history = read_history(repo.top / "articles")
    assert history is not None
    drafted = history.dates("drafted.txt")
    assert drafted is not None
    assert drafted.published == DAY0 + 3 * DAY  # when it reached the published branch
    other = history.dates("other.txt")
    assert other is not None
    assert other.published == DAY0 + 2 * DAY


def test_a_file_added_in_the_merge_commit_itself(repo: Repo) -> None:
    repo.write("articles/first.txt", text("First"))
    repo.commit("first", DAY0)
    repo.git("checkout", "-q", "-b", "side")
    repo.write("articles/side.txt", text("Side"))
    repo.commit("side", DAY0 + DAY)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-commit", "--no-ff", "side", when=DAY0 + 2 * DAY)
    repo.write("articles/in-merge.txt", text("Written while merging"))
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "merge", when=DAY0 + 2 * DAY)

    history = read_history(repo.top / "articles")
    assert history is not None
    in_merge = history.dates("in-merge.txt")
    assert in_merge is not None
    assert in_merge.published == DAY0 + 2 * DAY


def test_uncommitted_files_and_changes_have_no_git_date(repo: Repo) -> None:
    repo.write("articles/kept.txt", text("Kept"))
    repo.write("articles/edited.txt", text("Edited"))
    repo.commit("two", DAY0)
    repo.write("articles/edited.txt", text("Edited", "Not committed yet."))
    repo.write("articles/new.txt", text("New"))

    history = read_history(repo.top / "articles")
    assert history is not None
    edited = history.dates("edited.txt")
    assert edited is not None
    assert (edited.published, edited.updated) == (DAY0, None)
    assert history.dates("new.txt") is None
    kept = history.dates("kept.txt")
    assert kept is not None
    assert kept.updated == DAY0


def test_a_rebase_keeps_author_dates(repo: Repo) -> None:
    repo.write("articles/a.txt", text("A"))
    repo.commit("a", DAY0)
    repo.write("articles/b.txt", text("B"))
    repo.commit("b", DAY0 + DAY)
    # Rewrite the last commit on a later day: its commit date moves, its author date stays.
    repo.git("commit", "-q", "--amend", "-m", "b, reworded", when=DAY0 + 5 * DAY, rewrite=True)
    assert repo.git("log", "-1", "--format=%ct") == f"{int((DAY0 + 5 * DAY).timestamp())}\n"
    history = read_history(repo.top / "articles")
    assert history is not None
    dates = history.dates("b.txt")
    assert dates is not None
    # --amend without --reset-author keeps the author date of the original commit.
    assert dates.published == DAY0 + DAY


def test_only_top_level_article_files_count(repo: Repo) -> None:
    repo.write("articles/a.txt", text("A"))
    repo.write("articles/notes/b.txt", text("B"))
    repo.write("articles/c.md", "not an article")
    repo.write("README.txt", "outside the folder")
    repo.commit("mixed", DAY0)
    history = read_history(repo.top / "articles")
    assert history is not None
    assert len(history) == 1


def test_the_folder_as_the_top_of_the_work_tree(repo: Repo) -> None:
    repo.write("a.txt", text("A"))
    repo.commit("a", DAY0)
    history = read_history(repo.top)
    assert history is not None
    dates = history.dates("a.txt")
    assert dates is not None
    assert dates.published == DAY0


def test_a_repository_without_commits(repo: Repo) -> None:
    repo.write("articles/a.txt", text("A"))
    history = read_history(repo.top / "articles")
    assert history is not None
    assert history.dates("a.txt") is None
    assert history.first() is None


def test_a_shallow_clone_is_detected(repo: Repo, tmp_path: Path) -> None:
    for day in range(3):
        repo.write(f"articles/a{day}.txt", text(f"A{day}"))
        repo.commit(f"day {day}", DAY0 + day * DAY)
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo.top}", str(clone)], check=True
    )
    history = read_history(clone / "articles")
    assert history is not None
    assert history.shallow
    with pytest.raises(ShallowHistory, match="git fetch --unshallow"):
        history.dates("a0.txt")
    with pytest.raises(ShallowHistory):
        history.first()
    assert history.dates("absent.txt") is None  # no date asked of it: nothing to refuse


def test_a_damaged_repository_says_so(repo: Repo) -> None:
    repo.write("articles/a.txt", text("A"))
    repo.commit("a", DAY0)
    head = (repo.top / ".git" / "HEAD").read_text()
    ref = repo.top / ".git" / head.split()[1]
    ref.write_text("0" * 40 + "\n")  # a branch pointing at no object
    with pytest.raises(HistoryError, match="FEEDSVC_GIT_DATES=0"):
        read_history(repo.top / "articles")


def test_garbage_in_dot_git_says_so(repo: Repo) -> None:
    shutil.rmtree(repo.top / ".git")
    (repo.top / ".git").write_text("gitdir: /nowhere/at/all\n")
    (repo.top / "articles").mkdir()
    with pytest.raises(HistoryError, match="git cannot read its history"):
        read_history(repo.top / "articles")


def test_git_not_installed(repo: Repo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (repo.top / "articles").mkdir()
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(HistoryError, match="git is not installed"):
        read_history(repo.top / "articles")


def test_articles_in_a_submodule(repo: Repo, tmp_path: Path) -> None:
    inner = Repo(tmp_path / "inner")
    inner.write("a.txt", text("A"))
    inner.commit("a", DAY0 + DAY)
    repo.write("README", "site")
    repo.commit("site", DAY0)
    repo.git(
        "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner.top), "articles"
    )
    repo.commit("articles as a submodule", DAY0 + 2 * DAY)
    history = read_history(repo.top / "articles")
    assert history is not None
    dates = history.dates("a.txt")
    assert dates is not None
    assert dates.published == DAY0 + DAY  # the submodule's own history


@pytest.mark.slow
def test_a_long_history_is_read_in_one_bounded_pass(repo: Repo) -> None:
    """10,000 commits, each adding or editing one article (made with git fast-import); the
    benchmarks read 100,000."""
    commits, files = 10_000, 2_000
    stream = []
    for number in range(commits):
        when = int(DAY0.timestamp()) + number * 60
        name = f"articles/a{number % files:05d}.txt"
        body = f"World\n\nTitle {number % files}\n\nVersion {number // files}.".encode()
        stream.append(
            b"commit refs/heads/main\n"
            + f"author E <e@x> {when} +0000\ncommitter E <e@x> {when} +0000\n".encode()
            + b"data 1\nc\n"
            + f"M 100644 inline {name}\ndata {len(body)}\n".encode()
            + body
            + b"\n\n"
        )
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=repo.top, input=b"".join(stream), check=True
    )
    repo.git("checkout", "-q", "-f", "main")
    started = time.monotonic()
    history = read_history(repo.top / "articles", timeout=60)
    took = time.monotonic() - started
    assert history is not None
    assert len(history) == files
    last = history.dates("a01999.txt")
    assert last is not None
    assert last.published == DAY0 + timedelta(minutes=1999)
    assert last.updated == DAY0 + timedelta(minutes=commits - 1)
    assert took < 60  # bounded by the timeout: a slower read raises instead


def test_a_history_slower_than_its_bound_is_an_error(repo: Repo) -> None:
    repo.write("articles/a.txt", text("A"))
    repo.commit("a", DAY0)
    with pytest.raises(HistoryError, match="took over"):
        read_history(repo.top / "articles", timeout=0.000001)


def test_a_later_commit_reads_only_what_came_since_and_agrees(repo: Repo) -> None:
    from feedsvc.articles import history as module

    repo.write("articles/a.txt", text("A"))
    repo.write("articles/b.txt", text("B"))
    repo.commit("a, b", DAY0)
    assert read_history(repo.top / "articles") is not None  # kept for this folder and commit
    repo.git("mv", "articles/a.txt", "articles/a2.txt")
    repo.write("articles/b.txt", text("B", "Edited."))
    repo.write("articles/c.txt", text("C"))
    repo.commit("rename a, edit b, add c", DAY0 + DAY)
    repo.git("rm", "-q", "articles/c.txt")
    repo.commit("remove c", DAY0 + 2 * DAY)
    carried_on = read_history(repo.top / "articles")
    module._LOGS.clear()
    from_scratch = read_history(repo.top / "articles")
    assert carried_on is not None
    assert from_scratch is not None
    names = ("a.txt", "a2.txt", "b.txt", "c.txt")
    assert [carried_on.dates(n) for n in names] == [from_scratch.dates(n) for n in names]
    assert carried_on.first() == from_scratch.first() == DAY0
    b = carried_on.dates("b.txt")
    assert b is not None
    assert b.updated == DAY0 + DAY
