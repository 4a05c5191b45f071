"""Real git repositories for tests: commits at set dates, made with the git command."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

DAY0 = datetime(2025, 1, 6, 8, 0, 0, tzinfo=UTC)


class Repo:
    """A git work tree in a test folder; every commit is dated by the caller."""

    def __init__(self, top: Path) -> None:
        self.top = top
        top.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, when: datetime | None = None, rewrite: bool = False) -> str:
        """Run git in the work tree; return what it printed.

        `rewrite` sets only the commit date (as a rebase or an amend does, keeping authors').
        """
        stamp = f"@{int((when or DAY0).timestamp())} +0000"
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "Editor",
            "GIT_AUTHOR_EMAIL": "editor@example.org",
            "GIT_COMMITTER_NAME": "Editor",
            "GIT_COMMITTER_EMAIL": "editor@example.org",
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(self.top),
        }
        if rewrite:
            del env["GIT_AUTHOR_DATE"]
        done = subprocess.run(
            ["git", *args], cwd=self.top, env=env, capture_output=True, text=True, check=True
        )
        return done.stdout

    def write(self, path: str, text: str) -> Path:
        """Write a file of the work tree (not yet committed)."""
        target = self.top / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def commit(self, message: str, when: datetime) -> None:
        """Commit everything in the work tree at `when` (author and committer date)."""
        self.git("add", "-A", when=when)
        self.git("commit", "-q", "--allow-empty", "-m", message, when=when)
