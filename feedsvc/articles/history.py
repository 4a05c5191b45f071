"""Dates of the article files from the git history of their folder, read in one pass.

A fresh clone has no catalog, and a checkout resets every file's mtime, but the history says
when each article was published and last changed, the same on every machine:

- `published`: the author date of the commit that added the file, following renames;
- `updated`: the author date of the last commit that changed its content (a pure rename is
  no change).

Only the first-parent line is read (what reached the published branch, and when: a file added
on a branch dates from its merge). Author dates survive a rebase or a cherry-pick, which
rewrite commit dates. A file with uncommitted changes has no `updated` here, and an
uncommitted one no dates at all: they count from the time they are first seen.

A shallow clone (most CI checkouts) holds only the last commits: every file would look added
by the oldest one. It is detected, and asking it for a date raises ShallowHistory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from feedsvc.articles.git_log import LOG_ARGS, FileDates, dates_of, uncommitted
from feedsvc.errors import FeedsvcError

__all__ = [
    "GIT_TIMEOUT",
    "FileDates",
    "History",
    "HistoryError",
    "ShallowHistory",
    "read_history",
    "work_tree",
]

# A history of 100,000 commits is read in a few seconds; past this, something is wrong.
GIT_TIMEOUT = 120.0
# Settings that would change what git prints (colours, signatures, pagers, quoting).
_QUIET = ("-c", "log.showSignature=false", "-c", "core.quotePath=false", "-c", "color.ui=false")
# The writer asks again on every change: a folder's dates are kept per process with the commit
# they are at, and a later commit reads only the commits since.
_LOGS: dict[Path, tuple[str, bool, dict[str, FileDates], datetime | None]] = {}
_KEPT_LOGS = 4
# A long history is read in this many parts at once (below _PART_FROM commits, in one).
_PARTS = max(1, min(4, os.cpu_count() or 1))
_PART_FROM = 1000
_UNSHALLOW = (
    "fetch the whole history (`git fetch --unshallow`, or `fetch-depth: 0` in "
    "actions/checkout), or set FEEDSVC_GIT_DATES=0 to date articles by first sight"
)


class HistoryError(FeedsvcError):
    """The articles' git history cannot be read (git missing, a damaged repository, …)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class ShallowHistory(HistoryError):
    """A date was asked of a shallow clone, which would give a wrong one."""


class History:
    """The git dates of the top-level `.txt` files of one folder of a work tree."""

    def __init__(
        self, folder: Path, dates: dict[str, FileDates], *, shallow: bool, first: datetime | None
    ) -> None:
        self.folder = folder
        self._dates = dates
        self.shallow = shallow
        self._first = first

    def __len__(self) -> int:
        return len(self._dates)

    def dates(self, name: str) -> FileDates | None:
        """Return the dates of the file `name` (e.g. 'a.txt'); None when it has no history.

        Raises ShallowHistory when the history is shallow and holds the file.
        """
        found = self._dates.get(name)
        if found is not None and self.shallow:
            raise ShallowHistory(
                str(self.folder / name), f"is dated by a shallow clone: {_UNSHALLOW}"
            )
        return found

    def first(self) -> datetime | None:
        """Return the date of the first commit of the folder's history (None: none yet)."""
        if self._first is not None and self.shallow:
            raise ShallowHistory(str(self.folder), f"is in a shallow clone: {_UNSHALLOW}")
        return self._first


def work_tree(folder: Path) -> Path | None:
    """Return the top of the git work tree holding `folder`, or None when there is none."""
    for place in (folder.resolve(), *folder.resolve().parents):
        if (place / ".git").exists():
            return place
    return None


def read_history(folder: Path, *, timeout: float = GIT_TIMEOUT) -> History | None:
    """Return the history of the article files in `folder`; None when it is in no work tree.

    Raises HistoryError when the folder is in a work tree whose history cannot be read.
    """
    top = work_tree(folder)
    if top is None:
        return None
    git = shutil.which("git")
    if git is None:
        raise HistoryError(
            str(folder),
            "is in a git work tree, but git is not installed: install git (article dates come "
            "from its history), or set FEEDSVC_GIT_DATES=0 to date articles by first sight",
        )
    where = folder.resolve()
    run = _Runner(git, where, timeout)
    inside = run("rev-parse", "--is-inside-work-tree", "--is-shallow-repository", "--show-prefix")
    lines = inside.decode("utf-8", "surrogateescape").split("\n")
    if lines[0] != "true":
        return None  # a bare repository or the .git folder itself: no work tree
    shallow, prefix = lines[1] == "true", lines[2]
    head = run.head()
    if head is None:
        return History(folder, {}, shallow=shallow, first=None)
    files, first = _files_at(run, where, head, shallow, prefix)
    dates = dict(files)
    status = run("status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", ".")
    for name in uncommitted(status, prefix):
        if name in dates:
            dates[name] = FileDates(dates[name].published, None, dates[name].first_name)
    return History(folder, dates, shallow=shallow, first=first)


def _files_at(
    run: _Runner, where: Path, head: str, shallow: bool, prefix: str
) -> tuple[dict[str, FileDates], datetime | None]:
    """Return the dates of the folder's files at commit `head`: from what this process read
    at an earlier commit and the commits since, or from the whole history."""
    kept = _LOGS.get(where)
    if kept is not None and kept[:2] == (head, shallow):
        return kept[2], kept[3]
    if (
        kept is not None
        and kept[1] == shallow
        and run.ok("merge-base", "--is-ancestor", kept[0], head)
    ):
        files, first = dates_of(
            run(*LOG_ARGS, f"^{kept[0]}", head, "--", "."), prefix, kept[2], kept[3]
        )
    else:
        files, first = dates_of(_whole_log(run, head), prefix)
    _LOGS.pop(where, None)
    _LOGS[where] = (head, shallow, files, first)
    while len(_LOGS) > _KEPT_LOGS:
        del _LOGS[next(iter(_LOGS))]
    return files, first


def _whole_log(run: _Runner, head: str) -> bytes:
    """Return the log of every commit up to `head`, oldest first, read in parts at once (each
    commit's diff costs the size of the folder: a long history of a large flat folder is
    bound by the processor)."""
    count = int(run("rev-list", "--first-parent", "--count", head))
    parts = _PARTS if count >= _PART_FROM else 1
    cuts = [f"{head}~{count * (parts - k) // parts}" for k in range(1, parts)]
    ranges = [
        (*([f"^{cuts[k - 1]}"] if k else []), cuts[k] if k < len(cuts) else head)
        for k in range(parts)
    ]
    with ThreadPoolExecutor(parts) as pool:
        logs = list(pool.map(lambda span: run(*LOG_ARGS, *span, "--", "."), ranges))
    return b"".join(logs)


class _Runner:
    """Run git in one folder, bounded in time; its failures become HistoryErrors."""

    def __init__(self, git: str, where: Path, timeout: float) -> None:
        self.git, self.where, self.timeout = git, where, timeout

    def _run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        environ = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_PAGER": "cat"}
        environ.pop("GIT_DIR", None)
        environ.pop("GIT_WORK_TREE", None)
        try:
            return subprocess.run(  # noqa: S603 - git, with fixed arguments
                [self.git, *_QUIET, *args],
                cwd=self.where,
                capture_output=True,
                timeout=self.timeout,
                env=environ,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise HistoryError(
                str(self.where),
                f"reading its git history took over {self.timeout:.0f} s: set FEEDSVC_GIT_DATES=0 "
                "to date articles by first sight, or give them front-matter dates",
            ) from None
        except OSError as exc:
            raise HistoryError(str(self.where), f"cannot run git: {exc.strerror}") from exc

    def __call__(self, *args: str) -> bytes:
        done = self._run(*args)
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", "replace").strip().splitlines()
            reason = said[-1] if said else f"exit status {done.returncode}"
            raise HistoryError(
                str(self.where),
                f"git cannot read its history ({reason}): repair the clone, or set "
                "FEEDSVC_GIT_DATES=0 to date articles by first sight",
            )
        return done.stdout

    def ok(self, *args: str) -> bool:
        """Return whether git answers yes (exit status 0)."""
        return self._run(*args).returncode == 0

    def head(self) -> str | None:
        """Return the commit checked out; None before the first commit."""
        done = self._run("rev-parse", "--verify", "--quiet", "HEAD")
        return done.stdout.decode("ascii", "replace").strip() if done.returncode == 0 else None
